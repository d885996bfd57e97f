"""Helpers for the Folio tests: shared assertions, a fault-injecting TCP proxy and the worker
script the multi-process tests run as child processes."""
