"""Placeholder: Haystack filters (being written)."""


class Filter:
    pass
