# cython: language_level=3
"""The rows of a hisRead reply (columns ``ts`` and ``val``) from numpy arrays, in Zinc, JSON
v4 or JSON v3, with no Python object per sample.

Reference (same bytes): ``hxredis.http.hisrows.py_rows``, which builds the values and calls
the writers of :mod:`hxredis.zinc`, :mod:`hxredis.json` and the HTTP JSON v3 writer.
"""

from json import dumps as _dumps

cimport numpy as cnp
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.math cimport fabs, isinf, isnan
from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.string cimport memcpy, strlen

cnp.import_array()

cdef extern from "Python.h":
    char* PyOS_double_to_string(double val, char format_code, int precision, int flags,
                                int* type) except NULL
    int Py_DTSF_ADD_DOT_0

cdef enum:
    ZINC = 0
    JSON = 1
    JSON3 = 2

cdef int64_t DAY_MS = 86400000


cdef bytes _json_str(str text):
    """``text`` as a JSON string (what ``json.dumps(..., ensure_ascii=False)`` writes)."""
    return _dumps(text, ensure_ascii=False).encode()


cdef bytes _json_inner(str text):
    """``text`` escaped for the inside of a JSON string."""
    cdef bytes quoted = _json_str(text)
    return quoted[1 : len(quoted) - 1]


cdef struct Buf:
    char* data
    Py_ssize_t size
    Py_ssize_t len


cdef int buf_reserve(Buf* b, Py_ssize_t extra) except -1:
    cdef Py_ssize_t size = b.size
    cdef char* grown
    if b.len + extra <= size:
        return 0
    while size < b.len + extra:
        size *= 2
    grown = <char*>PyMem_Realloc(b.data, size)
    if grown is NULL:
        raise MemoryError()
    b.data = grown
    b.size = size
    return 0


cdef inline int put(Buf* b, const char* data, Py_ssize_t n) except -1:
    buf_reserve(b, n)
    memcpy(b.data + b.len, data, n)
    b.len += n
    return 0


cdef inline int put_bytes(Buf* b, bytes data) except -1:
    return put(b, data, len(data))


cdef inline int put_digits(Buf* b, int64_t v, int width) except -1:
    """``v`` (>= 0) in decimal, zero-padded to ``width``."""
    cdef char tmp[24]
    cdef int n = 0
    while v > 0 or n < width:
        tmp[23 - n] = <char>(48 + v % 10)
        v //= 10
        n += 1
    return put(b, tmp + 24 - n, n)


cdef inline int put_int(Buf* b, int64_t v) except -1:
    if v < 0:
        put(b, b"-", 1)
        v = -v
    return put_digits(b, v, 1)


cdef int put_datetime(Buf* b, int64_t ms, int32_t off, int iso, bytes name, bint utc) except -1:
    """Zinc (``iso`` 0: ``...-05:00 Name``, ``...Z`` in UTC) or ``isoformat()`` (``iso`` 1)."""
    cdef int64_t local = ms + <int64_t>off * 1000
    cdef int64_t days = local // DAY_MS
    cdef int64_t rest = local - days * DAY_MS
    cdef int64_t z, era, doe, yoe, y, doy, mp, d, m, frac
    cdef int32_t a
    cdef int width = 3
    # civil_from_days (H. Hinnant)
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    put_digits(b, y, 4)
    put(b, b"-", 1)
    put_digits(b, m, 2)
    put(b, b"-", 1)
    put_digits(b, d, 2)
    put(b, b"T", 1)
    put_digits(b, rest // 3600000, 2)
    put(b, b":", 1)
    put_digits(b, rest // 60000 % 60, 2)
    put(b, b":", 1)
    put_digits(b, rest // 1000 % 60, 2)
    frac = rest % 1000
    if frac:
        put(b, b".", 1)
        if iso:
            put_digits(b, frac * 1000, 6)
        else:
            while frac % 10 == 0:
                frac //= 10
                width -= 1
            put_digits(b, frac, width)
    a = off if off >= 0 else -off
    if iso:
        put(b, b"+" if off >= 0 else b"-", 1)
        put_digits(b, a // 3600, 2)
        put(b, b":", 1)
        put_digits(b, a // 60 % 60, 2)
        if a % 60:
            put(b, b":", 1)
            put_digits(b, a % 60, 2)
        return 0
    if off == 0:
        put(b, b"Z", 1)
        if utc:
            return 0
        put(b, b" ", 1)
    else:
        put(b, b"+" if off > 0 else b"-", 1)
        put_digits(b, a // 3600, 2)
        put(b, b":", 1)
        put_digits(b, a // 60 % 60, 2)
        put(b, b" ", 1)
    return put_bytes(b, name)


cdef int put_java(Buf* b, double v) except -1:
    """Java ``Double.toString`` of a finite, non-zero float (``hxredis.values._java_double``)."""
    cdef char* r = PyOS_double_to_string(v, b'r', 0, 0, NULL)
    cdef char digits[40]
    cdef int nd = 0, point = 0, exp10, i, start, seen_point = 0, e = 0, esign = 1
    cdef char* p = r
    try:
        if p[0] == b'-':
            put(b, b"-", 1)
            p += 1
        while p[0] and p[0] != b'e':
            if p[0] == b'.':
                seen_point = 1
            else:
                digits[nd] = p[0]
                nd += 1
                if not seen_point:
                    point += 1
            p += 1
        if p[0] == b'e':
            p += 1
            if p[0] == b'-':
                esign = -1
                p += 1
            elif p[0] == b'+':
                p += 1
            while p[0]:
                e = e * 10 + (p[0] - 48)
                p += 1
            point += esign * e
    finally:
        PyMem_Free(r)
    start = 0
    while start < nd and digits[start] == b'0':
        start += 1
        point -= 1
    while nd > start and digits[nd - 1] == b'0':
        nd -= 1
    exp10 = point - 1
    if 1e-3 <= fabs(v) < 1e7:
        if exp10 >= 0:
            for i in range(exp10 + 1):
                if start + i < nd:
                    put(b, &digits[start + i], 1)
                else:
                    put(b, b"0", 1)
            put(b, b".", 1)
            if start + exp10 + 1 < nd:
                put(b, &digits[start + exp10 + 1], nd - start - exp10 - 1)
            else:
                put(b, b"0", 1)
        else:
            put(b, b"0.", 2)
            for i in range(-exp10 - 1):
                put(b, b"0", 1)
            put(b, &digits[start], nd - start)
        return 0
    put(b, &digits[start], 1)
    put(b, b".", 1)
    if nd - start > 1:
        put(b, &digits[start + 1], nd - start - 1)
    else:
        put(b, b"0", 1)
    put(b, b"E", 1)
    return put_int(b, exp10)


cdef int put_zinc_number(Buf* b, double v, bint with_unit, bytes unit) except -1:
    """``str(Number(v, unit))``."""
    if isnan(v):
        return put(b, b"NaN", 3)
    if isinf(v):
        return put(b, b"INF" if v > 0 else b"-INF", 3 if v > 0 else 4)
    if -1e12 <= v <= 1e12 and v == <double><int64_t>v:
        put_int(b, <int64_t>v)
    else:
        put_java(b, v)
    if with_unit:
        put_bytes(b, unit)
    return 0


cdef int put_json_number(Buf* b, double v, bint with_unit, bytes unit) except -1:
    """Haystack JSON v4 of ``Number(v, unit)`` (``hxredis.json``)."""
    cdef char* r
    if isnan(v) or isinf(v):
        put(b, b'{"_kind":"number","val":"', 25)
        if isnan(v):
            put(b, b"NaN", 3)
        else:
            put(b, b"INF" if v > 0 else b"-INF", 3 if v > 0 else 4)
        put(b, b'"', 1)
    else:
        if with_unit:
            put(b, b'{"_kind":"number","val":', 24)
        if fabs(v) < 9007199254740992.0 and v == <double><int64_t>v:
            put_int(b, <int64_t>v)
        else:
            r = PyOS_double_to_string(v, b'r', 0, Py_DTSF_ADD_DOT_0, NULL)
            try:
                put(b, r, strlen(r))
            finally:
                PyMem_Free(r)
        if not with_unit:
            return 0
    if with_unit:
        put(b, b',"unit":', 8)
        put_bytes(b, unit)
    return put(b, b"}", 1)


def rows(
    str fmt,
    const int64_t[::1] ms,
    const int32_t[::1] offsets,
    const double[::1] vals,
    const uint8_t[::1] na,
    bint is_bool,
    unit,
    str tz_name,
):
    """The hisRead rows of samples ``ms`` (epoch ms, ascending) with UTC ``offsets`` (seconds)
    of the point's zone ``tz_name``, values ``vals`` (``na`` 1 for NA), a Bool point or a
    Number point with ``unit`` (str or None), in ``fmt`` ``zinc`` (one line each), ``json``
    or ``json3`` (objects joined by commas) as UTF-8."""
    cdef Py_ssize_t n = ms.shape[0], i
    cdef int mode
    cdef Buf b
    cdef double v
    cdef bint utc = tz_name == "UTC"
    cdef bint with_unit = unit is not None
    cdef bytes name = tz_name.encode()
    cdef bytes unit_b = b""
    cdef bytes row_start, mid, row_end
    if offsets.shape[0] != n or vals.shape[0] != n or na.shape[0] != n:
        raise ValueError("ms, offsets, vals and na must have one length")
    if fmt == "zinc":
        mode = ZINC
        row_start, mid, row_end = b"", b",", b"\n"
        if with_unit:
            unit_b = unit.encode()
    elif fmt == "json":
        mode = JSON
        row_start = b'{"ts":{"_kind":"dateTime","val":"'
        mid = b'","tz":' + _json_str(tz_name) + b'},"val":'
        row_end = b"}"
        if with_unit:
            unit_b = _json_str(unit)
    elif fmt == "json3":
        mode = JSON3
        row_start, mid, row_end = b'{"ts":"t:', b'","val":', b"}"
        name = _json_inner(tz_name)
        if with_unit:
            unit_b = b" " + _json_inner(unit)
    else:
        raise ValueError(f"unknown hisRead rows format {fmt!r}")
    b.size = n * 96 + 64
    b.len = 0
    b.data = <char*>PyMem_Malloc(b.size)
    if b.data is NULL:
        raise MemoryError()
    try:
        for i in range(n):
            if i and mode != ZINC:
                put(&b, b",", 1)
            put_bytes(&b, row_start)
            put_datetime(&b, ms[i], offsets[i], mode == JSON, name, utc)
            put_bytes(&b, mid)
            v = vals[i]
            if na[i]:
                if mode == ZINC:
                    put(&b, b"NA", 2)
                elif mode == JSON:
                    put(&b, b'{"_kind":"na"}', 14)
                else:
                    put(&b, b'"z:"', 4)
            elif is_bool:
                if mode == ZINC:
                    put(&b, b"T" if v != 0 and not isnan(v) else b"F", 1)
                elif v != 0 and not isnan(v):
                    put(&b, b"true", 4)
                else:
                    put(&b, b"false", 5)
            elif mode == ZINC:
                put_zinc_number(&b, v, with_unit, unit_b)
            elif mode == JSON:
                put_json_number(&b, v, with_unit, unit_b)
            else:
                put(&b, b'"n:', 3)
                put_zinc_number(&b, v, with_unit and not isnan(v) and not isinf(v), unit_b)
                put(&b, b'"', 1)
            put_bytes(&b, row_end)
        return PyBytes_FromStringAndSize(b.data, b.len)
    finally:
        PyMem_Free(b.data)

