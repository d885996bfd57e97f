# cython: language_level=3, boundscheck=False, wraparound=False
"""Native :func:`hxredis.query_plan.py_add_many`: bulk indexing for a cold load.

Writes into the tables of a :class:`hxredis.query_plan.TagIndex` (passed in by the index
itself) with the same result, order included, as adding each record in turn.  The ids are
first gathered per tag (and per Ref value) into lists; a new bucket keeps its list, which the
index makes a dict on first use (most buckets of a large database are never queried).
"""

from cpython.dict cimport PyDict_GetItem, PyDict_Next, PyDict_SetItem
from cpython.object cimport PyObject

from _fastcore.slots cimport slot_get, slot_offset

from hxredis.values import Ref

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(object o)

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define hx_prefetch(p) __builtin_prefetch(p)
    #else
    #define hx_prefetch(p) ((void)(p))
    #endif
    """
    void hx_prefetch(PyObject* p)

cdef type _Ref = Ref
cdef Py_ssize_t _REF_ID = slot_offset(Ref.__dict__["_id"])


cdef list _group(dict groups, object key):
    cdef PyObject* found = PyDict_GetItem(groups, key)
    if found != NULL:
        return <list>found
    ids = groups[key] = []
    return ids


cdef void _gather(dict by_tag, dict by_ref, object rec_id, object tag, object val) except *:
    if val is None:
        return
    _group(by_tag, tag).append(rec_id)
    if isinstance(val, _Ref):
        if tag != "id":
            _group(_group_table(by_ref, tag), slot_get(val, _REF_ID, "_id")).append(rec_id)
    elif isinstance(val, list) and tag != "id":
        for item in val:
            if isinstance(item, _Ref):
                _group(_group_table(by_ref, tag), item.id).append(rec_id)


cdef dict _group_table(dict tables, object tag):
    cdef PyObject* found = PyDict_GetItem(tables, tag)
    if found != NULL:
        return <dict>found
    table = tables[tag] = {}
    return table


cdef void _fill(dict table, object key, list ids) except *:
    """Append ``ids`` to the bucket ``table[key]``: a new bucket is the list itself (the index
    makes it a dict on first use), a list bucket is extended, a dict bucket filled."""
    cdef PyObject* found = PyDict_GetItem(table, key)
    cdef object bucket
    if found == NULL:
        PyObject_GC_UnTrack(ids)  # only ever holds id strs: spare the GC a walk over it
        table[key] = ids
        return
    bucket = <object>found  # a strong reference: filling it may run a gc callback
    if type(bucket) is list:
        (<list>bucket).extend(ids)
    else:
        for rec_id in ids:
            PyDict_SetItem(<dict>bucket, rec_id, None)


def add_many(dict seq, Py_ssize_t next_seq, dict tags, dict refs, recs):
    """Index ``(id, record)`` pairs into a TagIndex's tables; returns the next sequence
    number.  ValueError if an id is already indexed or comes twice (nothing is indexed then)."""
    cdef Py_ssize_t pos
    cdef PyObject* name
    cdef PyObject* value
    cdef dict by_tag = {}, by_ref = {}, new_seq = {}
    for rec_id, rec in recs:
        if rec_id in seq or rec_id in new_seq:
            raise ValueError(f"record already indexed: {rec_id}")
        new_seq[rec_id] = next_seq
        next_seq += 1
        if isinstance(rec, dict):
            pos = 0  # first ask for every value at once (they are all over the heap) ...
            while PyDict_Next(rec, &pos, &name, &value):
                hx_prefetch(value)
            pos = 0  # ... then read their types (strong references: _gather runs Python code)
            while PyDict_Next(rec, &pos, &name, &value):
                tag = <object>name
                val = <object>value
                _gather(by_tag, by_ref, rec_id, tag, val)
        else:
            for tag, val in rec.items():
                _gather(by_tag, by_ref, rec_id, tag, val)
    seq.update(new_seq)
    for tag, ids in by_tag.items():
        _fill(tags, tag, ids)
    for tag, groups in by_ref.items():
        table = _group_table(refs, tag)
        for ref_id, ids in (<dict>groups).items():
            _fill(table, ref_id, ids)
    return next_seq
