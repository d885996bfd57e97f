"""Point history: the ``db.his`` facade (:mod:`.facade`), point checks and normalization
(:mod:`.point`), value codes (:mod:`.codes`), one module per backend (:mod:`.timeseries`,
:mod:`.zset`, both behind :class:`.backend.Backend`) and the summaries shown on point
records (:mod:`.summary`)."""

from .facade import History

__all__ = ["History"]
