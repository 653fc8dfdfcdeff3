"""Carte's benchmark harness: `carte bench seed` loads bench data, `carte bench run` times it."""
