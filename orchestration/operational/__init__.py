"""Derived values written back where the spec says they live: the operational tables in public."""
