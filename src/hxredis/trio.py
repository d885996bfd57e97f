"""Placeholder: Trio codec (being written)."""
