"""Forms of the operations pages, one module per part."""
