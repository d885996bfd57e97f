# cython: language_level=3, boundscheck=False, wraparound=False
"""Native :func:`hxredis.dis.py_rebuild` and :func:`hxredis.dis.py_compute_all`.

The same algorithm and results as the references; only the common display rules are
evaluated here (a Str ``dis``, a Str ``disMacro`` whose variables are Strs and Refs), every
other case calls the reference helpers of :mod:`hxredis.values`.  Records are dicts
(``Rec``); ``views``, ``refs`` and the dependency tables are the Folio's own dicts.
"""

from cpython.dict cimport PyDict_GetItem, PyDict_Next
from cpython.object cimport PyObject

from _fastcore.slots cimport slot_get, slot_offset, slot_set

from hxredis.codec import intern as _py_intern
from hxredis.values import Ref, _display_str, dis_of, macro_parts

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(object o)

cdef type _Ref = Ref
cdef Py_ssize_t _REF_ID = slot_offset(Ref.__dict__["_id"])
cdef Py_ssize_t _REF_DIS = slot_offset(Ref.__dict__["_dis"])


cdef inline object _get(object d, object key):  # d: a dict or a subclass (Rec)
    cdef PyObject* found = PyDict_GetItem(d, key)
    return None if found == NULL else <object>found


cdef object _ref(dict refs, str rec_id):
    """The interned Ref of ``rec_id``; TypeError if ``refs`` holds anything else for it (its
    slots are written directly)."""
    cdef PyObject* found = PyDict_GetItem(refs, rec_id)
    cdef object ref = _py_intern(refs, rec_id) if found == NULL else <object>found
    if not isinstance(ref, _Ref):
        raise TypeError(f"refs[{rec_id!r}] is not a Ref: {type(ref).__name__}")
    return ref


cdef inline void _set_dis(object ref, object dis) except *:
    slot_set(ref, _REF_DIS, "_dis", dis)  # Ref refuses setattr; its slot does not


cdef inline object _id_of(object ref):
    return slot_get(ref, _REF_ID, "_id")


cdef tuple _NONE = ()


cdef tuple _macro_targets(object rec):
    cdef object pattern, val, target
    cdef list targets
    pattern = _get(rec, "disMacro")
    if type(pattern) is not str:
        return _NONE
    targets = []
    for _, name in macro_parts(pattern):
        if name:
            val = _get(rec, name)
            if type(val) is _Ref:
                target = _id_of(val)
                if target not in targets:
                    targets.append(target)
    return _untracked(tuple(targets)) if targets else _NONE


cdef str _macro(str pattern, object rec):
    cdef list out = []
    cdef object val
    for text, name in macro_parts(pattern):
        val = None if name is None else _get(rec, name)
        if val is None:
            out.append(text)
        elif type(val) is str:
            out.append(val)
        elif type(val) is _Ref:
            dis = slot_get(val, _REF_DIS, "_dis")
            out.append(_id_of(val) if dis is None else dis)
        else:
            out.append(_display_str(val))
    return "".join(out)


cdef object _dis_of(object rec):
    """values.dis_of, natively for a Str dis or disMacro."""
    cdef object val
    if not isinstance(rec, dict):
        return dis_of(rec)
    val = _get(rec, "dis")
    if val is not None:
        return val if type(val) is str else _display_str(val)
    val = _get(rec, "disMacro")
    if type(val) is str:
        return _macro(val, rec)
    return dis_of(rec)


cdef object _own_dis(object rec, object ref):
    _set_dis(ref, _id_of(ref))
    return _dis_of(rec)


cdef _untracked(ids):
    """A tuple or set that only ever holds id strs cannot be part of a reference cycle: keep
    the garbage collector from walking the hundred thousand of them a large database has."""
    PyObject_GC_UnTrack(ids)
    return ids


def rebuild(dict views, dict refs, dict depends_on, dict dependents):
    """Native :func:`hxredis.dis.py_rebuild`: the dependencies and the display of the
    records that show no other record in one pass over ``views``, then the others."""
    cdef Py_ssize_t pos = 0
    cdef PyObject* key
    cdef PyObject* value
    cdef object rec, ref
    cdef tuple targets
    cdef set users
    cdef _Walk walk = _Walk()
    depends_on.clear()
    dependents.clear()
    while PyDict_Next(views, &pos, &key, &value):
        rec = <object>value
        rec_id = <object>key
        targets = _macro_targets(rec)
        ref = _ref(refs, rec_id)
        if not targets:
            _set_dis(ref, _own_dis(rec, ref))
            continue
        walk.add(rec_id, rec, ref, targets)
        depends_on[rec_id] = targets
        for target in targets:
            users = <set>_get(dependents, target)
            if users is None:
                dependents[target] = _untracked({rec_id})
            else:
                users.add(rec_id)
    walk.run()


def compute_all(todo, dict views, dict refs, dict depends_on):
    """Native :func:`hxredis.dis.py_compute_all`."""
    cdef object rec, ref, targets
    cdef _Walk walk = _Walk()
    for rec_id in todo:
        rec = _get(views, rec_id)
        ref = _ref(refs, rec_id)
        targets = _get(depends_on, rec_id)
        if targets is None:
            _set_dis(ref, None if rec is None else _own_dis(rec, ref))
        else:
            walk.add(rec_id, rec, ref, targets)
    walk.run()


cdef class _Node:
    """A record that shows other records, to compute once its targets are."""

    cdef str rec_id
    cdef object rec, ref
    cdef tuple targets
    cdef Py_ssize_t next  # the next target to look at
    cdef int state  # 0: waiting, 1: in progress (its Ref shows the raw id), 2: done


cdef class _Walk:
    """The depth-first part of compute_all over the records that show others, in the order
    they were added (every other record of ``todo`` is computed already)."""

    cdef dict nodes
    cdef list order

    def __cinit__(self):
        self.nodes = {}
        self.order = []

    cdef void add(self, str rec_id, object rec, object ref, object targets) except *:
        cdef _Node node = _Node.__new__(_Node)
        node.rec_id = rec_id
        node.rec = rec
        node.ref = ref
        node.targets = tuple(targets) if rec is not None else _NONE
        self.nodes[rec_id] = node
        self.order.append(node)

    cdef void run(self) except *:
        cdef list stack = []
        cdef _Node root, node, target
        cdef PyObject* found
        cdef bint pushed
        for root in self.order:
            if root.state:
                continue
            _enter(root)
            stack.append(root)
            while stack:
                node = <_Node>stack[len(stack) - 1]
                pushed = False
                while node.next < len(node.targets):
                    found = PyDict_GetItem(self.nodes, node.targets[node.next])
                    node.next += 1
                    if found != NULL and (<_Node>found).state == 0:
                        target = <_Node>found  # strong before anything runs
                        _enter(target)
                        stack.append(target)
                        pushed = True
                        break
                if not pushed:
                    stack.pop()
                    node.state = 2
                    _set_dis(node.ref, None if node.rec is None else _dis_of(node.rec))


cdef inline void _enter(_Node node) except *:
    node.state = 1
    if node.targets:
        _set_dis(node.ref, node.rec_id)  # the cycle guard
