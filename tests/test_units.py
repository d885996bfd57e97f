"""Units: ids -> canonical symbol (formats.md 1.2, Appendix A), custom units, durations."""

from __future__ import annotations

from importlib.resources import files

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hxredis.errors import ParseError
from hxredis.units import (
    canonical_unit,
    canonical_unit_strict,
    duration_seconds,
    is_unit,
    quantity_of,
)

# Lines of Appendix A: every id on a line names the unit whose symbol is the last id.
APPENDIX_A_LINES = """\
percent,%
percent_relative_humidity,%RH
grams_of_water_per_kilogram_dry_air,gH₂O/kgAir
db_microvolt,dBµV
afghani,AFN,Af
armenian_dram,AMD,Դ
azerbaijanian_manat,AZN,ман
brazilian_real,BRL,R$
chinese_yuan,CNY,元
cordoba_oro,NIO,C$
euro,EUR,€
pound_sterling,GBP,£
us_dollar,USD,$
yen,JPY,¥
tenge,KZT,〒
meters_per_second_squared,m/s²
square_meter,m²
acre
energy_efficiency_ratio,Btu/Wh,EER
micrograms_per_cubic_meter,µg/m³
volt,Volt,V
ohm,Ω,Ω
kilohm,kΩ,kΩ
ohm_meter,Ωm,Ωm
kilowatt_hour,kWh
megabtu,MBTU,MMBTU
therm
cubic_meters_natural_gas,standard_cubic_meter,scm,m³_gas
cubic_feet_natural_gas,standard_cubic_foot,scf,ft³_gas
hundred_cubic_feet_natural_gas,Hcf_natural_gas
per_minute,/min
percent_per_second,%/s
degrees_celsius_per_hour,°C/h
watts_per_square_meter_irradiance,W/m²_irr
kilogram,kg
metric_ton,ton
short_ton,t
megabtus_per_hour,MBTU/h,MMBTU/h
kilobtus_per_hour_per_square_foot,kBTU/h/ft²
watts_per_cubic_meters_per_second,W/m³/s
megavolt_ampere,mVA
bar
inches_of_water,in/wc,inH₂O
fahrenheit,°F
celsius,°C
kelvin,K
fahrenheit_degrees,Δ°F
celsius_degrees,Δ°C
nanosecond,ns
microsecond,µs
millisecond,ms
hundredths_second,cs
second,s,sec
minute,min
hour,h,hr
day
week,wk
julian_month,mo
year,yr
knot
fluid_ounce,fl_oz
gallons_per_hour,gal/hr,gph
cubic_meters_per_hour,m³/h
byte
petabyte,PB
""".splitlines()

ID_TO_SYMBOL = [(uid, line.split(",")[-1]) for line in APPENDIX_A_LINES for uid in line.split(",")]


@pytest.mark.parametrize(("uid", "symbol"), ID_TO_SYMBOL)
def test_every_id_names_the_unit_of_its_symbol(uid: str, symbol: str) -> None:
    assert canonical_unit(uid) == symbol
    assert is_unit(uid)
    assert canonical_unit_strict(symbol) == symbol


@pytest.mark.parametrize(
    ("uid", "symbol"),
    [("s", "sec"), ("sec", "sec"), ("second", "sec"), ("h", "hr"), ("USD", "$"), ("$", "$")],
)
def test_pitfall_examples(uid: str, symbol: str) -> None:
    assert canonical_unit(uid) == symbol


def test_ohm_sign_is_the_symbol_and_greek_omega_an_alias() -> None:
    assert canonical_unit("\u03a9") == "\u2126"
    assert canonical_unit("ohm") == "\u2126"
    with pytest.raises(ParseError):
        canonical_unit_strict("\u03a9")


def test_database_size_and_symbols_from_data_file() -> None:
    text = files("hxredis").joinpath("data/units.txt").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln and ln[0] not in "#["]
    ids = [uid for ln in lines for uid in ln.split(",")]
    assert (len(lines), len(ids), len(set(ids))) == (457, 977, 977)
    for line in lines:
        symbol = line.split(",")[-1]
        assert {canonical_unit(uid) for uid in line.split(",")} == {symbol}


def test_lookup_is_case_sensitive() -> None:
    assert canonical_unit("kW") == "kW"
    assert canonical_unit("MW") == "MW"
    assert canonical_unit("mVA") == "mVA"  # megavolt_ampere's symbol, distinct from MVAR etc.
    for bad in ("KW", "SEC", "Second", "usd"):
        assert not is_unit(bad)


@pytest.mark.parametrize("name", ["_foo", "_", "__", "_a/b", "_%$", "_kW°", "_ΔT", "_x\u0081"])
def test_custom_units_are_their_own_symbol(name: str) -> None:
    assert canonical_unit(name) == name
    assert canonical_unit(name) == name  # cached the second time
    assert is_unit(name)
    assert canonical_unit_strict(name) == name
    assert quantity_of(name) is None
    assert duration_seconds(name) is None


@pytest.mark.parametrize(
    "text",
    [
        "badUnit",
        "x10",
        "E",
        "kW-h",
        "",
        " sec",
        "sec ",
        "_1",
        "_foo2",
        "_a b",
        "_a-b",
        "_a.b",
        "_a,b",
        "_a;b",
        "_\u0080",
        "foo_",
        "°",
        "μs",  # Greek mu, not the micro sign of Appendix A
    ],
)
def test_invalid_unit_names(text: str) -> None:
    with pytest.raises(ParseError, match=r"^Invalid unit name '") as exc:
        canonical_unit(text)
    assert str(exc.value) == f"Invalid unit name '{text}'"
    assert isinstance(exc.value, ValueError)
    assert not is_unit(text)
    with pytest.raises(ParseError):
        canonical_unit_strict(text)


@pytest.mark.parametrize(
    "text", ["s", "second", "h", "hour", "USD", "us_dollar", "Volt", "Btu/Wh", "MBTU"]
)
def test_strict_mode_rejects_non_symbol_ids(text: str) -> None:
    with pytest.raises(ParseError, match="canonical symbol"):
        canonical_unit_strict(text)


@pytest.mark.parametrize(
    ("unit", "seconds"),
    [
        ("ns", 1e-9),
        ("nanosecond", 1e-9),
        ("µs", 1e-6),
        ("ms", 0.001),
        ("millisecond", 0.001),
        ("s", 1.0),
        ("sec", 1.0),
        ("second", 1.0),
        ("min", 60.0),
        ("minute", 60.0),
        ("h", 3600.0),
        ("hr", 3600.0),
        ("hour", 3600.0),
        ("day", 86400.0),
        ("wk", 604800.0),
        ("week", 604800.0),
        ("mo", 30 * 86400.0),
        ("julian_month", 30 * 86400.0),
        ("yr", 365 * 86400.0),
        ("year", 365 * 86400.0),
    ],
)
def test_duration_seconds(unit: str, seconds: float) -> None:
    assert duration_seconds(unit) == pytest.approx(seconds, rel=1e-15)


@pytest.mark.parametrize("unit", [None, "cs", "ds", "kW", "%", "$", "_sec", "bogus", "", "/s"])
def test_non_durations(unit: str | None) -> None:
    assert duration_seconds(unit) is None


def test_his_ts_precision_units() -> None:
    assert duration_seconds("sec") == 1.0
    assert duration_seconds("ms") == 0.001
    assert duration_seconds("min") != 1.0


@pytest.mark.parametrize(
    ("unit", "quantity"),
    [
        ("%", "dimensionless"),
        ("USD", "currency"),
        ("°F", "temperature"),
        ("Δ°F", "temperature differential"),
        ("s", "time"),
        ("cs", "time"),
        ("kWh", "energy"),
        ("kW", "power"),
        ("cfm", "volumetric flow"),
        ("PB", "bytes"),
        ("m/s²", "acceleration"),
    ],
)
def test_quantity_of(unit: str, quantity: str) -> None:
    assert quantity_of(unit) == quantity


@pytest.mark.parametrize("unit", [None, "bogus", "_custom"])
def test_quantity_of_unknown(unit: str | None) -> None:
    assert quantity_of(unit) is None


@given(st.text(max_size=20))
def test_any_text_is_a_unit_or_a_parse_error(text: str) -> None:
    try:
        symbol = canonical_unit(text)
    except ParseError:
        assert not is_unit(text)
    else:
        assert is_unit(text)
        assert canonical_unit_strict(symbol) == symbol
        assert canonical_unit(symbol) == symbol
