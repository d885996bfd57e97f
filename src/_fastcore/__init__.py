"""Native (Cython) fast paths of hxredis.

Each module here has a pure-Python reference in the ``hxredis`` package that produces the
same output; tests hold the two to each other.  Modules:

* ``resp``: RESP command encoding (reference: :mod:`hxredis.resp`).
* ``trio``: Trio encoding and decoding of records (reference: ``py_dumps`` / ``py_loads`` in
  :mod:`hxredis.trio`).
"""
