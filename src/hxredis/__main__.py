"""``python -m hxredis``: the ``hxredis`` command line."""

from .cli import run

run()
