"""``python -m hxredis.cli``: the ``hxredis`` command line."""

from . import run

run()
