"""Native (Cython) fast paths of hxredis.

Each module here has a pure-Python reference in the ``hxredis`` package that produces the
same results; tests hold the two to each other.  Modules:

* ``resp``: RESP command encoding (reference: :mod:`hxredis.resp`).
* ``trio``: Trio encoding and decoding of records (reference: ``py_dumps`` / ``py_loads`` in
  :mod:`hxredis.trio`).
* ``codec``: stored records into cached records (reference: ``py_decode_record(s)`` in
  :mod:`hxredis.codec`).
* ``index``: bulk tag indexing (reference: :func:`hxredis.query_plan.py_add_many`).
* ``dis``: display names in bulk (reference: ``py_rebuild`` / ``py_compute_all`` in
  :mod:`hxredis.dis`).
* ``hisrows``: the rows of a hisRead reply from numpy arrays (reference:
  :func:`hxredis.http.hisrows.py_rows`).
* ``hisbuf``: history command buffers and range replies (reference: ``py_*`` in
  :mod:`hxredis.his.wire`); its values are written and read by ``floattext.h``, exact C
  versions of ``repr(float)`` and ``float()``.

``slots.pxd`` gives them direct access to the ``__slots__`` of hxredis values.

Memory rule: no borrowed reference (``PyDict_Next``, ``PyDict_GetItem``, a ``<object>`` cast of
a ``PyObject*``) is held across anything that can run Python code (an allocation, which can run
a gc callback; a comparison or hash of a user object; any call): it is made a strong reference
first.  ``tests/test_native_stress.py`` changes the inputs of every function from gc callbacks
and other threads to hold them to it.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def load(name: str) -> ModuleType | None:
    """The compiled module ``hxredis._fastcore.<name>``, or None when it is not built (the
    pure-Python reference serves then)."""
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ImportError:
        return None
