"""Template tags of capacity."""
