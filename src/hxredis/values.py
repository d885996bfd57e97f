"""Placeholder: Haystack value kinds (being written)."""

__all__: list[str] = []
