# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Native Trio codec: the hot paths of :mod:`hxredis.trio`, identical in output.

``dumps`` is byte-identical and ``loads`` value-identical (Ref dis and DateTime zones included)
to the pure-Python reference ``hxredis.trio.py_dumps`` / ``py_loads``.  Only the common cases
are handled here: record and line splitting, tag names, markers, raw and simple quoted Strs,
Refs with dis, Numbers with units, Dates, Times and DateTimes, Bools and keywords.  Everything
else (indented blocks, ``Zinc:``/``Trio:`` blocks, collections, grids, rare literals, every
error) is handed to the reference, so the format has a single definition.

Speed comes from not allocating: text spans are looked up in small direct-mapped caches
(tag names, unit and zone names, Number literals, short Strs and Ref ids are shared, immutable
objects), values are built by writing their slots directly (this module knows the slot names
of ``Number``: ``_val``, ``_unit`` and ``Ref``: ``_id``, ``_dis``), and the writer fills one
UCS4 buffer.  The native-vs-reference tests catch any drift from the reference.
"""

from cpython.datetime cimport (
    PyDateTime_DATE_GET_HOUR,
    PyDateTime_DATE_GET_MICROSECOND,
    PyDateTime_DATE_GET_MINUTE,
    PyDateTime_DATE_GET_SECOND,
    PyDateTime_DELTA_GET_DAYS,
    PyDateTime_DELTA_GET_MICROSECONDS,
    PyDateTime_DELTA_GET_SECONDS,
    PyDateTime_GET_DAY,
    PyDateTime_GET_MONTH,
    PyDateTime_GET_YEAR,
    PyDateTime_TIME_GET_HOUR,
    PyDateTime_TIME_GET_MICROSECOND,
    PyDateTime_TIME_GET_MINUTE,
    PyDateTime_TIME_GET_SECOND,
    date_new,
    datetime_new,
    datetime_tzinfo,
    import_datetime,
    time_new,
    time_tzinfo,
)
from cpython.dict cimport PyDict_Next
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject, PyObject_GenericSetAttr, PyObject_Hash
from cpython.ref cimport Py_DECREF, Py_INCREF
from cpython.unicode cimport (
    PyUnicode_4BYTE_KIND,
    PyUnicode_FindChar,
    PyUnicode_FromKindAndData,
    PyUnicode_CheckExact,
    PyUnicode_FromStringAndSize,
)
from libc.math cimport fabs, floor, isinf, isnan
from libc.stdio cimport snprintf
from libc.stdlib cimport labs
from libc.string cimport memcmp

from _fastcore.slots cimport alloc, slot_get, slot_init, slot_offset

import datetime as _dt
import zoneinfo as _zoneinfo
from collections.abc import Mapping

import hxredis.trio as _ref
from hxredis import timezones as _timezones
from hxredis import units as _units
from hxredis.errors import ParseError
from hxredis.values import MARKER, Number, Ref

cdef extern from "Python.h":
    ctypedef unsigned char Py_UCS1
    int PyUnicode_1BYTE_KIND
    int PyUnicode_KIND(object o) nogil
    const void* PyUnicode_DATA(object o) nogil
    Py_UCS4 PyUnicode_READ(int kind, const void* data, Py_ssize_t index) nogil
    Py_ssize_t PyUnicode_GET_LENGTH(object o) nogil
    Py_UCS4* PyUnicode_AsUCS4(
        object u, Py_UCS4* buffer, Py_ssize_t buflen, int copy_null
    ) except NULL
    char* PyOS_double_to_string(
        double val, char format_code, int precision, int flags, int* ptype
    ) except NULL
    double PyOS_string_to_double(
        const char* s, char** endptr, object overflow_exception
    ) except? -1.0
    PyObject* PyDict_SetDefault(object d, object key, object default) except NULL
    dict _PyDict_NewPresized(Py_ssize_t minused)
    Py_ssize_t PyDict_GET_SIZE(object d)
    void PyObject_GC_UnTrack(object o)

import_datetime()

cdef object _FALLBACK = object()  # "let the reference decide"
cdef object _Reader = _ref._Reader
cdef object _value_error = _ref._value_error
cdef object _tag_name = _ref._tag_name
cdef object _sorted_names = _ref._sorted_names
cdef object _tag_text = _ref._tag_text
cdef object _check_rec = _ref._check_rec
cdef object _bad_name = _ref._bad_name
cdef object _decode = _ref._decode
cdef object _line_break = _ref._LINE_BREAK
cdef dict _KEYWORDS = _ref._KEYWORDS
cdef frozenset _QUOTED_KEYWORDS = _ref._QUOTED_KEYWORDS
cdef object _tz = _timezones.tz
cdef object _tz_name = _timezones.tz_name
cdef object _UTC = _timezones.UTC
cdef object _canonical_unit = _units.canonical_unit
cdef type _Number = Number
cdef type _Ref = Ref
cdef object _MARKER = MARKER
cdef type _ZoneInfo = _zoneinfo.ZoneInfo
cdef type _timezone = _dt.timezone
cdef type _datetime = _dt.datetime
cdef type _date = _dt.date
cdef type _time = _dt.time
cdef type _timedelta = _dt.timedelta
cdef object _Mapping = Mapping

cdef Py_ssize_t _NUM_VAL = slot_offset(Number.__dict__["_val"])
cdef Py_ssize_t _NUM_UNIT = slot_offset(Number.__dict__["_unit"])
cdef Py_ssize_t _REF_ID = slot_offset(Ref.__dict__["_id"])
cdef Py_ssize_t _REF_DIS = slot_offset(Ref.__dict__["_dis"])
cdef bint _DIRECT_SLOTS = _NUM_VAL > 0 and _NUM_UNIT > 0 and _REF_ID > 0 and _REF_DIS > 0

cdef int[13] _DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
cdef Py_ssize_t _SHARE_MAX = 48  # longest raw Str / Ref id / literal worth sharing


# ------------------------------------------------------------------------------------------------
# Characters and small caches
# ------------------------------------------------------------------------------------------------


cdef inline int _c(str t, Py_ssize_t i) noexcept:
    """The code point at ``i`` (no bounds check: callers stay inside the string)."""
    cdef int kind = PyUnicode_KIND(t)
    if kind == PyUnicode_1BYTE_KIND:
        return (<const Py_UCS1*>PyUnicode_DATA(t))[i]
    return <int>PyUnicode_READ(kind, PyUnicode_DATA(t), i)


cdef inline bint _digit(int c) noexcept:
    return c >= 48 and c <= 57


cdef inline int _d2(str t, Py_ssize_t i) noexcept:
    """Two ASCII digits at ``i`` as an int, or -1."""
    cdef int a = _c(t, i)
    cdef int b = _c(t, i + 1)
    if _digit(a) and _digit(b):
        return (a - 48) * 10 + (b - 48)
    return -1


cdef inline bint _space(int c) noexcept:
    return c == 32 or c == 9 or c == 10 or c == 13 or c == 12


cdef inline bint _alpha(int c) noexcept:
    return (c >= 97 and c <= 122) or (c >= 65 and c <= 90)


cdef inline bint _ref_char(int c) noexcept:
    return _alpha(c) or _digit(c) or c == 95 or c == 58 or c == 45 or c == 46 or c == 126


cdef inline bint _unit_char(int c) noexcept:
    return _alpha(c) or c == 37 or c == 36 or c == 47 or c > 128


cdef inline bint _valid_date(int y, int m, int d) noexcept:
    if y < 1 or m < 1 or m > 12 or d < 1:
        return False
    if m == 2 and ((y % 4 == 0 and y % 100 != 0) or y % 400 == 0):
        return d <= 29
    return d <= _DAYS_IN_MONTH[m]


cdef class _SpanCache:
    """Direct-mapped cache from a text span to a shared object; a collision evicts."""

    cdef list keys
    cdef list vals
    cdef Py_ssize_t mask
    cdef size_t last_hash

    def __cinit__(self, Py_ssize_t size):
        self.keys = [None] * size
        self.vals = [None] * size
        self.mask = size - 1

    cdef object get(self, str t, Py_ssize_t a, Py_ssize_t b):
        """The object cached for ``t[a:b]``, or None (remembering the span's hash for put)."""
        cdef size_t h = 14695981039346656037ULL ^ <size_t>(b - a)
        cdef Py_ssize_t i, slot, n = b - a
        cdef int kind = PyUnicode_KIND(t), kkind
        cdef const void* data = PyUnicode_DATA(t)
        cdef const Py_UCS1* s1 = <const Py_UCS1*>data + a  # used for the 1-byte kind only
        cdef const void* kdata
        cdef object k
        if kind == PyUnicode_1BYTE_KIND:
            for i in range(n):
                h = (h ^ s1[i]) * 1099511628211ULL
        else:
            for i in range(a, b):
                h = (h ^ <size_t>PyUnicode_READ(kind, data, i)) * 1099511628211ULL
        self.last_hash = h
        slot = <Py_ssize_t>(h >> 7) & self.mask
        k = self.keys[slot]
        if k is None or PyUnicode_GET_LENGTH(k) != n:
            return None
        kkind = PyUnicode_KIND(k)
        kdata = PyUnicode_DATA(k)
        if kkind == kind and kind == PyUnicode_1BYTE_KIND:
            if memcmp(kdata, s1, n) != 0:
                return None
        else:
            for i in range(n):
                if PyUnicode_READ(kkind, kdata, i) != PyUnicode_READ(kind, data, a + i):
                    return None
        return self.vals[slot]

    cdef void put(self, str key, object val) noexcept:
        """Cache ``val`` for ``key``, the span of the last :meth:`get`."""
        cdef Py_ssize_t slot = <Py_ssize_t>(self.last_hash >> 7) & self.mask
        self.keys[slot] = key
        self.vals[slot] = val


cdef _SpanCache _names = _SpanCache(1024)
cdef _SpanCache _shared = _SpanCache(4096)
cdef _SpanCache _numbers = _SpanCache(4096)
cdef _SpanCache _unit_names = _SpanCache(256)
cdef _SpanCache _zone_by_name = _SpanCache(256)
cdef dict _zone_names = {}
cdef dict _offsets = {}


cdef inline str _span(_SpanCache cache, str t, Py_ssize_t a, Py_ssize_t b):
    """``t[a:b]``, shared through ``cache`` when short."""
    cdef object s
    if b - a > _SHARE_MAX:
        return t[a:b]
    s = cache.get(t, a, b)
    if s is None:
        s = t[a:b]
        cache.put(s, s)
    return s


# ------------------------------------------------------------------------------------------------
# Scalars
# ------------------------------------------------------------------------------------------------


cdef object _new_pair(type t, Py_ssize_t a, str a_name, object a_val, Py_ssize_t b, str b_name,
                      object b_val):
    """A new Number or Ref (whose two slots hold only atoms, so it is never part of a cycle:
    untracked by the GC), its slots written directly when the layout is known."""
    cdef object obj
    if not _DIRECT_SLOTS:
        obj = t.__new__(t)
        PyObject_GenericSetAttr(obj, a_name, a_val)
        PyObject_GenericSetAttr(obj, b_name, b_val)
    else:
        obj = alloc(t)
        slot_init(obj, a, a_val)
        slot_init(obj, b, b_val)
    PyObject_GC_UnTrack(obj)
    return obj


cdef inline object _new_number(object val, object unit):
    return _new_pair(_Number, _NUM_VAL, "_val", val, _NUM_UNIT, "_unit", unit)


cdef inline object _new_ref(str id, object dis):
    return _new_pair(_Ref, _REF_ID, "_id", id, _REF_DIS, "_dis", dis)


cdef object _parse_date(str t, Py_ssize_t a):
    cdef int yh = _d2(t, a), yl = _d2(t, a + 2), m = _d2(t, a + 5), d = _d2(t, a + 8)
    if yh < 0 or yl < 0 or m < 0 or d < 0 or _c(t, a + 7) != c'-':
        return _FALLBACK
    if not _valid_date(yh * 100 + yl, m, d):
        return _FALLBACK
    return date_new(yh * 100 + yl, m, d)


cdef int _fraction(str t, Py_ssize_t* pos, Py_ssize_t b) noexcept:
    """Microseconds of the digits at ``pos`` (at least one), ``pos`` moved past them; -1 if none."""
    cdef Py_ssize_t i = pos[0]
    cdef int us = 0, k = 0, c
    while i < b:
        c = _c(t, i)
        if not _digit(c):
            break
        if k < 6:
            us = us * 10 + (c - 48)
        k += 1
        i += 1
    if k == 0:
        return -1
    while k < 6:
        us *= 10
        k += 1
    pos[0] = i
    return us


cdef object _parse_time(str t, Py_ssize_t a, Py_ssize_t b):
    """TrioReader's fudged time: ``H:MM``, ``HH:MM``, ``[H]H:MM:SS[.f+]``."""
    cdef Py_ssize_t p
    cdef int h, m, s = 0, us = 0
    if _c(t, a + 1) == c':':
        h = _c(t, a) - 48
        if h < 0 or h > 9:
            return _FALLBACK
        p = a + 1
    else:
        h = _d2(t, a)
        p = a + 2
    if h < 0 or p + 3 > b:
        return _FALLBACK
    m = _d2(t, p + 1)
    if m < 0:
        return _FALLBACK
    p += 3
    if p < b:
        if p + 3 > b or _c(t, p) != c':':
            return _FALLBACK
        s = _d2(t, p + 1)
        if s < 0:
            return _FALLBACK
        p += 3
        if p < b:
            if _c(t, p) != c'.':
                return _FALLBACK
            p += 1
            us = _fraction(t, &p, b)
            if us < 0 or p != b:
                return _FALLBACK
    if h > 23 or m > 59 or s > 59:
        return _FALLBACK
    return time_new(h, m, s, us, None)


cdef object _zone(str t, Py_ssize_t a, Py_ssize_t b):
    """The zone named ``t[a:b]``, or None when ``timezones.tz`` does not know it."""
    cdef object zone = _zone_by_name.get(t, a, b)
    cdef str name
    if zone is None:
        name = t[a:b]
        try:
            zone = _tz(name)
        except ValueError:
            return None
        _zone_by_name.put(name, zone)
    return zone


cdef object _offset_zone(int minutes):
    cdef object zone = _offsets.get(minutes)
    if zone is None:
        zone = _timezone(_dt.timedelta(minutes=minutes))
        _offsets[minutes] = zone
    return zone


cdef object _parse_datetime(str t, Py_ssize_t a, Py_ssize_t b):
    """Fantom ``DateTime.fromStr`` as the reference applies it (``…Z`` means ``…Z UTC``)."""
    cdef int yh = _d2(t, a), yl = _d2(t, a + 2), mo = _d2(t, a + 5), d = _d2(t, a + 8)
    cdef int h = _d2(t, a + 11), mi = _d2(t, a + 14), s = _d2(t, a + 17)
    cdef int us = 0, year, off = 0, oh, om, c
    cdef Py_ssize_t i = a + 19, j
    cdef bint ends_z = _c(t, b - 1) == c'Z'
    cdef object zone
    if b - a == 20 and not ends_z:
        return _FALLBACK
    if yh < 0 or yl < 0 or mo < 0 or d < 0 or h < 0 or mi < 0 or s < 0:
        return _FALLBACK
    if (
        _c(t, a + 7) != c'-' or _c(t, a + 10) != c'T'
        or _c(t, a + 13) != c':' or _c(t, a + 16) != c':'
    ):
        return _FALLBACK
    if _c(t, i) == c'.':
        i += 1
        us = _fraction(t, &i, b)
        if us < 0 or i >= b:
            return _FALLBACK
    c = _c(t, i)
    if c == c'Z':
        i += 1
    elif c == c'+' or c == c'-':
        if i + 6 > b or _c(t, i + 3) != c':':
            return _FALLBACK
        oh = _d2(t, i + 1)
        om = _d2(t, i + 4)
        if oh < 0 or om < 0 or oh > 23 or om > 59:
            return _FALLBACK
        off = oh * 60 + om
        if c == c'-':
            off = -off
        i += 6
    else:
        return _FALLBACK
    if ends_z:
        if i != b:
            return _FALLBACK
        zone = _UTC
    else:
        if i + 1 >= b or _c(t, i) != c' ':
            return _FALLBACK
        for j in range(i + 1, b):
            c = _c(t, j)
            if not (_alpha(c) or _digit(c) or c == c'_' or c == c'+' or c == c'-' or c == c'/'):
                return _FALLBACK
        zone = _zone(t, i + 1, b)
        if zone is None:
            return _FALLBACK
    year = yh * 100 + yl
    if year < 1901 or year > 2099 or not _valid_date(year, mo, d) or h > 23 or mi > 59 or s > 59:
        return _FALLBACK
    if off == 0 and zone is _UTC:
        return datetime_new(year, mo, d, h, mi, s, us, zone)
    return _in_zone(year, mo, d, h, mi, s, us, off, zone)


cdef inline bint _offset_is(object delta, long seconds):
    return (
        type(delta) is _timedelta
        and PyDateTime_DELTA_GET_MICROSECONDS(delta) == 0
        and PyDateTime_DELTA_GET_DAYS(delta) * 86400L + PyDateTime_DELTA_GET_SECONDS(delta)
        == seconds
    )


cdef object _in_zone(int year, int mo, int d, int h, int mi, int s, int us, int off, object zone):
    """The instant ``wall time - off minutes`` as an aware datetime in ``zone``: what
    ``astimezone(zone)`` gives, built directly when the wall time is unambiguous in the zone
    and the offset is the zone's (the common case)."""
    cdef object dt = datetime_new(year, mo, d, h, mi, s, us, zone, 0)
    if _offset_is(zone.utcoffset(dt), off * 60) and _offset_is(
        zone.utcoffset(datetime_new(year, mo, d, h, mi, s, us, zone, 1)), off * 60
    ):
        return dt
    return datetime_new(year, mo, d, h, mi, s, us, _offset_zone(off)).astimezone(zone)


cdef object _parse_number(str t, Py_ssize_t a, Py_ssize_t b):
    """``-?digits[.digits][e[+-]digits][unit]``, the unit without digits or a leading ``_``."""
    cdef object n = _numbers.get(t, a, b)
    cdef Py_ssize_t i = a, j, num_end
    cdef int c
    cdef char[64] buf
    cdef object unit = None
    if n is not None:
        return n
    if b - a >= 2 and _c(t, a) == c'0' and _c(t, a + 1) == c'x':
        return _FALLBACK
    if _c(t, i) == c'-':
        i += 1
    j = i
    while i < b and _digit(_c(t, i)):
        i += 1
    if i == j:
        return _FALLBACK
    if i < b and _c(t, i) == c'.':
        i += 1
        j = i
        while i < b and _digit(_c(t, i)):
            i += 1
        if i == j:
            return _FALLBACK
    if i < b and (_c(t, i) == c'e' or _c(t, i) == c'E'):
        j = i + 1
        if j < b and (_c(t, j) == c'+' or _c(t, j) == c'-'):
            j += 1
        if j < b and _digit(_c(t, j)):
            while j < b and _digit(_c(t, j)):
                j += 1
            i = j
    num_end = i
    if num_end - a >= 63:
        return _FALLBACK
    if i < b:
        if not _unit_char(_c(t, i)):
            return _FALLBACK
        i += 1
        while i < b:
            c = _c(t, i)
            if not (_unit_char(c) or c == c'_'):
                return _FALLBACK
            i += 1
        unit = _unit_names.get(t, num_end, b)
        if unit is None:
            try:
                unit = _canonical_unit(t[num_end:b])
            except ValueError:
                return _FALLBACK
            _unit_names.put(t[num_end:b], unit)
    for j in range(a, num_end):
        buf[j - a] = <char>_c(t, j)
    buf[num_end - a] = 0
    n = _new_number(PyOS_string_to_double(buf, NULL, None), unit)
    _numbers.put(t[a:b], n)
    return n


cdef object _parse_str(str t, Py_ssize_t a, Py_ssize_t b):
    """A ``"…"`` literal without raw control chars or ``\\u`` escapes; else _FALLBACK."""
    cdef Py_ssize_t i, k = 0, end = b - 1
    cdef int c
    cdef bint escaped = False
    cdef Py_UCS4* out
    cdef object s
    if b - a < 2 or _c(t, end) != c'"':
        return _FALLBACK
    if b - a <= _SHARE_MAX:
        s = _shared.get(t, a, b)
        if s is not None:
            return s
    for i in range(a + 1, end):
        c = _c(t, i)
        if c == c'"' or c < 32:
            return _FALLBACK
        if c == c'\\':
            escaped = True
    if not escaped:
        s = t[a + 1 : end]
    else:
        out = <Py_UCS4*>PyMem_Malloc((end - a) * sizeof(Py_UCS4))
        if out is NULL:
            raise MemoryError()
        try:
            i = a + 1
            while i < end:
                c = _c(t, i)
                if c == c'\\':
                    i += 1
                    if i >= end:
                        return _FALLBACK
                    c = _c(t, i)
                    if c == c'n':
                        c = 10
                    elif c == c't':
                        c = 9
                    elif c == c'r':
                        c = 13
                    elif c == c'f':
                        c = 12
                    elif c == c'b':
                        c = 8
                    elif not (c == c'"' or c == c'\\' or c == c'$' or c == 39 or c == c'`'):
                        return _FALLBACK
                out[k] = <Py_UCS4>c
                k += 1
                i += 1
            s = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, k)
        finally:
            PyMem_Free(out)
    if b - a <= _SHARE_MAX:
        _shared.put(t[a:b], s)
    return s


cdef object _parse_ref(str t, Py_ssize_t a, Py_ssize_t b):
    """``@id`` or ``@id "dis"``."""
    cdef Py_ssize_t i = a + 1, id_end
    cdef object dis = None
    while i < b and _ref_char(_c(t, i)):
        i += 1
    id_end = i
    if i == a + 1:
        return _FALLBACK
    if i < b:
        if _c(t, i) != c' ':
            return _FALLBACK
        while _c(t, i) == c' ':
            i += 1
        if _c(t, i) != c'"':
            return _FALLBACK
        dis = _parse_str(t, i, b)
        if dis is _FALLBACK:
            return _FALLBACK
    return _new_ref(_span(_shared, t, a + 1, id_end), dis)


cdef object _scalar(str t, Py_ssize_t a, Py_ssize_t b):
    """TrioReader.parseScalar of the trimmed, non-empty ``t[a:b]``, or _FALLBACK."""
    cdef Py_ssize_t n = b - a, i
    cdef int c = _c(t, a)
    cdef int last = _c(t, b - 1)
    cdef object val
    if _digit(c) or c == c'-':
        if n == 17 and _c(t, a + 8) == c'-':
            return _FALLBACK
        if n == 10 and _c(t, a + 4) == c'-':
            return _parse_date(t, a)
        if n >= 20 and _c(t, a + 4) == c'-':
            return _parse_datetime(t, a, b)
        if n > 3 and (_c(t, a + 1) == c':' or _c(t, a + 2) == c':'):
            return _parse_time(t, a, b)
        for i in range(a, b):
            if _c(t, i) == c' ':
                return _span(_shared, t, a, b)
        return _parse_number(t, a, b)
    if c == c'"':
        return _parse_str(t, a, b)
    if c == c'@':
        return _parse_ref(t, a, b)
    if c == c'`' or c == c'^' or c == c'{' or c == c'[' or last == c')':
        return _FALLBACK
    if n <= 5 and (
        c == c't' or c == c'f' or c == c'T' or c == c'F' or c == c'N' or c == c'I' or c == c'R'
    ):
        val = _KEYWORDS.get(t[a:b])
        if val is not None:
            return val
    if last == c':':
        return _FALLBACK
    return _span(_shared, t, a, b)


# ------------------------------------------------------------------------------------------------
# Reader
# ------------------------------------------------------------------------------------------------


cdef class _Fallback:
    """The reference reader over the same lines, built on first need."""

    cdef str text
    cdef object reader

    def __cinit__(self, str text):
        self.text = text
        self.reader = None

    cdef Py_ssize_t read(self, str name, str s, Py_ssize_t lineno, list box) except -1:
        """Parse value ``s`` (a block when empty) of the tag on line ``lineno`` into
        ``box[0]``; return the number of extra lines consumed."""
        cdef list lines
        if self.reader is None:
            lines = self.text.split("\n")
            if lines[len(lines) - 1] == "":
                lines.pop()
            self.reader = _Reader(lines)
        self.reader.pos = lineno
        try:
            box[0] = self.reader.scalar(s) if s else self.reader.block()
        except ValueError as e:
            raise _value_error(name, s, lineno, e) from e
        return <Py_ssize_t>self.reader.pos - lineno


cdef str _name(str t, Py_ssize_t a, Py_ssize_t b, Py_ssize_t lineno):
    """The shared, validated tag name ``t[a:b]``."""
    cdef object name = _names.get(t, a, b)
    cdef object key
    if name is None:
        name = t[a:b]
        key = _tag_name(name)
        if key is None:
            raise ParseError(f"Invalid name: {name}", lineno)
        _names.put(name, key)
        name = key
    return name


cdef Py_ssize_t _size_hint = 8  # tags in the last record read: new dicts are presized to it


cdef inline void _finish(dict rec, bint atomic) noexcept:
    """Take a record of Strs, Numbers, Refs, dates and singletons out of the cyclic GC.

    Its values are untracked and hold no containers, so it can never be part of a cycle;
    CPython tracks the dict again as soon as a container is stored in it.  This keeps the
    garbage collector from traversing every record of a large database."""
    if atomic:
        PyObject_GC_UnTrack(rec)


cdef list _read(str text):
    global _size_hint
    cdef Py_ssize_t n = len(text), pos = 0, eol, lineno = 0, ls, le, colon, j, va, vb, na, nb
    cdef Py_ssize_t skip, tagline
    cdef int c
    cdef list recs = []
    cdef dict rec = None
    cdef bint atomic = True  # every value of rec so far built here (no containers)
    cdef _Fallback fallback = None
    cdef list box = [None]
    cdef object val
    cdef str name
    while pos < n:
        eol = PyUnicode_FindChar(text, 10, pos, n, 1)
        if eol < 0:
            eol = n
        lineno += 1
        ls = pos
        le = eol
        pos = eol + 1
        if ls == le:
            continue
        c = _c(text, ls)
        if c == c'-':
            if rec is not None:
                _size_hint = len(rec)
                _finish(rec, atomic)
                recs.append(rec)
                rec = None
                atomic = True
            continue
        if c == c'/' and le - ls > 1 and _c(text, ls + 1) == c'/':
            continue
        if _space(c):
            j = ls
            while j < le and _c(text, j) <= 32:
                j += 1
            if j == le:
                continue
        tagline = lineno
        colon = PyUnicode_FindChar(text, 58, ls, le, 1)
        if colon < 0:
            name = _name(text, ls, le, tagline)
            val = _MARKER
        else:
            va = colon + 1
            vb = le
            while va < vb and _c(text, va) <= 32:
                va += 1
            while vb > va and _c(text, vb - 1) <= 32:
                vb -= 1
            val = _scalar(text, va, vb) if va < vb else _FALLBACK
            na = ls
            nb = colon
            while na < nb and _c(text, na) <= 32:
                na += 1
            while nb > na and _c(text, nb - 1) <= 32:
                nb -= 1
            if val is _FALLBACK:
                atomic = False
                if fallback is None:
                    fallback = _Fallback(text)
                skip = fallback.read(text[na:nb], text[va:vb], lineno, box)
                val = box[0]
                box[0] = None
                while skip > 0:
                    eol = PyUnicode_FindChar(text, 10, pos, n, 1)
                    pos = n if eol < 0 else eol + 1
                    lineno += 1
                    skip -= 1
            name = _name(text, na, nb, tagline)
        if rec is None:
            rec = _PyDict_NewPresized(_size_hint)
        j = PyDict_GET_SIZE(rec)
        PyDict_SetDefault(rec, name, val)  # one lookup: the size grows unless it is a duplicate
        if PyDict_GET_SIZE(rec) == j:
            raise ParseError(f"Duplicate tag: {name}", tagline)
    if rec is not None:
        _size_hint = len(rec)
        _finish(rec, atomic)
        recs.append(rec)
    return recs


cdef str _text_of(object text):
    if type(text) is not str:
        text = _decode(text)[:]  # [:] makes a str subclass a str
    if "\r" in <str>text:
        text = _line_break.sub("\n", text)
    return text


def loads(text):
    """Native :func:`hxredis.trio.py_loads`: every record of a Trio text as a list of dicts."""
    return _read(_text_of(text))


def load_rec(text):
    """Native :func:`hxredis.trio.py_load_rec`: the one record of a Trio text."""
    cdef list recs = _read(_text_of(text))
    if len(recs) != 1:
        raise ParseError(f"Expected exactly one record, found {len(recs)}")
    return recs[0]


# ------------------------------------------------------------------------------------------------
# Writer
# ------------------------------------------------------------------------------------------------


cdef struct _Buf:
    Py_UCS4* data
    Py_ssize_t len
    Py_ssize_t cap


cdef int _reserve(_Buf* o, Py_ssize_t extra) except -1:
    cdef Py_ssize_t cap = o.cap
    cdef Py_UCS4* grown
    if o.len + extra <= cap:
        return 0
    while cap < o.len + extra:
        cap *= 2
    grown = <Py_UCS4*>PyMem_Realloc(o.data, cap * sizeof(Py_UCS4))
    if grown is NULL:
        raise MemoryError()
    o.data = grown
    o.cap = cap
    return 0


cdef inline int _put_char(_Buf* o, Py_UCS4 c) except -1:
    if o.len == o.cap:
        _reserve(o, 1)
    o.data[o.len] = c
    o.len += 1
    return 0


cdef inline int _put_ascii(_Buf* o, const char* s, Py_ssize_t n) except -1:
    cdef Py_ssize_t i
    _reserve(o, n)
    for i in range(n):
        o.data[o.len + i] = <Py_UCS4>s[i]
    o.len += n
    return 0


cdef inline int _put_str(_Buf* o, str s) except -1:
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(s)
    _reserve(o, n)
    PyUnicode_AsUCS4(s, o.data + o.len, n, 0)
    o.len += n
    return 0


cdef int _put_code(_Buf* o, str s) except -1:
    """Fantom ``Str.toCode`` (as ``zinc.dumps_str``): quoted, escaped, ``\\u{h}`` controls."""
    cdef Py_ssize_t i, n = PyUnicode_GET_LENGTH(s)
    cdef int c, k
    cdef char[16] hexbuf
    _put_char(o, c'"')
    for i in range(n):
        c = _c(s, i)
        if c >= 32 and c != c'"' and c != c'\\' and c != c'$':
            _put_char(o, <Py_UCS4>c)
            continue
        _put_char(o, c'\\')
        if c == c'\n':
            _put_char(o, c'n')
        elif c == c'\r':
            _put_char(o, c'r')
        elif c == c'\t':
            _put_char(o, c't')
        elif c == c'\f':
            _put_char(o, c'f')
        elif c == c'"' or c == c'\\' or c == c'$':
            _put_char(o, <Py_UCS4>c)
        else:
            k = snprintf(hexbuf, 16, b"u{%x}", <unsigned int>c)
            _put_ascii(o, hexbuf, k)
    _put_char(o, c'"')
    return 0


cdef bint _must_quote(str s):
    """The reference's ``_must_quote``: useQuotes plus what a raw value line would lose."""
    cdef Py_ssize_t i, n = PyUnicode_GET_LENGTH(s)
    cdef int c, last
    if n == 0:
        return True
    c = _c(s, 0)
    last = _c(s, n - 1)
    if c > 127:
        return last == c')' or last == c':' or last <= 32 or "\r" in s
    if last == c' ' or not _alpha(c):
        return True
    for i in range(1, n):
        c = _c(s, i)
        if not (_alpha(c) or _digit(c) or c == c' ' or c == c'_' or c == c'-'):
            return True
    return n <= 5 and s in _QUOTED_KEYWORDS


cdef inline int _put_digits(_Buf* o, int v, int width) except -1:
    """``v`` (>= 0) as exactly ``width`` decimal digits, zero padded."""
    cdef int i
    _reserve(o, width)
    for i in range(width - 1, -1, -1):
        o.data[o.len + i] = <Py_UCS4>(48 + v % 10)
        v //= 10
    o.len += width
    return 0


cdef int _put_fraction(_Buf* o, int us) except -1:
    """``.fff`` of microseconds, trailing zeros stripped; nothing when zero."""
    cdef int width = 6
    if us == 0:
        return 0
    while us % 10 == 0:
        us //= 10
        width -= 1
    _put_char(o, c'.')
    _put_digits(o, us, width)
    return 0


cdef int _format_int(char* buf, long long v) noexcept:
    """Decimal text of ``v`` (|v| <= 1e12) into ``buf``; returns its length."""
    cdef char[24] rev
    cdef int k = 0, n = 0
    cdef bint neg = v < 0
    if neg:
        v = -v
    while True:
        rev[k] = <char>(48 + v % 10)
        k += 1
        v //= 10
        if v == 0:
            break
    if neg:
        buf[0] = c'-'
        n = 1
    while k > 0:
        k -= 1
        buf[n] = rev[k]
        n += 1
    return n


cdef bint _put_number(_Buf* o, object num) except -1:
    """Write ``Number.__str__`` for the common cases; False to let the reference write it
    (other magnitudes, and texts parseScalar would misread)."""
    cdef double v = slot_get(num, _NUM_VAL, "_val")
    cdef object unit = slot_get(num, _NUM_UNIT, "_unit")
    cdef char[40] buf
    cdef char* r
    cdef Py_ssize_t k, total, ulen = 0
    cdef int at4, at8
    if isnan(v):
        _put_ascii(o, b"NaN", 3)
        return True
    if isinf(v):
        if v > 0:
            _put_ascii(o, b"INF", 3)
        else:
            _put_ascii(o, b"-INF", 4)
        return True
    if fabs(v) <= 1e12 and v == floor(v):
        k = _format_int(buf, <long long>v)
    elif fabs(v) >= 1e-3 and fabs(v) < 1e7:
        r = PyOS_double_to_string(v, b"r", 0, 0, NULL)
        k = 0
        while r[k] != 0 and k < 39:
            buf[k] = r[k]
            k += 1
        PyMem_Free(r)
    else:
        return False
    if unit is not None:
        if type(unit) is not str:  # only a forced slot holds anything else: the reference raises
            return False
        ulen = PyUnicode_GET_LENGTH(unit)
    total = k + ulen
    if total == 17 or total == 10 or total > 20:
        at4 = buf[4] if k > 4 else _c(unit, 4 - k)
        at8 = buf[8] if k > 8 else (_c(unit, 8 - k) if total > 8 else 0)
        if (total == 17 and at8 == c'-') or (total != 17 and at4 == c'-'):
            return False
    _put_ascii(o, buf, k)
    if unit is not None:
        _put_str(o, unit)
    return True


cdef int _put_date(_Buf* o, object d) except -1:
    _put_digits(o, PyDateTime_GET_YEAR(d), 4)
    _put_char(o, c'-')
    _put_digits(o, PyDateTime_GET_MONTH(d), 2)
    _put_char(o, c'-')
    _put_digits(o, PyDateTime_GET_DAY(d), 2)
    return 0


cdef int _put_time(_Buf* o, object t) except -1:
    _put_digits(o, PyDateTime_TIME_GET_HOUR(t), 2)
    _put_char(o, c':')
    _put_digits(o, PyDateTime_TIME_GET_MINUTE(t), 2)
    _put_char(o, c':')
    _put_digits(o, PyDateTime_TIME_GET_SECOND(t), 2)
    _put_fraction(o, PyDateTime_TIME_GET_MICROSECOND(t))
    return 0


cdef bint _put_datetime(_Buf* o, object dt) except -1:
    """``zinc.dumps_datetime`` for ZoneInfo and fixed-offset zones; False for the reference."""
    cdef object zone = datetime_tzinfo(dt)
    cdef object name, off
    cdef long secs
    if type(zone) is not _ZoneInfo and type(zone) is not _timezone:
        return False
    name = _zone_names.get(zone)
    if name is None:
        try:
            name = _tz_name(zone)
        except ValueError:
            return False
        _zone_names[zone] = name
    off = dt.utcoffset()
    if PyDateTime_DELTA_GET_MICROSECONDS(off) != 0:
        return False
    secs = PyDateTime_DELTA_GET_DAYS(off) * 86400L + PyDateTime_DELTA_GET_SECONDS(off)
    _put_date(o, dt)
    _put_char(o, c'T')
    _put_digits(o, PyDateTime_DATE_GET_HOUR(dt), 2)
    _put_char(o, c':')
    _put_digits(o, PyDateTime_DATE_GET_MINUTE(dt), 2)
    _put_char(o, c':')
    _put_digits(o, PyDateTime_DATE_GET_SECOND(dt), 2)
    _put_fraction(o, PyDateTime_DATE_GET_MICROSECOND(dt))
    if secs == 0:
        _put_char(o, c'Z')
        if name == "UTC":
            return True
    else:
        _put_char(o, c'-' if secs < 0 else c'+')
        secs = labs(secs)
        _put_digits(o, secs // 3600, 2)
        _put_char(o, c':')
        _put_digits(o, secs // 60 % 60, 2)
    _put_char(o, c' ')
    _put_str(o, name)
    return True


cdef bint _put_value(_Buf* o, object val) except -1:
    """Write the text of a value of a hot kind other than Str; False for the reference."""
    cdef type t = type(val)
    cdef object rec_id, dis
    if t is _Ref:
        rec_id = slot_get(val, _REF_ID, "_id")
        dis = slot_get(val, _REF_DIS, "_dis")
        if type(rec_id) is not str or (dis is not None and type(dis) is not str):
            return False  # slots forced to other types: the reference raises
        _put_char(o, c'@')
        _put_str(o, rec_id)
        if dis is not None:
            _put_char(o, c' ')
            _put_code(o, dis)
        return True
    if t is _Number:
        return _put_number(o, val)
    if t is bool:
        if val:
            _put_ascii(o, b"true", 4)
        else:
            _put_ascii(o, b"false", 5)
        return True
    if t is _datetime:
        return _put_datetime(o, val)
    if t is _date:
        _put_date(o, val)
        return True
    if t is _time and time_tzinfo(val) is None:
        _put_time(o, val)
        return True
    return False


cdef int _put_tag(_Buf* o, object name, object val, bint checked) except -1:
    """Write one tag whose value is not None; -1 on error, 1 when the reference must write it
    (with :func:`_tag_text`, which needs the look-ahead), else 0."""
    cdef Py_ssize_t mark
    if not checked and _tag_name(name) is None:
        raise _bad_name(name)
    if val is _MARKER:
        _put_str(o, name)
        _put_char(o, c'\n')
        return 0
    if type(val) is str:
        if "\n" in <str>val:
            return 1
        _put_str(o, name)
        _put_char(o, c':')
        if _must_quote(val):
            _put_code(o, val)
        else:
            _put_str(o, val)
        _put_char(o, c'\n')
        return 0
    mark = o.len
    _put_str(o, name)
    _put_char(o, c':')
    if _put_value(o, val):
        _put_char(o, c'\n')
        return 0
    o.len = mark
    return 1


# Tag orders by key sequence, so most records skip the sort: per slot, a tuple of the keys in
# dict order, the names in the reference's order and for each name its position among the keys
# (one tuple, so a reader never sees one record's keys with another's order).
cdef Py_ssize_t _MAX_FAST_TAGS = 64
cdef list _orders = [None] * 256


cdef inline void _release(PyObject** ks, PyObject** vs, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        Py_DECREF(<object>ks[i])
        Py_DECREF(<object>vs[i])


cdef int _write_dict(_Buf* o, dict rec) except -1:
    """Write a dict with at most _MAX_FAST_TAGS str keys; 1 if it is not one (nothing written).

    Its keys and values are first taken as strong references in one pass that runs no Python
    code, and only that snapshot is read afterwards: whatever a gc callback or another thread
    does to ``rec`` meanwhile, the text written is one consistent state of it."""
    cdef PyObject* ks[64]
    cdef PyObject* vs[64]
    cdef PyObject* key
    cdef PyObject* value
    cdef Py_ssize_t pos = 0, n = 0, i, j, slot
    cdef size_t h = 5381
    cdef object order_entry, names, perm, val, name
    cdef tuple keys
    cdef list key_list
    cdef const unsigned char* order
    cdef bint checked = True, short
    if PyDict_GET_SIZE(rec) > _MAX_FAST_TAGS:
        return 1
    while PyDict_Next(rec, &pos, &key, &value):  # nothing in this loop can run Python code
        if n == _MAX_FAST_TAGS or not PyUnicode_CheckExact(<object>key):
            _release(ks, vs, n)
            return 1
        Py_INCREF(<object>key)
        Py_INCREF(<object>value)
        ks[n] = key
        vs[n] = value
        n += 1
    try:
        for i in range(n):
            h = (h * 1000003) ^ <size_t>PyObject_Hash(<object>ks[i])  # an exact str: no Python
        slot = <Py_ssize_t>(h >> 3) & 255
        order_entry = _orders[slot]
        names = None
        if order_entry is not None:
            keys = (<tuple>order_entry)[0]
            if len(keys) == n:
                for i in range(n):
                    if <PyObject*>keys[i] is not ks[i] and keys[i] != <object>ks[i]:
                        break
                else:
                    names = (<tuple>order_entry)[1]
                    perm = (<tuple>order_entry)[2]
        if names is None:
            key_list = [<object>ks[i] for i in range(n)]
            names = _sorted_names(key_list)
            for name in names:
                if _tag_name(name) is None:
                    checked = False
                    break
            index = {key_list[i]: i for i in range(n)}
            perm = bytes([index[name] for name in names])
            if checked:
                _orders[slot] = (tuple(key_list), names, perm)
        order = perm
        for i in range(n):
            val = <object>vs[order[i]]
            if val is None:
                continue
            name = (<list>names)[i]
            if _put_tag(o, name, val, checked) == 1:
                short = False
                for j in range(i + 1, n):
                    if <object>vs[order[j]] is not None:
                        short = PyUnicode_GET_LENGTH((<list>names)[j]) == 1 and (
                            <object>vs[order[j]] is _MARKER
                        )
                        break
                _put_str(o, _tag_text(name, val, short))
    finally:
        _release(ks, vs, n)
    return 0


cdef int _write_rec(_Buf* o, object rec) except -1:
    cdef list tags
    cdef Py_ssize_t i, last
    if type(rec) is dict and _write_dict(o, rec) == 0:
        return 0
    _check_rec(rec)
    tags = [(n, v) for n in _sorted_names(rec) if (v := rec[n]) is not None]
    last = len(tags) - 1
    for i in range(last + 1):
        name, val = tags[i]
        if _put_tag(o, name, val, False) == 1:
            short = i < last and len(tags[i + 1][0]) == 1 and tags[i + 1][1] is _MARKER
            _put_str(o, _tag_text(name, val, short))
    return 0


cdef str _write(object recs, bint many):
    cdef _Buf o
    o.cap = 512
    o.len = 0
    o.data = <Py_UCS4*>PyMem_Malloc(o.cap * sizeof(Py_UCS4))
    if o.data is NULL:
        raise MemoryError()
    try:
        if not many:
            _write_rec(&o, recs)
        else:
            for rec in recs:
                if o.len:
                    _put_ascii(&o, b"---\n", 4)
                _write_rec(&o, rec)
        return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, o.data, o.len)
    finally:
        PyMem_Free(o.data)


def dumps(rec_or_recs):
    """Native :func:`hxredis.trio.py_dumps`: Trio text of one record or of many."""
    return _write(rec_or_recs, not (type(rec_or_recs) is dict or isinstance(rec_or_recs, _Mapping)))


def dump_rec(rec):
    """Native :func:`hxredis.trio.py_dump_rec`: Trio text of exactly one record."""
    return _write(rec, False)
