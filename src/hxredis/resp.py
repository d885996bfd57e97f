"""RESP2 command encoding, the wire format Redis reads.

:func:`pack_command` and :func:`pack_commands` use the native encoder of
``hxredis._fastcore.resp`` when the extension is built and the pure-Python reference
(:func:`py_pack_command`) otherwise.  Both give exactly the bytes redis-py's
``Connection.pack_command`` sends for the same arguments: a first argument containing
spaces is split into several (``"CONFIG GET"``), ``str`` is UTF-8, ``int`` and ``float``
are written with ``repr``, bytes-like values are sent as they are; anything else (bool,
None, other objects) raises :class:`TypeError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from . import _fastcore

__all__ = ["NATIVE", "pack_command", "pack_commands", "py_pack_command", "py_pack_commands"]

Arg = bytes | bytearray | memoryview | str | int | float


def _encode(arg: Arg) -> bytes:
    if isinstance(arg, (bytes, bytearray, memoryview)):
        return bytes(arg)
    if isinstance(arg, bool) or not isinstance(arg, (int, float, str)):
        raise TypeError(
            f"Invalid input of type: '{type(arg).__name__}'. "
            "Convert to a bytes, string, int or float first."
        )
    if isinstance(arg, str):
        return arg.encode("utf-8")
    return repr(arg).encode()


def py_pack_command(*args: Arg) -> bytes:
    """Reference encoder: the RESP bytes of one command."""
    if not args:
        raise ValueError("a command needs at least a name")
    first = args[0]
    if isinstance(first, str):
        args = (*first.encode().split(), *args[1:])
    elif isinstance(first, (bytes, bytearray, memoryview)) and b" " in first:
        args = (*bytes(first).split(), *args[1:])
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = _encode(arg)
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def py_pack_commands(commands: Iterable[Sequence[Arg]]) -> bytes:
    """Reference encoder: several commands, concatenated."""
    return b"".join(py_pack_command(*command) for command in commands)


_native = _fastcore.load("resp")
NATIVE = _native is not None
pack_command = _native.pack_command if _native else py_pack_command
pack_commands = _native.pack_commands if _native else py_pack_commands
