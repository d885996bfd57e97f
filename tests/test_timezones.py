"""Timezones: Haystack names, aliases and IANA ids (formats.md section 5, 6.13, App. B, C)."""

from __future__ import annotations

import copy
import io
import pickle
import struct
from datetime import datetime, timedelta, timezone, tzinfo
from importlib.resources import files
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hxredis import timezones
from hxredis.errors import ParseError
from hxredis.timezones import REL, UTC, is_tz_name, tz, tz_name

AVAILABLE = available_timezones()


def table(filename: str) -> list[str]:
    text = (files("hxredis") / "data" / filename).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


CANONICAL = [tuple(line.split("\t")) for line in table("timezones.txt")]
ALIASES = [tuple(line.split("=")) for line in table("timezone-aliases.txt")]


def needs(*keys: str) -> None:
    missing = [k for k in keys if k not in AVAILABLE]
    if missing:
        pytest.skip(f"tz database lacks {missing}")


# formats.md 6.13, verbatim: input | canonical Haystack name | IANA id (None: error).
VECTORS_6_13 = [
    ("New_York", "New_York", "America/New_York"),
    ("America/New_York", "New_York", "America/New_York"),
    ("UTC", "UTC", "Etc/UTC"),
    ("Etc/UTC", "UTC", "Etc/UTC"),
    ("UCT", "UTC", "Etc/UTC"),
    ("Universal", "UTC", "Etc/UTC"),
    ("Zulu", "UTC", "Etc/UTC"),
    ("Etc/Zulu", "UTC", "Etc/UTC"),
    ("GMT", "GMT", "Etc/GMT"),
    ("Etc/GMT", "GMT", "Etc/GMT"),
    ("GMT0", "GMT", "Etc/GMT"),
    ("GMT+0", "GMT", "Etc/GMT"),
    ("GMT-0", "GMT", "Etc/GMT"),
    ("Greenwich", "GMT", "Etc/GMT"),
    ("GMT+5", "GMT+5", "Etc/GMT+5"),
    ("Etc/GMT+5", "GMT+5", "Etc/GMT+5"),
    ("GMT-10", "GMT-10", "Etc/GMT-10"),
    ("GMT-14", "GMT-14", "Etc/GMT-14"),
    ("GMT+12", "GMT+12", "Etc/GMT+12"),
    ("GMT+13", None, None),
    ("Rel", "Rel", "Etc/Rel"),
    ("Etc/Rel", "Rel", "Etc/Rel"),
    ("PST8PDT", "Los_Angeles", "America/Los_Angeles"),
    ("EST5EDT", "New_York", "America/New_York"),
    ("CST6CDT", "Chicago", "America/Chicago"),
    ("MST7MDT", "Denver", "America/Denver"),
    ("EST", "Panama", "America/Panama"),
    ("MST", "Phoenix", "America/Phoenix"),
    ("HST", "Honolulu", "Pacific/Honolulu"),
    ("CET", "Brussels", "Europe/Brussels"),
    ("MET", "Brussels", "Europe/Brussels"),
    ("EET", "Athens", "Europe/Athens"),
    ("WET", "Lisbon", "Europe/Lisbon"),
    ("Calcutta", "Kolkata", "Asia/Kolkata"),
    ("Asia/Calcutta", "Kolkata", "Asia/Kolkata"),
    ("Kolkata", "Kolkata", "Asia/Kolkata"),
    ("Asia/Kolkata", "Kolkata", "Asia/Kolkata"),
    ("Kiev", "Kyiv", "Europe/Kyiv"),
    ("Kyiv", "Kyiv", "Europe/Kyiv"),
    ("Europe/Kiev", "Kyiv", "Europe/Kyiv"),
    ("US/Eastern", "New_York", "America/New_York"),
    ("Eastern", "New_York", "America/New_York"),
    ("US/Pacific", "Los_Angeles", "America/Los_Angeles"),
    ("Pacific", "Los_Angeles", "America/Los_Angeles"),
    ("Canada/Eastern", "Toronto", "America/Toronto"),
    ("Central", "Chicago", "America/Chicago"),
    ("Mountain", "Denver", "America/Denver"),
    ("West", "Manaus", "America/Manaus"),
    ("Amsterdam", "Brussels", "Europe/Brussels"),
    ("Europe/Amsterdam", "Brussels", "Europe/Brussels"),
    ("Oslo", "Berlin", "Europe/Berlin"),
    ("Stockholm", "Berlin", "Europe/Berlin"),
    ("Copenhagen", "Berlin", "Europe/Berlin"),
    ("Buenos_Aires", "Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("America/Buenos_Aires", "Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("America/Argentina/Buenos_Aires", "Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("Indianapolis", "Indianapolis", "America/Indiana/Indianapolis"),
    ("America/Indianapolis", "Indianapolis", "America/Indiana/Indianapolis"),
    ("America/Indiana/Indianapolis", "Indianapolis", "America/Indiana/Indianapolis"),
    ("Louisville", "Louisville", "America/Kentucky/Louisville"),
    ("Knox", "Knox", "America/Indiana/Knox"),
    ("New_Salem", "New_Salem", "America/North_Dakota/New_Salem"),
    ("Port-au-Prince", "Port-au-Prince", "America/Port-au-Prince"),
    ("Ust-Nera", "Ust-Nera", "Asia/Ust-Nera"),
    ("London", "London", "Europe/London"),
    ("Sydney", "Sydney", "Australia/Sydney"),
    ("Chicago", "Chicago", "America/Chicago"),
    ("Denver", "Denver", "America/Denver"),
    ("Los_Angeles", "Los_Angeles", "America/Los_Angeles"),
    ("Phoenix", "Phoenix", "America/Phoenix"),
    ("Istanbul", "Istanbul", "Europe/Istanbul"),
    ("Asia/Istanbul", "Istanbul", "Europe/Istanbul"),
    ("Europe/Istanbul", "Istanbul", "Europe/Istanbul"),
    ("America/GMT+5", None, None),
    ("Foo/New_York", None, None),
    ("new_york", None, None),
    ("Asia", None, None),
    ("Eastern Time", None, None),
    ("", None, None),
]


@pytest.mark.parametrize(("text", "name", "iana"), VECTORS_6_13)
def test_vectors_6_13(text: str, name: str | None, iana: str | None) -> None:
    if name is None:
        with pytest.raises(ParseError, match=r"^Unknown timezone: "):
            tz(text)
        assert not is_tz_name(text)
        return
    if iana != "Etc/Rel":
        needs(iana)
    zone = tz(text)
    assert isinstance(zone, ZoneInfo)
    assert zone.key == iana
    assert tz_name(zone) == name
    assert tz(name) is zone
    assert is_tz_name(text)


def test_error_message_names_the_input() -> None:
    with pytest.raises(ParseError) as exc:
        tz("Mars/Olympus")
    assert str(exc.value) == "Unknown timezone: Mars/Olympus"
    assert isinstance(exc.value, ValueError)


def test_appendix_b_has_341_zones() -> None:
    assert len(CANONICAL) == 341
    assert len({name for name, _ in CANONICAL}) == 341


@pytest.mark.parametrize(("name", "iana"), CANONICAL, ids=[name for name, _ in CANONICAL])
def test_canonical_round_trip(name: str, iana: str) -> None:
    if name != "Rel":
        needs(iana)
    zone = tz(name)
    assert zone.key == iana
    assert tz(iana) is zone
    assert tz_name(zone) == name
    assert tz_name(datetime(2024, 6, 1, 12, tzinfo=zone)) == name
    assert name == iana.rpartition("/")[2]
    if name != "Rel":
        assert tz_name(ZoneInfo(iana)) == name


def test_appendix_c_has_252_aliases() -> None:
    assert len(ALIASES) == 252


@pytest.mark.parametrize(("alias", "target"), ALIASES, ids=[alias for alias, _ in ALIASES])
def test_alias_normalisation(alias: str, target: str) -> None:
    expected = target
    iana = dict(CANONICAL)[target]
    needs(iana)
    zone = tz(alias)
    assert zone.key == iana
    assert tz_name(zone) == expected
    if alias in AVAILABLE:  # the IANA link itself, as a Python user may create it
        assert tz_name(ZoneInfo(alias)) == expected


@pytest.mark.parametrize(
    ("segment", "name"),
    [
        ("Eastern", "New_York"),
        ("Central", "Chicago"),
        ("Mountain", "Denver"),
        ("Pacific", "Los_Angeles"),
        ("West", "Manaus"),
        ("Atlantic", "Halifax"),
        ("Newfoundland", "St_Johns"),
        ("Calcutta", "Kolkata"),
        ("Saigon", "Ho_Chi_Minh"),
        ("Rangoon", "Yangon"),
        ("Godthab", "Nuuk"),
        ("Enderbury", "Kanton"),
        ("EasterIsland", "Easter"),
        ("Aleutian", "Adak"),
        ("Hawaii", "Honolulu"),
    ],
)
def test_last_segment_of_alias_resolves(segment: str, name: str) -> None:
    assert tz_name(tz(segment)) == name


def test_canonical_names_win_over_alias_segments() -> None:
    assert tz("Nicosia").key == "Asia/Nicosia"  # alias Europe/Nicosia has the same segment
    assert tz("Istanbul").key == "Europe/Istanbul"
    assert tz("Cordoba").key == "America/Argentina/Cordoba"


def test_cities_merged_by_tzdata_take_the_haxall_name() -> None:
    assert tz_name(tz("Amsterdam")) == "Brussels"
    assert tz("Europe/Amsterdam") is tz("Brussels")
    assert tz_name(tz("Oslo")) == "Berlin"
    assert tz_name(ZoneInfo("Europe/Amsterdam")) == "Brussels"


def test_aliases_share_one_zone_object() -> None:
    needs("America/Los_Angeles", "America/New_York")
    assert tz("PST8PDT") is tz("Los_Angeles") is tz("US/Pacific") is tz("America/Los_Angeles")
    assert tz("US/Eastern") is tz("Eastern") is tz("New_York")
    assert tz("New_York") is ZoneInfo("America/New_York")


def test_utc() -> None:
    assert UTC is tz("UTC") is tz("Etc/UTC") is tz("Zulu") is tz("UCT")
    assert UTC.key == "Etc/UTC"
    assert tz_name(UTC) == "UTC"
    assert tz_name(timezone.utc) == "UTC"
    assert tz_name(timezone(timedelta(0))) == "UTC"
    assert tz_name(ZoneInfo("UTC")) == "UTC"
    assert tz_name(ZoneInfo("Etc/UTC")) == "UTC"
    assert tz_name(datetime(2020, 1, 1, tzinfo=timezone.utc)) == "UTC"


def test_gmt_is_distinct_from_utc() -> None:
    needs("Etc/GMT")
    assert tz("GMT") is not UTC
    assert tz("GMT").key == "Etc/GMT"
    assert tz_name(tz("GMT")) == "GMT"
    assert tz_name(ZoneInfo("GMT")) == "GMT"
    assert tz_name(ZoneInfo("Etc/Greenwich")) == "GMT"


@pytest.mark.parametrize(("name", "hours"), [("GMT+5", -5), ("GMT-10", 10), ("GMT-14", 14)])
def test_etc_gmt_posix_sign(name: str, hours: int) -> None:
    needs(f"Etc/{name}")
    dt = datetime(2010, 3, 1, 23, 55, tzinfo=tz(name))
    assert dt.utcoffset() == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("hours", "name"),
    [(-5, "GMT+5"), (10, "GMT-10"), (14, "GMT-14"), (-12, "GMT+12"), (1, "GMT-1"), (0, "UTC")],
)
def test_whole_hour_fixed_offsets_are_etc_gmt(hours: int, name: str) -> None:
    assert tz_name(timezone(timedelta(hours=hours))) == name
    assert tz_name(datetime(2020, 1, 1, tzinfo=timezone(timedelta(hours=hours)))) == name


@pytest.mark.parametrize(
    "offset",
    [timedelta(hours=5, minutes=30), timedelta(hours=-13), timedelta(hours=15), timedelta(0, 1)],
)
def test_other_fixed_offsets_have_no_name(offset: timedelta) -> None:
    with pytest.raises(ValueError, match="has no Haystack timezone name"):
        tz_name(timezone(offset))


def test_rel_behaves_like_utc_and_keeps_its_name() -> None:
    assert tz("Rel") is REL
    assert tz("Etc/Rel") is REL
    assert isinstance(REL, ZoneInfo)
    assert REL.key == "Etc/Rel"
    assert tz_name(REL) == "Rel"
    dt = datetime(2021, 7, 1, 8, 30, tzinfo=REL)
    assert dt.utcoffset() == timedelta(0)
    assert dt.dst() == timedelta(0)
    assert dt.tzname() == "Rel"
    assert dt == datetime(2021, 7, 1, 8, 30, tzinfo=UTC)
    assert dt.astimezone(UTC).replace(tzinfo=None) == datetime(2021, 7, 1, 8, 30)
    assert datetime(2021, 7, 1, 8, 30, tzinfo=UTC).astimezone(REL).tzname() == "Rel"
    assert tz_name(dt) == "Rel"


def test_zones_pickle_and_copy_to_the_same_object() -> None:
    needs("America/New_York")
    for zone in (REL, UTC, tz("New_York")):
        assert pickle.loads(pickle.dumps(zone)) is zone
        assert copy.copy(zone) is zone
        assert copy.deepcopy(zone) is zone


def test_naive_datetime_has_no_name() -> None:
    with pytest.raises(ValueError, match="Naive datetime"):
        tz_name(datetime(2020, 1, 1))


def test_zone_without_haystack_name() -> None:
    needs("Factory")
    with pytest.raises(ValueError, match="no Haystack name"):
        tz_name(ZoneInfo("Factory"))


def test_zone_without_key() -> None:
    # smallest TZif v1 file: no transitions, one type (UTC+0, abbreviation "X")
    tzif = b"TZif" + bytes(16) + struct.pack(">6l", 0, 0, 0, 0, 1, 2) + bytes(6) + b"X\0"
    keyless = ZoneInfo.from_file(io.BytesIO(tzif))
    assert keyless.key is None
    with pytest.raises(ValueError, match="no Haystack name"):
        tz_name(keyless)


def test_unsupported_tzinfo() -> None:
    class Custom(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta:
            return timedelta(0)

    with pytest.raises(ValueError, match="Unsupported tzinfo Custom"):
        tz_name(Custom())


@pytest.mark.parametrize("name", ["new_york", "NEW_YORK", " New_York", "New_York ", "Etc/utc"])
def test_names_are_exact_and_case_sensitive(name: str) -> None:
    assert not is_tz_name(name)
    with pytest.raises(ParseError):
        tz(name)


def test_is_tz_name_with_non_str() -> None:
    assert not is_tz_name(None)  # type: ignore[arg-type]
    assert not is_tz_name(5)  # type: ignore[arg-type]


def test_zoneinfo_lookup_error_is_not_leaked() -> None:
    for bad in ("../etc/passwd", "America/", "/New_York", "Etc/GMT+15"):
        with pytest.raises(ParseError):
            tz(bad)
    assert issubclass(ParseError, ValueError)
    assert not issubclass(ParseError, ZoneInfoNotFoundError)


def test_tz_database_without_a_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    needs("Europe/Brussels")
    real_zoneinfo = timezones.ZoneInfo

    def zoneinfo_lacking(key: str) -> ZoneInfo:
        if key in ("Europe/Amsterdam", "America/New_York"):
            raise ZoneInfoNotFoundError(key)
        return real_zoneinfo(key)

    monkeypatch.setattr(timezones, "ZoneInfo", zoneinfo_lacking)
    tz.cache_clear()
    try:
        assert tz("Amsterdam").key == "Europe/Brussels"  # a city's own id falls back
        with pytest.raises(ParseError, match=r"New_York \(America/New_York\) is missing"):
            tz("New_York")
    finally:
        tz.cache_clear()


@given(st.text(max_size=40))
def test_any_text_is_a_zone_or_a_parse_error(text: str) -> None:
    try:
        zone = tz(text)
    except ParseError:
        assert not is_tz_name(text)
    else:
        assert is_tz_name(text)
        assert tz(tz_name(zone)) is zone
