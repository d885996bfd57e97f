"""``hxredis import`` of Zinc and Haystack JSON files read one record at a time, end to end in
subprocesses against the test servers: files of several batches, rows over several lines,
any key order, stdin, and a fault late in a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import ok, records, run

import hxredis as hx
from hxredis.server import RedisServer

COUNT = 2_500  # three batches of import


def _zinc_file(multi_line: bool = True) -> str:
    """Rows of one line each, and (``multi_line``) some over several lines: a nested grid, a
    string with raw newlines, a block comment."""
    lines = ['ver:"3.0" note:"generated"', "id,dis,point,area,table,doc"]
    for i in range(COUNT):
        area = f"{i}ft²"
        if not multi_line:
            lines.append(f'@z{i},"Point {i}",M,{area},,')
        elif i % 500 == 7:
            table = '<<\nver:"3.0"\nname,val\n"a",1\n"b\n c",2\n\n>>'
            lines.append(f'@z{i},"Point {i}",M,{area},{table},"line one\nline two"')
        elif i % 500 == 8:
            lines.append(f'@z{i},"Point {i}" /* a comment\nover lines */,M,{area},,')
        else:
            lines.append(f'@z{i},"Point {i}",M,{area},,')
    return "\n".join(lines) + "\n\n"


def _without_mod(recs: list[dict]) -> dict[str, dict]:
    return {rec["id"].id: {k: v for k, v in rec.items() if k != "mod"} for rec in recs}


def test_zinc_import_of_several_batches(
    redis_server: RedisServer, db_name: str, tmp_path: Path
) -> None:
    text = _zinc_file()
    path = tmp_path / "points.zinc"
    path.write_text(text, encoding="utf-8")
    uri = ("--uri", redis_server.url)
    out = ok(*uri, "--name", db_name, "import", str(path))
    assert f"added {COUNT}, updated 0, unchanged 0, refused 0" in out
    expected = _without_mod(hx.zinc.loads(text).rows)
    got = records(redis_server, db_name)
    assert got == expected
    assert got["z7"]["table"].rows[1]["name"] == "b\n c"
    # the same from stdin
    out = ok(*uri, "--name", db_name + "s", "import", "--format", "zinc", "-", stdin=text)
    assert f"added {COUNT}" in out
    assert records(redis_server, db_name + "s") == expected


@pytest.mark.parametrize("order", ["kind-first", "rows-first", "list"])
def test_json_import_of_several_batches(
    redis_server: RedisServer, db_name: str, tmp_path: Path, order: str
) -> None:
    recs = hx.zinc.loads(_zinc_file()).rows
    rows = [hx.json.encode(rec) for rec in recs]
    grid = {"meta": {"ver": "3.0"}, "cols": [{"name": n} for n in ("id", "dis")], "rows": rows}
    if order == "kind-first":
        doc: object = {"_kind": "grid", **grid}
    elif order == "rows-first":
        doc = {**grid, "_kind": "grid"}
    else:
        doc = rows
    path = tmp_path / "points.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    out = ok("--uri", redis_server.url, "--name", db_name, "import", str(path))
    assert f"added {COUNT}, updated 0, unchanged 0, refused 0" in out
    assert records(redis_server, db_name) == _without_mod(recs)


def test_a_fault_late_in_a_file_stops_the_import_there(
    plain_server: RedisServer, db_name: str, tmp_path: Path
) -> None:
    lines = _zinc_file(multi_line=False).splitlines()
    bad_line = 2 + 1_500  # a row of the second batch
    lines[bad_line - 1] = "@late,oops,M,1,,"
    path = tmp_path / "bad.zinc"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("--uri", plain_server.url, "--name", db_name, "import", str(path))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f'hxredis: error: Unexpected identifier "oops" [line {bad_line}]'
    ]
    with hx.open(plain_server.url, name=db_name) as db:
        assert db.read_count("id") == 1_000  # the batches before the fault
