"""Direct access to the ``__slots__`` of hxredis value objects (``Ref``: ``_id``, ``_dis``;
``Number``: ``_val``, ``_unit``), for the native modules' hot paths.

A module computes each offset once, ``slot_offset(Ref.__dict__["_id"])``; an offset of -1 (a
layout this code does not know) makes the accessors fall back to attribute access.
"""

from cpython.object cimport PyObject, PyObject_GenericSetAttr

cdef extern from *:
    """
    #include "structmember.h"
    /* Offset of an object slot (a __slots__ member descriptor), or -1 if it is anything else. */
    static Py_ssize_t hx_slot_offset(PyObject *descr) {
        PyMemberDef *m;
        if (Py_TYPE(descr) != &PyMemberDescr_Type) return -1;
        m = ((PyMemberDescrObject *)descr)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY)) return -1;
        return m->offset;
    }
    /* Store v in a slot of a freshly allocated object (the slot is still NULL). */
    static void hx_slot_init(PyObject *obj, Py_ssize_t offset, PyObject *v) {
        Py_INCREF(v);
        *(PyObject **)((char *)obj + offset) = v;
    }
    /* Replace the object in a slot. */
    static void hx_slot_set(PyObject *obj, Py_ssize_t offset, PyObject *v) {
        PyObject **slot = (PyObject **)((char *)obj + offset);
        PyObject *old = *slot;
        Py_INCREF(v);
        *slot = v;
        Py_XDECREF(old);
    }
    static PyObject *hx_alloc(PyTypeObject *t) { return t->tp_alloc(t, 0); }
    /* The object in a slot (borrowed, never NULL for a constructed value: Py_None if unset). */
    static PyObject *hx_slot_get(PyObject *obj, Py_ssize_t offset) {
        PyObject *v = *(PyObject **)((char *)obj + offset);
        return v ? v : Py_None;
    }
    """
    Py_ssize_t slot_offset "hx_slot_offset"(object descr)
    void slot_init "hx_slot_init"(object obj, Py_ssize_t offset, object v)
    void _slot_set "hx_slot_set"(object obj, Py_ssize_t offset, object v)
    object alloc "hx_alloc"(type t)
    PyObject* _slot_get "hx_slot_get"(object obj, Py_ssize_t offset)


cdef inline object slot_get(object obj, Py_ssize_t offset, str name):
    """``obj.<name>``, read directly at ``offset`` unless it is -1."""
    if offset >= 0:
        return <object>_slot_get(obj, offset)
    return getattr(obj, name)


cdef inline int slot_set(object obj, Py_ssize_t offset, str name, object val) except -1:
    """Set ``obj.<name>`` (bypassing a frozen ``__setattr__``), directly unless offset is -1."""
    if offset >= 0:
        _slot_set(obj, offset, val)
        return 0
    return PyObject_GenericSetAttr(obj, name, val)
