# cython: language_level=3, boundscheck=False, wraparound=False
"""Native :func:`hxredis.codec.py_decode_record` and ``py_decode_records``: the same contracts
and results.

One pass over the record the native Trio reader returns: Refs are swapped for their interned
instances, Lists and Dicts are handed to the reference's ``cached_value`` (rare), and the
record becomes a ``Rec`` in place.  A record holding only scalars cannot be part of a
reference cycle, so it is taken out of the cyclic garbage collector, which otherwise walks
every record of a large cache on each collection.
"""

from cpython.dict cimport PyDict_GetItem, PyDict_Next, PyDict_SetItem, PyDict_Update
from cpython.object cimport PyObject

from _fastcore.slots cimport slot_get, slot_offset

from hxredis._fastcore.trio import loads as _loads
from hxredis.codec import _text, _the_record, _undecodable, cached_value
from hxredis.errors import ParseError
from hxredis.record import Rec
from hxredis.values import Coord, Marker, NAType, Number, Ref, Span, Symbol, Uri, XStr

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(object o)
    int PyObject_GC_IsTracked(object o)

cdef extern from *:
    """
    /* Make the dict o an instance of t, a subclass that adds nothing to dict's layout:
       what `o.__class__ = t` does for the types Python lets it. */
    static void hx_retype(PyObject *o, PyTypeObject *t) {
        Py_INCREF(t);
        Py_SET_TYPE(o, t);
    }
    """
    void hx_retype(object o, type t)

cdef type _Rec = Rec
# a fresh record dict becomes a Rec in place (no copy) when Rec has dict's layout exactly
cdef bint _SAME_LAYOUT = (
    Rec.__basicsize__ == dict.__basicsize__
    and Rec.__itemsize__ == dict.__itemsize__
    and Rec.__dictoffset__ == dict.__dictoffset__
    and Rec.__weakrefoffset__ == dict.__weakrefoffset__
)
cdef type _Ref = Ref
cdef Py_ssize_t _REF_ID = slot_offset(Ref.__dict__["_id"])
cdef Py_ssize_t _REF_DIS = slot_offset(Ref.__dict__["_dis"])
# values that never refer to a container: a record holding only these (and untracked
# objects such as strs and dates) cannot be part of a reference cycle
cdef frozenset _ATOMS = frozenset({Coord, Marker, NAType, Number, Ref, Span, Symbol, Uri, XStr})


cdef object _interned(dict refs, object ref):
    """The interned Ref for the id of ``ref``; a fresh Ref without dis becomes it."""
    cdef str rec_id = slot_get(ref, _REF_ID, "_id")
    cdef PyObject* found = PyDict_GetItem(refs, rec_id)
    if found != NULL:
        return <object>found
    if slot_get(ref, _REF_DIS, "_dis") is not None:
        ref = _Ref(rec_id)
        PyObject_GC_UnTrack(ref)  # holds two strs: never part of a cycle
    refs[rec_id] = ref
    return ref


cdef dict _record(str key, list recs):
    """The one record of a stored text with the id ``key`` (else the reference raises)."""
    cdef dict rec
    cdef object rec_id
    if len(recs) == 1:
        rec = recs[0]
        rec_id = rec.get("id")
        if type(rec_id) is _Ref and slot_get(rec_id, _REF_ID, "_id") == key:
            return rec
    return _the_record(key, recs)


def decode_record(str key, text, dict refs):
    """Native :func:`hxredis.codec.py_decode_record`."""
    return _decode(key, text, refs)


def decode_records(dict chunk, dict refs, dict out):
    """Native :func:`hxredis.codec.py_decode_records`."""
    cdef Py_ssize_t pos = 0
    cdef PyObject* raw_id
    cdef PyObject* text
    cdef list failed = []
    cdef object rec_id, stored, rec
    while PyDict_Next(chunk, &pos, &raw_id, &text):
        rec_id = <object>raw_id  # strong references before anything can change chunk
        stored = <object>text
        if type(rec_id) is not str:
            rec_id = rec_id.decode(errors="backslashreplace")
        try:
            rec = _decode(rec_id, stored, refs)
        except ParseError as exc:
            failed.append((rec_id, exc))
            continue
        # keyed by the id str of the interned Ref: every table of the cache then holds the
        # same str object for an id, and their lookups match it by identity
        out[slot_get(rec["id"], _REF_ID, "_id")] = rec
    return failed


cdef object _decode(str key, object text, dict refs):
    cdef dict raw
    cdef Py_ssize_t pos = 0
    cdef PyObject* name
    cdef PyObject* value
    cdef object tag, val, kind
    cdef bint scalars = True
    if type(text) is bytes:
        try:
            text = (<bytes>text).decode()
        except UnicodeDecodeError:
            text = _text(text)  # raises the reference's ParseError
    try:
        raw = _record(key, _loads(text if type(text) is str else _text(text)))
    except ParseError:
        raise
    except Exception as exc:
        raise _undecodable(exc) from exc
    while PyDict_Next(raw, &pos, &name, &value):
        tag = <object>name
        val = <object>value
        kind = type(val)
        if kind is _Ref:
            PyDict_SetItem(raw, tag, _interned(refs, val))  # same key: no resize
        elif isinstance(val, list) or isinstance(val, dict):
            PyDict_SetItem(raw, tag, cached_value(val, _RefOf(refs)))
            scalars = False
        elif PyObject_GC_IsTracked(val) and kind not in _ATOMS:  # a Grid, say
            scalars = False
    if _SAME_LAYOUT:
        hx_retype(raw, _Rec)
        rec = raw
    else:
        rec = _Rec.__new__(_Rec)
        PyDict_Update(rec, raw)
    if scalars:
        PyObject_GC_UnTrack(rec)
    return rec


cdef class _RefOf:
    """``ref_of`` for :func:`hxredis.codec.cached_value`: interns in one table."""

    cdef dict refs

    def __init__(self, dict refs):
        self.refs = refs

    def __call__(self, ref):
        return _interned(self.refs, ref)
