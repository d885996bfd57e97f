# cython: language_level=3
"""RESP2 command encoding: argument lists to the bytes a Redis server reads.

Reference implementation: ``hxredis.resp.py_pack_command``; both produce exactly what
redis-py's ``Connection.pack_command`` sends for the same arguments.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.stdio cimport snprintf
from libc.string cimport memcpy


cdef class WriteBuffer:
    """A growable byte buffer for building RESP commands without intermediate objects."""

    cdef char* _data
    cdef Py_ssize_t _size
    cdef Py_ssize_t _len

    def __cinit__(self, Py_ssize_t capacity=256):
        self._size = capacity if capacity > 16 else 16
        self._data = <char*>PyMem_Malloc(self._size)
        if self._data is NULL:
            raise MemoryError()
        self._len = 0

    def __dealloc__(self):
        PyMem_Free(self._data)

    def __len__(self):
        return self._len

    cdef inline int _reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t need = self._len + extra
        cdef Py_ssize_t new_size
        cdef char* grown
        if need <= self._size:
            return 0
        new_size = self._size * 2
        while new_size < need:
            new_size *= 2
        grown = <char*>PyMem_Realloc(self._data, new_size)
        if grown is NULL:
            raise MemoryError()
        self._data = grown
        self._size = new_size
        return 0

    cdef inline int write_raw(self, const char* data, Py_ssize_t n) except -1:
        self._reserve(n)
        memcpy(self._data + self._len, data, n)
        self._len += n
        return 0

    cdef inline int write_header(self, char kind, long long n) except -1:
        """``<kind><n>\\r\\n``, e.g. ``*3\\r\\n`` or ``$5\\r\\n``."""
        self._reserve(24)
        self._len += snprintf(self._data + self._len, 24, "%c%lld\r\n", kind, n)
        return 0

    cdef int write_bulk(self, const char* data, Py_ssize_t n) except -1:
        self.write_header(b'$', n)
        self._reserve(n + 2)
        memcpy(self._data + self._len, data, n)
        self._data[self._len + n] = b'\r'
        self._data[self._len + n + 1] = b'\n'
        self._len += n + 2
        return 0

    cdef int write_bulk_obj(self, object arg) except -1:
        """One argument as a bulk string, encoded as redis-py's Encoder does."""
        cdef bytes data
        cdef char digits[24]
        cdef int n
        if type(arg) is bytes:
            data = <bytes>arg
        elif type(arg) is str:
            data = (<str>arg).encode("utf-8")
        elif type(arg) is int:
            try:
                n = snprintf(digits, 24, "%lld", <long long>arg)
                return self.write_bulk(digits, n)
            except OverflowError:
                data = str(arg).encode()
        elif type(arg) is float:
            data = repr(arg).encode()
        else:
            data = _encode_other(arg)
        return self.write_bulk(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))

    def add_command(self, *args):
        """Append one command (redis-py's first-argument splitting included)."""
        args = _split_name(args)
        self.write_header(b'*', len(args))
        for arg in args:
            self.write_bulk_obj(arg)

    def getvalue(self):
        """The bytes written so far."""
        return PyBytes_FromStringAndSize(self._data, self._len)

    def clear(self):
        """Forget the contents, keep the memory."""
        self._len = 0


cdef object _encode_other(object arg):
    if isinstance(arg, (bytearray, memoryview)):
        return bytes(arg)
    if isinstance(arg, bool):
        raise TypeError(
            "Invalid input of type: 'bool'. Convert to a bytes, string, int or float first."
        )
    if isinstance(arg, (int, float)):
        return repr(arg).encode()
    if isinstance(arg, str):
        return str.encode(arg, "utf-8")
    if isinstance(arg, bytes):
        return bytes(arg)
    raise TypeError(
        f"Invalid input of type: '{type(arg).__name__}'. "
        "Convert to a bytes, string, int or float first."
    )


cdef tuple _split_name(tuple args):
    if not args:
        raise ValueError("a command needs at least a name")
    first = args[0]
    if isinstance(first, str):
        return tuple(first.encode().split()) + args[1:]
    if isinstance(first, (bytes, bytearray, memoryview)) and b" " in first:
        return tuple(bytes(first).split()) + args[1:]
    return args


def pack_command(*args):
    """The RESP bytes of one command; same result as redis-py's ``Connection.pack_command``."""
    cdef WriteBuffer buf = WriteBuffer(64)
    buf.add_command(*args)
    return buf.getvalue()


def pack_commands(commands):
    """The RESP bytes of several commands (each a sequence of arguments), concatenated."""
    cdef WriteBuffer buf = WriteBuffer(1024)
    for command in commands:
        buf.add_command(*command)
    return buf.getvalue()
