"""Placeholder: Zinc codec (being written)."""
