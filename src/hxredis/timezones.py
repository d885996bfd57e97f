"""Placeholder: timezones (being written)."""


def tz(name):
    raise NotImplementedError


def tz_name(z):
    raise NotImplementedError
