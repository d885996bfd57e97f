# cython: language_level=3
"""History bulk wire format: numpy arrays to RESP commands and RESP replies to numpy arrays,
with no Python object per sample.

References (same results, byte for byte): ``hxredis.his.wire.py_*``.  Values are written and
read by the exact conversions of ``floattext.h`` (``repr`` and ``float()``, byte for byte).
"""

import numpy as np

cimport numpy as cnp
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_FromString
from cpython.object cimport PyObject
from libc.math cimport isfinite, isnan, NAN, INFINITY
from libc.stdint cimport int64_t, uint64_t
from libc.string cimport memchr, memcmp, memcpy

cnp.import_array()

cdef extern from "floattext.h":
    int HX_POW_MIN
    int HX_POW_MAX
    void hx_set_power(int k, uint64_t hi, uint64_t lo, int exp)
    void hx_powers_ready()
    int hx_format_double(char* out, double v) except -1 nogil
    int hx_write_u64(char* out, uint64_t u) noexcept nogil
    bint hx_parse_decimal(const char* p, Py_ssize_t n, double* out)


cdef int fill_powers() except -1:
    """The table of floattext.h from exact integers: 10^k truncated to 128 bits and its binary
    exponent."""
    for k in range(HX_POW_MIN, HX_POW_MAX + 1):  # Python ints: 10**k exact
        if k >= 0:
            power = 10**k
            exp = power.bit_length() - 128
            mant = power >> exp if exp >= 0 else power << -exp
        else:
            power = 10**-k
            exp = -(power.bit_length() + 127)
            mant = (1 << -exp) // power
        hx_set_power(k, mant >> 64, mant & 0xFFFFFFFFFFFFFFFF, exp)
    hx_powers_ready()
    return 0


fill_powers()


cdef extern from "Python.h":
    # raw references for a bytes object built in place and shrunk to its length at the end
    PyObject* new_bytes "PyBytes_FromStringAndSize"(const char* v, Py_ssize_t n) except NULL
    char* bytes_data "PyBytes_AS_STRING"(PyObject* o)
    int _PyBytes_Resize(PyObject** b, Py_ssize_t n) except -1
    void decref "Py_DECREF"(PyObject* o)


cdef bytes shrunk(PyObject* out, Py_ssize_t n):
    """The bytes object ``out`` (a new reference) cut to its first ``n`` bytes."""
    _PyBytes_Resize(&out, n)  # frees ``out`` when it fails
    result = <bytes>out
    decref(out)
    return result


cdef inline char* put_int(char* out, int64_t v) noexcept nogil:
    """Decimal ``v`` at ``out`` (at most 20 bytes); the position after it."""
    if v < 0:
        out[0] = b'-'
        return out + 1 + hx_write_u64(out + 1, <uint64_t>(-(v + 1)) + 1)
    return out + hx_write_u64(out, <uint64_t>v)


cdef inline char* put_bulk(char* out, const char* data, int n) noexcept nogil:
    """``$<n>\r\n<data>\r\n`` at ``out`` (``n`` < 100); the position after it."""
    out[0] = b'$'
    if n >= 10:
        out[1] = <char>(48 + n // 10)  # '0' + tens
        out[2] = <char>(48 + n % 10)
        out += 3
    else:
        out[1] = <char>(48 + n)
        out += 2
    out[0] = b'\r'
    out[1] = b'\n'
    memcpy(out + 2, data, n)
    out += 2 + n
    out[0] = b'\r'
    out[1] = b'\n'
    return out + 2


cdef inline int format_code(char* out, double v) except -1 nogil:
    """The history code of a float (``repr``: ``1.5``, ``1.0``, ``nan``, ``inf``); its length
    (at most 32)."""
    if isnan(v):
        memcpy(out, b"nan", 3)
        return 3
    return hx_format_double(out, v)


def format_float(double v):
    """The history code of ``v`` as the builders write it (test hook of ``format_code``)."""
    cdef char out[40]
    cdef int n = format_code(out, v)
    return PyBytes_FromStringAndSize(out, n)


# Per sample at most: a timestamp bulk (1 + 2 + 2 + 20 + 2) and a value bulk (1 + 2 + 2 + 32
# + 2), or a ZADD member bulk (1 + 2 + 2 + 20 + 1 + 32 + 2); the buffer is cut to size after.
cdef enum:
    STAMP_MAX = 27
    VALUE_MAX = 39
    MEMBER_MAX = 60


def ts_madd(bytes key, const int64_t[::1] ts, const double[::1] vals, int64_t offset):
    """One ``TS.MADD key t v ...`` command: timestamps ``ts + offset``, values as ``repr``
    of the float, a non-finite value written as ``0`` (its placeholder, see
    hxredis.his.timeseries)."""
    cdef Py_ssize_t n = ts.shape[0], i
    if vals.shape[0] != n:
        raise ValueError("ts and vals differ in length")
    cdef bytes head = b"*%d\r\n$7\r\nTS.MADD\r\n" % (1 + 3 * n)
    cdef bytes kbulk = b"$%d\r\n%s\r\n" % (len(key), key)
    cdef const char* kb = kbulk
    cdef Py_ssize_t kblen = len(kbulk)
    cdef char digits[24]
    cdef char code[40]
    cdef int k
    cdef PyObject* out = new_bytes(NULL, len(head) + n * (kblen + STAMP_MAX + VALUE_MAX))
    cdef char* p = bytes_data(out)
    cdef char* start = p
    try:
        memcpy(p, <const char*>head, len(head))
        p += len(head)
        with nogil:  # the sending thread runs meanwhile (see hxredis.his.bulk)
            for i in range(n):
                memcpy(p, kb, kblen)
                p += kblen
                p = put_bulk(p, digits, put_int(digits, ts[i] + offset) - digits)
                if isfinite(vals[i]):
                    k = format_code(code, vals[i])
                    p = put_bulk(p, code, k)
                else:
                    p = put_bulk(p, b"0", 1)
    except BaseException:
        decref(out)
        raise
    return shrunk(out, p - start)


def zadd(bytes key, const int64_t[::1] ts, const double[::1] vals, int64_t offset):
    """One ``ZADD key s m ...`` command: score ``t + offset``, member ``<t + offset>:<code>``
    (code the ``repr`` of the float; ``nan``, ``inf``, ``-inf`` for the others)."""
    cdef Py_ssize_t n = ts.shape[0], i
    if vals.shape[0] != n:
        raise ValueError("ts and vals differ in length")
    cdef bytes head = b"*%d\r\n$4\r\nZADD\r\n$%d\r\n%s\r\n" % (2 + 2 * n, len(key), key)
    cdef char member[72]
    cdef int k, c
    cdef PyObject* out = new_bytes(NULL, len(head) + n * (STAMP_MAX + MEMBER_MAX))
    cdef char* p = bytes_data(out)
    cdef char* start = p
    try:
        memcpy(p, <const char*>head, len(head))
        p += len(head)
        with nogil:
            for i in range(n):
                k = put_int(member, ts[i] + offset) - member
                p = put_bulk(p, member, k)
                member[k] = b':'
                c = format_code(member + k + 1, vals[i])
                p = put_bulk(p, member, k + 1 + c)
    except BaseException:
        decref(out)
        raise
    return shrunk(out, p - start)


# ---------------------------------------------------------------------------------------------
# replies
# ---------------------------------------------------------------------------------------------

cdef inline Py_ssize_t line_end(const char* p, Py_ssize_t pos, Py_ssize_t end):
    """Position of the ``\\r`` ending the line at ``pos``, or -1 if incomplete."""
    cdef const char* cr
    while pos + 1 < end:
        cr = <const char*>memchr(p + pos, 13, end - pos - 1)  # a '\r' with a byte after it
        if cr is NULL:
            return -1
        pos = cr - p
        if p[pos + 1] == b'\n':
            return pos
        pos += 1
    return -1


cdef inline int64_t parse_int(const char* p, Py_ssize_t start, Py_ssize_t stop) except? -1:
    cdef int64_t v = 0
    cdef bint neg = False
    if start < stop and p[start] == b'-':
        neg = True
        start += 1
    if start >= stop:
        raise ValueError("malformed RESP integer")
    while start < stop:
        if not (b'0' <= p[start] <= b'9'):
            raise ValueError("malformed RESP integer")
        v = v * 10 + (p[start] - 48)  # digit value
        start += 1
    return -v if neg else v


cdef Py_ssize_t skip(const char* p, Py_ssize_t pos, Py_ssize_t end, list errors) except -2:
    """End of the reply at ``pos`` (-1 if incomplete); error replies inside go to ``errors``.
    RESP2 and RESP3 (redis-py may speak either)."""
    cdef Py_ssize_t eol, i
    cdef int64_t n
    cdef char kind
    if pos >= end:
        return -1
    eol = line_end(p, pos, end)
    if eol < 0:
        return -1
    kind = p[pos]
    if kind == b'-':
        errors.append(PyBytes_FromStringAndSize(p + pos + 1, eol - pos - 1).decode())
        return eol + 2
    if kind in b'+:,_#(':
        return eol + 2
    n = parse_int(p, pos + 1, eol)
    if kind in b'$=!':
        if n < 0:
            return eol + 2
        if eol + 2 + n + 2 > end:
            return -1
        if kind == b'!':
            errors.append(PyBytes_FromStringAndSize(p + eol + 2, n).decode())
        return eol + 2 + n + 2
    if kind in b'*~>%':
        if kind == b'%':
            n *= 2
        pos = eol + 2
        for i in range(n):
            pos = skip(p, pos, end, errors)
            if pos < 0:
                return -1
        return pos
    raise ValueError(f"unexpected RESP type byte {kind!r}")


def skip_reply(bytes data, Py_ssize_t pos):
    """``(end, errors)``: where the reply starting at ``pos`` ends (-1 when ``data`` holds
    only part of it) and the texts of the error replies in it."""
    cdef list errors = []
    cdef Py_ssize_t stop = skip(PyBytes_AS_STRING(data), pos, PyBytes_GET_SIZE(data), errors)
    return stop, errors


cdef enum:
    MAX_DEPTH = 64


cdef class ReplyScanner:
    """Finds where one reply ends in data that arrives in pieces, looking at each byte once.

    ``reset()`` starts a reply; ``feed(piece, pos)`` scans ``piece[pos:]`` and returns the
    position in ``piece`` just past the reply's end, or -1 when the piece ended first (its
    bytes are accounted for: feed the next piece at 0).  ``errors`` holds the texts of the
    error replies met.  RESP2 and RESP3.  Reference: ``hxredis.his.wire.PyReplyScanner``."""

    cdef int64_t counts[MAX_DEPTH]
    cdef int depth
    cdef int64_t skip_left
    cdef bint collect
    cdef bytearray line
    cdef bytearray blob
    cdef readonly list errors

    def __cinit__(self):
        self.reset()

    def reset(self):
        """Start scanning a new reply."""
        self.depth = 0
        self.skip_left = 0
        self.collect = False
        self.line = bytearray()
        self.blob = bytearray()
        self.errors = []

    cdef bint complete_one(self):
        """One element is complete: True when that completes the reply."""
        while self.depth > 0:
            self.counts[self.depth - 1] -= 1
            if self.counts[self.depth - 1] > 0:
                return False
            self.depth -= 1
        return True

    cdef bint header(self, const char* h, Py_ssize_t n) except -1:
        """Handle the header line ``h[:n]`` (no CRLF): True when it completes the reply."""
        cdef char kind
        cdef int64_t count
        if n == 0:
            raise ValueError("empty RESP line")
        kind = h[0]
        if kind == b'-':
            self.errors.append(PyBytes_FromStringAndSize(h + 1, n - 1).decode())
            return self.complete_one()
        if kind in b'+:,_#(':
            return self.complete_one()
        count = parse_int(h, 1, n)
        if kind in b'$=!':
            if count < 0:
                return self.complete_one()
            self.skip_left = count + 2
            self.collect = kind == b'!'
            return False
        if kind in b'*~>%':
            if kind == b'%':
                count *= 2
            if count <= 0:
                return self.complete_one()
            if self.depth == MAX_DEPTH:
                raise ValueError("RESP reply nested too deeply")
            self.counts[self.depth] = count
            self.depth += 1
            return False
        raise ValueError(f"unexpected RESP type byte {kind!r}")

    def feed(self, bytes piece, Py_ssize_t pos):
        """Scan ``piece[pos:]``: the reply's end in ``piece``, or -1 (see the class)."""
        cdef const char* p = PyBytes_AS_STRING(piece)
        cdef Py_ssize_t end = PyBytes_GET_SIZE(piece), take, eol, n
        cdef bytes text
        if pos < 0 or pos > end:
            raise ValueError("position outside the piece")
        while True:
            if self.skip_left:
                take = min(self.skip_left, end - pos)
                if self.collect:
                    self.blob += piece[pos:pos + take]
                pos += take
                self.skip_left -= take
                if self.skip_left:
                    return -1
                if self.collect:
                    self.errors.append(bytes(self.blob[:len(self.blob) - 2]).decode())
                    self.blob = bytearray()
                    self.collect = False
                if self.complete_one():
                    return pos
                continue
            if len(self.line):  # a header line began in an earlier piece
                if pos == end:
                    return -1
                if self.line[len(self.line) - 1] == 13 and p[pos] == b'\n':
                    text = bytes(self.line[:len(self.line) - 1])
                    pos += 1
                else:
                    eol = line_end(p, pos, end)
                    if eol < 0:
                        self.line += piece[pos:end]
                        return -1
                    text = bytes(self.line) + piece[pos:eol]
                    pos = eol + 2
                self.line = bytearray()
                if self.header(PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text)):
                    return pos
                continue
            eol = line_end(p, pos, end)
            if eol < 0:
                self.line += piece[pos:end]
                return -1
            n = eol - pos
            if self.header(p + pos, n):
                return eol + 2
            pos = eol + 2


cdef double parse_code(const char* p, Py_ssize_t start, Py_ssize_t stop) except? -1.0:
    """The float of a history code as ``float()`` reads it: ``inf``, ``-inf``; NaN for NA and
    non-numbers (Str, Coord)."""
    cdef const char* s = p + start
    cdef Py_ssize_t n = stop - start
    cdef double v
    if n <= 0 or n >= 63:
        return NAN
    if n == 3 and memcmp(s, b"inf", 3) == 0:
        return INFINITY
    if n == 4 and memcmp(s, b"-inf", 4) == 0:
        return -INFINITY
    if not (s[0] == b'-' or b'0' <= s[0] <= b'9') or (n > 1 and s[0] == b'-' and s[1] == b'i'):
        return NAN
    if hx_parse_decimal(s, n, &v):
        return v
    return float_of(s, n)


cdef double float_of(const char* s, Py_ssize_t n) except? -1.0:
    """``float()`` of the text, NaN when it is no float."""
    try:
        return PyFloat_AS_DOUBLE(PyFloat_FromString(PyBytes_FromStringAndSize(s, n)))
    except ValueError:
        return NAN


def parse_float(bytes code):
    """The float of a history code as the range parsers read it (test hook of
    ``parse_code``)."""
    return parse_code(PyBytes_AS_STRING(code), 0, PyBytes_GET_SIZE(code))


cdef Py_ssize_t string_at(const char* p, Py_ssize_t pos, Py_ssize_t end,
                          Py_ssize_t* start) except -2:
    """A bulk or simple string at ``pos``: sets ``start``, returns its end (-1 if
    incomplete)."""
    cdef Py_ssize_t eol = line_end(p, pos, end)
    cdef int64_t n
    if eol < 0:
        return -1
    if p[pos] == b'+' or p[pos] == b',':
        start[0] = pos + 1
        return eol
    if p[pos] != b'$':
        raise ValueError("expected a RESP string")
    n = parse_int(p, pos + 1, eol)
    start[0] = eol + 2
    if eol + 2 + n + 2 > end:
        return -1
    return eol + 2 + n


def parse_ts_range(bytes data, Py_ssize_t pos, int64_t offset):
    """A TS.RANGE reply at ``pos`` as ``(ts int64 - offset, values float64, end)``."""
    cdef const char* p = PyBytes_AS_STRING(data)
    cdef Py_ssize_t end = PyBytes_GET_SIZE(data), eol, i, s = 0, stop
    cdef int64_t n
    eol = line_end(p, pos, end)
    if eol < 0 or p[pos] != b'*':
        raise ValueError("expected a RESP array")
    n = parse_int(p, pos + 1, eol)
    out_ts = np.empty(max(n, 0), dtype=np.int64)
    out_v = np.empty(max(n, 0), dtype=np.float64)
    cdef int64_t[::1] t = out_ts
    cdef double[::1] v = out_v
    pos = eol + 2
    for i in range(n):
        if (pos + 4 > end or p[pos] != b'*' or p[pos + 1] != b'2' or p[pos + 2] != b'\r'
                or p[pos + 3] != b'\n'):
            raise ValueError("expected a RESP sample pair")
        pos += 4
        eol = line_end(p, pos, end)
        if eol < 0 or p[pos] != b':':
            raise ValueError("expected a RESP integer")
        t[i] = parse_int(p, pos + 1, eol) - offset
        stop = string_at(p, eol + 2, end, &s)
        if stop < 0:
            raise ValueError("truncated RESP reply")
        v[i] = parse_code(p, s, stop)
        pos = stop + 2
    return out_ts, out_v, pos


def parse_members(bytes data, Py_ssize_t pos):
    """A ZRANGEBYSCORE reply of ``<ms>:<code>`` members as ``(ts int64, values float64,
    end)``."""
    cdef const char* p = PyBytes_AS_STRING(data)
    cdef Py_ssize_t end = PyBytes_GET_SIZE(data), eol, i, s = 0, stop, colon
    cdef int64_t n
    eol = line_end(p, pos, end)
    if eol < 0 or p[pos] != b'*':
        raise ValueError("expected a RESP array")
    n = parse_int(p, pos + 1, eol)
    out_ts = np.empty(max(n, 0), dtype=np.int64)
    out_v = np.empty(max(n, 0), dtype=np.float64)
    cdef int64_t[::1] t = out_ts
    cdef double[::1] v = out_v
    pos = eol + 2
    for i in range(n):
        stop = string_at(p, pos, end, &s)
        if stop < 0:
            raise ValueError("truncated RESP reply")
        colon = s
        while colon < stop and p[colon] != b':':
            colon += 1
        if colon == stop:
            raise ValueError("history member without ':'")
        t[i] = parse_int(p, s, colon)
        v[i] = parse_code(p, colon + 1, stop)
        pos = stop + 2
    return out_ts, out_v, pos
