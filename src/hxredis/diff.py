"""Diff: one set of changes to a Folio record (Haxall ``folio::Diff``), plus the validation the
Folio runs on every commit (Haxall ``FolioUtil.checkDiffs``, ``checkRecId``, ``checkTagName``,
``checkTagVal`` and the ``DiffTagRule`` tag rules).

A Diff is validated when it is built, so a bad Diff never reaches a commit.  ``changes`` maps tag
names to values; :data:`~hxredis.values.REMOVE` as a value removes the tag.  Values must be
Haystack kinds, except that a plain Python ``int`` or ``float`` at the top level of ``changes`` is
converted to a unitless :class:`~hxredis.values.Number` (``bool`` stays a Bool; values nested in
lists and dicts are not converted).  A Python ``None`` value raises
:class:`~hxredis.errors.InvalidTagValueError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from . import timezones, zinc
from .errors import (
    DiffError,
    InvalidRecIdError,
    InvalidTagNameError,
    InvalidTagValueError,
    ParseError,
)
from .values import MARKER, NA, REMOVE, Grid, Number, Ref, is_tag_name, kind_of
from .zinc import MAX_DEPTH

__all__ = [
    "NEVER_INDEX_TAGS",
    "NEVER_TAGS",
    "PERSISTENT_ONLY_TAGS",
    "RESTRICTED_TAGS",
    "TRANSIENT_ONLY_TAGS",
    "Diff",
    "check_diffs",
    "check_rec_id",
    "check_tag_name",
    "check_tag_value",
    "is_uncommittable",
]

_MAX_REC_ID_SIZE = 60
_MAX_TAG_NAME_SIZE = 60
_MAX_STR_SIZE = 32767
_MAX_URI_SIZE = 1000
_MIN_YEAR, _MAX_YEAR = 1901, 2099  # the DateTime range of Zinc (Fantom)

# ------------------------------------------------------------------------------------------------
# Tag rules (Haxall DiffTagRule)
# ------------------------------------------------------------------------------------------------

#: Tags no Diff may set or remove.
NEVER_TAGS = frozenset(
    {"id", "mod", "transient", "hisId", "hisSize", "hisStart", "hisStartVal", "hisEnd", "hisEndVal"}
)
#: Tags only a Diff with ``BYPASS_RESTRICTED`` may set or remove.
RESTRICTED_TAGS = frozenset({"projMeta", "uiMeta", "ext", "fileSize"})
#: Tags a transient Diff may not touch.
PERSISTENT_ONLY_TAGS = frozenset(
    {"conn", "dis", "disMacro", "equip", "navName", "point", "site", "trash"}
)
#: Tags only a transient Diff may touch.
TRANSIENT_ONLY_TAGS = frozenset(
    {
        "connState",
        "connStatus",
        "connErr",
        "curVal",
        "curStatus",
        "curErr",
        "curSource",
        "writeVal",
        "writeLevel",
        "writeStatus",
        "writeErr",
        "nextTime",
        "nextVal",
        "hisStatus",
        "hisErr",
        "userFailedLogins",
    }
)
#: Tags the Folio never indexes (Haxall ``FolioUtil.tagsToNeverIndex``).
NEVER_INDEX_TAGS = frozenset({"id", "mod", "trash"}) | NEVER_TAGS | TRANSIENT_ONLY_TAGS


def is_uncommittable(name: str) -> bool:
    """True when a tag is never persisted from a read record: the transient-only tags and the
    never tags except ``id`` (Haxall ``FolioUtil.isUncommittable``)."""
    return name in TRANSIENT_ONLY_TAGS or (name in NEVER_TAGS and name != "id")


# ------------------------------------------------------------------------------------------------
# Validation (Haxall FolioUtil)
# ------------------------------------------------------------------------------------------------


def check_rec_id(ref: Ref) -> None:
    """Raise :class:`InvalidRecIdError` unless ``ref`` may be the id of a new record: not a
    Niagara id (uppercase letter then ``.``), at most 60 chars, no colon."""
    s = ref.id
    if s[1:2] == "." and "A" <= s[0] <= "Z":
        raise InvalidRecIdError(f"Cannot use Niagara id: {s}")
    if len(s) > _MAX_REC_ID_SIZE:
        raise InvalidRecIdError(f"Id too long: {s}")
    if ":" in s:
        raise InvalidRecIdError(f"Id cannot contain colon: {s}")


def check_tag_name(name: str) -> None:
    """Raise :class:`InvalidTagNameError` unless ``name`` is a valid tag name
    (:func:`~hxredis.values.is_tag_name`) of at most 60 chars."""
    if not is_tag_name(name):
        raise InvalidTagNameError(f"Invalid tag name chars: {name}")
    if len(name) > _MAX_TAG_NAME_SIZE:
        raise InvalidTagNameError(f"Tag too long: {name}")


def check_tag_value(name: str, val: Any) -> str:
    """Return the kind name of ``val`` if it may be stored in tag ``name``, else raise
    :class:`InvalidTagValueError`.

    Refused: ``None``; anything that is not a Haystack kind; NA; a Str over 32767 chars; a Uri
    over 1000 chars; text that is not valid Unicode (a lone surrogate: it cannot be stored as
    UTF-8) in a Str, Uri, XStr or Ref display string; a DateTime (or Span) whose timezone has
    no Haystack name; for the ``name`` tag, anything but :data:`~hxredis.values.REMOVE` or a
    Str made of Ref id chars.

    Collections are checked by the rules of the readers, so that whatever is accepted is
    written as Trio text that reads back equal: List elements, Dict values and Grid cells and
    meta values are checked the same way (except that a Grid cell or meta value may be NA);
    Dict and meta keys and column names must be tag names; a Grid needs at least one column,
    unique column names and no cell outside its columns; Lists, Dicts and Grids nest at most
    :data:`~hxredis.zinc.MAX_DEPTH` levels (a self-containing List is refused so).  An
    ``XStr("Bin", …)`` has kind ``"Bin"``.
    """
    kind = _value_kind(name, val)
    if name == "name" and kind != "Remove":
        if kind != "Str":
            raise InvalidTagValueError("Tag 'name' must be a Str")
        try:
            Ref(val)
        except ParseError:
            raise InvalidTagValueError(f"Invalid 'name' tag value {zinc.dumps_str(val)}") from None
    elif kind in _COLLECTIONS:
        _check_nested(name, val, 1)
    return kind


def _value_kind(name: str, val: Any) -> str:
    """The kind of one value, after the checks that do not look inside containers."""
    if val is None:
        raise InvalidTagValueError(f"Tag cannot be null: {name}")
    try:
        kind = kind_of(val)
    except TypeError:
        raise InvalidTagValueError(f"Unsupported tag type: {type(val).__name__}") from None
    if kind == "Str":
        if len(val) > _MAX_STR_SIZE:
            raise InvalidTagValueError(f"Tag '{name}' has Str value > {_MAX_STR_SIZE} chars")
        _check_unicode(name, val)
    elif kind == "Uri":
        if len(val.val) > _MAX_URI_SIZE:
            raise InvalidTagValueError(f"Tag '{name}' Uri value > {_MAX_URI_SIZE} chars")
        _check_unicode(name, val.val)
    elif kind == "Ref":
        if val.dis is not None:
            _check_unicode(name, val.dis)
    elif kind == "Number":
        if val.unit is not None and not math.isfinite(val.val):
            raise InvalidTagValueError(
                f"Tag '{name}': {val.val} cannot carry a unit (Zinc writes INF, -INF and NaN "
                "without one); store it unitless"
            )
    elif kind == "NA":
        raise InvalidTagValueError(f"Tag '{name}' cannot store NA")
    elif kind == "XStr":
        _check_unicode(name, val.val)
        if val.type == "Bin":
            return "Bin"
    elif kind == "DateTime" or kind == "Span":
        try:
            timezones.tz_name(val if kind == "DateTime" else val.start)
        except ValueError as e:
            raise InvalidTagValueError(f"Tag '{name}' has an unsupported timezone: {e}") from None
        for dt in (val,) if kind == "DateTime" else (val.start, val.end):
            if not _MIN_YEAR <= dt.year <= _MAX_YEAR:
                raise InvalidTagValueError(
                    f"Tag '{name}' DateTime year {dt.year} outside {_MIN_YEAR}-{_MAX_YEAR}"
                )
    return kind


def _check_unicode(name: str, val: str) -> None:
    """Text is stored as UTF-8: lone surrogates cannot be."""
    if val.isascii():
        return
    try:
        val.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidTagValueError(f"Tag '{name}' has text that is not valid Unicode") from None


_COLLECTIONS = frozenset({"List", "Dict", "Grid"})


def _check_nested(name: str, val: Any, depth: int) -> None:
    """Check the contents of a List, Dict or Grid at nesting level ``depth``."""
    if depth > MAX_DEPTH:
        raise InvalidTagValueError(
            f"Tag '{name}' value nested too deeply: more than {MAX_DEPTH} levels of List, Dict "
            "and Grid"
        )
    if isinstance(val, Grid):
        _check_grid(name, val, depth)
    elif isinstance(val, Mapping):
        _check_tags(name, val, depth, "a Dict", na=False)
    else:
        for item in val:
            _check_item(name, item, depth, na=False)


def _check_item(name: str, item: Any, depth: int, na: bool) -> None:
    """Check one value inside a collection at level ``depth`` (NA allowed when ``na``)."""
    if na and item is NA:
        return
    if _value_kind(name, item) in _COLLECTIONS:
        _check_nested(name, item, depth + 1)


def _check_tags(name: str, tags: Any, depth: int, what: str, na: bool) -> None:
    """Check the names and values of the tags of a Dict or of Grid meta."""
    if not isinstance(tags, Mapping):
        raise InvalidTagValueError(f"Tag '{name}' has {what} that is not a Mapping")
    for key, item in tags.items():
        if not is_tag_name(key):
            raise InvalidTagValueError(f"Tag '{name}' has {what} with invalid tag name {key!r}")
        _check_item(name, item, depth, na)


def _check_grid(name: str, grid: Grid, depth: int) -> None:
    """Check the meta, columns and cells of a Grid at level ``depth``."""
    _check_tags(name, grid.meta, depth, "Grid meta", na=True)
    if not grid.cols:
        raise InvalidTagValueError(
            f"Tag '{name}' has a Grid without columns (Zinc cannot carry one back)"
        )
    names: set[str] = set()
    for col in grid.cols:
        col_name = col.name
        if not is_tag_name(col_name):
            raise InvalidTagValueError(f"Tag '{name}' has a Grid column named {col_name!r}")
        if col_name in names:
            raise InvalidTagValueError(f"Tag '{name}' has a Grid with two columns {col_name!r}")
        names.add(col_name)
        _check_tags(name, col.meta, depth, f"Grid column {col_name!r} meta", na=True)
    for row in grid.rows:
        for col_name, cell in row.items():
            if col_name not in names:
                raise InvalidTagValueError(
                    f"Tag '{name}' has a Grid cell for no column: {col_name!r}"
                )
            _check_item(name, cell, depth, na=True)


def check_diffs(diffs: Sequence[Diff]) -> None:
    """Raise :class:`DiffError` unless ``diffs`` may be committed as one batch: not empty, all
    transient or all persistent, no two diffs for the same id."""
    if not diffs:
        raise DiffError("No diffs to commit")
    transient = diffs[0].is_transient
    seen: set[Ref] = set()
    for diff in diffs:
        if diff.is_transient != transient:
            raise DiffError("Cannot mix transient and persistent diffs")
        if diff.id in seen:
            raise DiffError(f"Duplicate diffs for {diff.id}")
        seen.add(diff.id)


# ------------------------------------------------------------------------------------------------
# Diff
# ------------------------------------------------------------------------------------------------


class Diff:
    """The changes to apply to one record, validated at construction.

    ``Diff(old_rec, changes, flags=0)`` updates (or, with ``REMOVE``, removes) the record
    ``old_rec`` was read as: ``old_rec`` must hold ``id`` (a Ref) and ``mod`` (an aware
    datetime), else :class:`DiffError`.  ``Diff(None, changes, ADD)`` and
    :meth:`make_add` add a new record.  ``changes`` is a Mapping or None (no changes); the value
    :data:`~hxredis.values.REMOVE` removes a tag.

    Construction raises :class:`DiffError` (bad flag combination, ``id`` given for an add, a
    tag rule broken), :class:`InvalidRecIdError` (unusable add id),
    :class:`InvalidTagNameError` or :class:`InvalidTagValueError`; TypeError for arguments of
    the wrong Python type.  The computed flags ``CUR_VAL``, ``POINT`` and ``TREE_UPDATE`` are
    OR-ed into :attr:`flags`.

    A Diff is immutable.  ``old_rec``, ``new_rec`` and ``new_mod`` are None until the Folio
    returns the result Diff of a commit.  Equality is identity.
    """

    __slots__ = ("_changes", "_flags", "_id", "_new_mod", "_new_rec", "_old_mod", "_old_rec")

    ADD = 0x01
    """Add a new record."""
    REMOVE = 0x02
    """Remove the record."""
    TRANSIENT = 0x04
    """In-memory only: not persisted, ``mod`` unchanged."""
    FORCE = 0x08
    """Skip the ``mod`` concurrency check."""
    BYPASS_RESTRICTED = 0x10
    """Allow the restricted tags (projMeta, uiMeta, ext, fileSize)."""
    CUR_VAL = 0x20
    """Computed: changes hold curVal or curStatus."""
    POINT = 0x40
    """Computed: changes hold point."""
    TREE_UPDATE = 0x80
    """Computed: add, remove, a trash change or a Ref value in a persistent diff."""
    FORCE_TRANSIENT = FORCE | TRANSIENT
    """``FORCE | TRANSIENT``."""

    _id: Ref
    _old_mod: datetime | None
    _old_rec: Mapping[str, Any] | None
    _new_mod: datetime | None
    _new_rec: Mapping[str, Any] | None
    _changes: Mapping[str, Any]
    _flags: int

    def __init__(
        self, old_rec: Mapping[str, Any] | None, changes: Mapping[str, Any] | None, flags: int = 0
    ) -> None:
        if not isinstance(flags, int) or isinstance(flags, bool):
            raise TypeError(f"Diff flags must be int, not {type(flags).__name__}")
        chg = _changes_dict(changes)
        old_mod = None
        if old_rec is None:
            if not flags & Diff.ADD:
                raise DiffError("Must pass 'add' flag if oldRec is null")
            if "id" in chg:
                raise DiffError("Cannot specify 'id' tag if using 'add' flag")
            rec_id = Ref.gen()
        else:
            if not isinstance(old_rec, Mapping):
                raise TypeError(f"Diff old_rec must be a Mapping, not {type(old_rec).__name__}")
            if flags & Diff.ADD:
                raise DiffError("Cannot pass oldRec if using 'add' flag")
            rec_id = old_rec.get("id")
            if not isinstance(rec_id, Ref):
                raise DiffError(f"oldRec 'id' tag must be a Ref, not {rec_id!r}")
            old_mod = old_rec.get("mod")
            if not isinstance(old_mod, datetime) or old_mod.utcoffset() is None:
                raise DiffError(f"oldRec 'mod' tag must be an aware datetime, not {old_mod!r}")
        flags = _check(rec_id, chg, flags)
        self._init(rec_id, old_mod, None, None, None, MappingProxyType(chg), flags)

    @classmethod
    def make_add(cls, changes: Mapping[str, Any] | None, id: Ref | None = None) -> Diff:
        """A Diff adding a new record with ``id`` (default :meth:`Ref.gen
        <hxredis.values.Ref.gen>`); ``changes`` may not hold ``id`` (DiffError)."""
        chg = _changes_dict(changes)
        if id is None:
            id = Ref.gen()
        elif not isinstance(id, Ref):
            raise TypeError(f"Diff id must be a Ref, not {type(id).__name__}")
        if "id" in chg:
            raise DiffError("makeAdd cannot specify 'id' tag")
        diff = object.__new__(cls)
        flags = _check(id, chg, Diff.ADD)
        diff._init(id, None, None, None, None, MappingProxyType(chg), flags)
        return diff

    @classmethod
    def _result(
        cls,
        source: Diff,
        id: Ref,
        old_rec: Mapping[str, Any] | None,
        new_rec: Mapping[str, Any] | None,
        new_mod: datetime | None,
    ) -> Diff:
        """Folio only: the result Diff of committing ``source``, with its changes, flags and
        ``old_mod``; no validation."""
        diff = object.__new__(cls)
        diff._init(id, source._old_mod, old_rec, new_mod, new_rec, source._changes, source._flags)
        return diff

    def _init(
        self,
        id: Ref,
        old_mod: datetime | None,
        old_rec: Mapping[str, Any] | None,
        new_mod: datetime | None,
        new_rec: Mapping[str, Any] | None,
        changes: Mapping[str, Any],
        flags: int,
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "_id", id)
        setattr_(self, "_old_mod", old_mod)
        setattr_(self, "_old_rec", old_rec)
        setattr_(self, "_new_mod", new_mod)
        setattr_(self, "_new_rec", new_rec)
        setattr_(self, "_changes", changes)
        setattr_(self, "_flags", flags)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Diff is immutable")

    # -- fields ----------------------------------------------------------------------------------

    @property
    def id(self) -> Ref:
        """The target record's id."""
        return self._id

    @property
    def old_mod(self) -> datetime | None:
        """``mod`` of the record the Diff was built from; None for an add."""
        return self._old_mod

    @property
    def old_rec(self) -> Mapping[str, Any] | None:
        """In a commit result, the record before the commit; otherwise None."""
        return self._old_rec

    @property
    def new_mod(self) -> datetime | None:
        """In a commit result, the record's new ``mod``; otherwise None."""
        return self._new_mod

    @property
    def new_rec(self) -> Mapping[str, Any] | None:
        """In a commit result, the record after the commit (None after a remove)."""
        return self._new_rec

    @property
    def changes(self) -> Mapping[str, Any]:
        """The validated changes, a read-only mapping."""
        return self._changes

    @property
    def flags(self) -> int:
        """The flag bitmask, computed flags included."""
        return self._flags

    # -- predicates ------------------------------------------------------------------------------

    @property
    def is_add(self) -> bool:
        """Adds a new record."""
        return bool(self._flags & Diff.ADD)

    @property
    def is_remove(self) -> bool:
        """Removes the record."""
        return bool(self._flags & Diff.REMOVE)

    @property
    def is_update(self) -> bool:
        """Neither an add nor a remove."""
        return not self._flags & (Diff.ADD | Diff.REMOVE)

    @property
    def is_transient(self) -> bool:
        """Changes transient tags only: not persisted, ``mod`` unchanged."""
        return bool(self._flags & Diff.TRANSIENT)

    @property
    def is_force(self) -> bool:
        """Applies without the ``mod`` concurrency check."""
        return bool(self._flags & Diff.FORCE)

    @property
    def is_bypass_restricted(self) -> bool:
        """May set the restricted tags."""
        return bool(self._flags & Diff.BYPASS_RESTRICTED)

    @property
    def is_cur_val(self) -> bool:
        """Changes curVal or curStatus."""
        return bool(self._flags & Diff.CUR_VAL)

    @property
    def is_add_point(self) -> bool:
        """Adds a record tagged ``point``."""
        return self._flags & (Diff.ADD | Diff.POINT) == Diff.ADD | Diff.POINT

    @property
    def is_tree_update(self) -> bool:
        """May change the record tree: add, remove, trash, or a Ref value in a persistent diff."""
        return bool(self._flags & Diff.TREE_UPDATE)

    # -- methods ---------------------------------------------------------------------------------

    def get_old(self, tag: str, default: Any = None) -> Any:
        """The tag's value in :attr:`old_rec`, or ``default``."""
        return default if self._old_rec is None else self._old_rec.get(tag, default)

    def get_new(self, tag: str, default: Any = None) -> Any:
        """The tag's value in :attr:`new_rec`, or ``default``."""
        return default if self._new_rec is None else self._new_rec.get(tag, default)

    def __str__(self) -> str:
        """Haxall ``Diff.toStr``: ``+{…}`` add, ``-{…}`` remove, ``^{…}`` update, holding
        ``id:@x``, ``mod:<iso>`` once committed, then the changes (Refs as ``@id``)."""
        flags = self._flags
        parts = ["+{id:@" if flags & Diff.ADD else "-{id:@" if flags & Diff.REMOVE else "^{id:@"]
        parts.append(self._id.id)
        if self._new_mod is not None:
            parts.append(",mod:" + _iso(self._new_mod))
        for name, val in self._changes.items():
            if val is MARKER:
                parts.append("," + name)
            elif isinstance(val, Ref):
                parts.append(f",{name}:@{val.id}")
            else:
                parts.append(f",{name}:{zinc.dumps(val)}")
        parts.append("}")
        return "".join(parts)

    def __repr__(self) -> str:
        return f"<Diff {self}>"


def _changes_dict(changes: Mapping[str, Any] | None) -> dict[str, Any]:
    """A private copy of ``changes`` with top-level int/float values as Numbers."""
    if changes is None:
        return {}
    if not isinstance(changes, Mapping):
        raise TypeError(f"Diff changes must be a Mapping or None, not {type(changes).__name__}")
    out = dict(changes)
    for name, val in out.items():
        if isinstance(val, (int, float)) and not isinstance(val, bool):
            try:
                out[name] = Number(val)
            except OverflowError:
                raise InvalidTagValueError(f"Tag '{name}' int too large for a Number") from None
    return out


_NEVER, _RESTRICTED, _PERSISTENT_ONLY, _TRANSIENT_ONLY = range(4)
_RULES: dict[str, tuple[int, int]] = {
    **dict.fromkeys(NEVER_TAGS, (_NEVER, 0)),
    **dict.fromkeys(RESTRICTED_TAGS, (_RESTRICTED, 0)),
    **dict.fromkeys(PERSISTENT_ONLY_TAGS, (_PERSISTENT_ONLY, 0)),
    **dict.fromkeys(TRANSIENT_ONLY_TAGS, (_TRANSIENT_ONLY, 0)),
    "point": (_PERSISTENT_ONLY, Diff.POINT),
    "trash": (_PERSISTENT_ONLY, Diff.TREE_UPDATE),
    "curVal": (_TRANSIENT_ONLY, Diff.CUR_VAL),
    "curStatus": (_TRANSIENT_ONLY, Diff.CUR_VAL),
}


def _check(rec_id: Ref, changes: Mapping[str, Any], flags: int) -> int:
    """Haxall ``Diff.check``: validate flags, the add id and every change; return ``flags``
    with the computed flags OR-ed in."""
    transient = flags & Diff.TRANSIENT
    if transient:
        if flags & Diff.ADD:
            raise DiffError("Invalid diff flags: transient + add")
        if flags & Diff.REMOVE:
            raise DiffError("Invalid diff flags: transient + remove")
    if flags & Diff.ADD:
        if flags & Diff.REMOVE:
            raise DiffError("Invalid diff flags: add + remove")
        check_rec_id(rec_id)
    if flags & (Diff.ADD | Diff.REMOVE):
        flags |= Diff.TREE_UPDATE
    for name, val in changes.items():
        check_tag_name(name)
        kind = check_tag_value(name, val)
        if kind == "Bin" and transient:
            raise DiffError("Bin tag cannot be transient")
        if kind == "Ref" and not transient:
            flags |= Diff.TREE_UPDATE
        rule = _RULES.get(name)
        if rule is None:
            continue
        rule_type, rule_flags = rule
        if rule_type == _NEVER:
            raise DiffError(f'Cannot set tag: "{name}"')
        if rule_type == _RESTRICTED:
            if not flags & Diff.BYPASS_RESTRICTED:
                if flags & Diff.ADD:
                    raise DiffError(f'Cannot add rec with restricted tag: "{name}"')
                if val is REMOVE:
                    raise DiffError(f'Cannot remove restricted tag: "{name}"')
                raise DiffError(f'Cannot set restricted tag: "{name}"')
        elif rule_type == _TRANSIENT_ONLY:
            if not transient:
                raise DiffError(f'Cannot set tag persistently: "{name}"')
        elif transient:
            raise DiffError(f'Cannot set tag transiently: "{name}"')
        flags |= rule_flags
    return flags


def _iso(dt: datetime) -> str:
    """Fantom ``DateTime.toIso``: ``YYYY-MM-DDThh:mm:ss[.fff]`` then ``Z`` or ``±hh:mm``."""
    text = f"{zinc.dumps_date(dt)}T{zinc.dumps_time(dt.time())}"
    off = dt.utcoffset()
    secs = 0 if off is None else int(off.total_seconds())
    if secs == 0:
        return text + "Z"
    sign = "-" if secs < 0 else "+"
    secs = abs(secs)
    return f"{text}{sign}{secs // 3600:02d}:{secs // 60 % 60:02d}"
