"""The ``hxredis`` command line end to end, in subprocesses against the test servers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import hxredis as hx
from hxredis.embedded import read_state
from hxredis.server import RedisServer

TRIO = """\
id: @cli-site
dis: "Main Campus"
site
area: 120000ft²
geoCoord: C(37.55,-77.45)
tz: New_York
---
id: @cli-ahu
dis: "AHU-1"
equip
ahu
siteRef: @cli-site
installed: 2019-06-01
---
id: @cli-pt
dis: "Discharge Temp"
point
his
kind: "Number"
unit: "°F"
maxVal: 120°F
tags: ["a", 2, M]
equipRef: @cli-ahu
siteRef: @cli-site
tz: New_York
note:
  two lines
  of text
"""


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    """``python -m hxredis ARGS`` with HXREDIS_URI unset (unless ``env`` sets it)."""
    environ = {k: v for k, v in os.environ.items() if k != "HXREDIS_URI"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "hxredis", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
        check=False,
    )


def ok(*args: str, stdin: str | None = None) -> str:
    result = run(*args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def records(server: RedisServer, name: str) -> dict[str, dict]:
    """The records of a database, without mod, by id."""
    with hx.open(server.url, name=name) as db:
        return {
            rec["id"].id: {k: v for k, v in rec.items() if k != "mod"}
            for rec in (db.read_by_id_persistent_tags(r["id"]) for r in db.read_all("id"))
        }


@pytest.mark.parametrize("fmt", ["trio", "zinc", "json"])
def test_import_export_round_trip(
    redis_server: RedisServer, db_name: str, tmp_path: Path, fmt: str
) -> None:
    source = tmp_path / "in.trio"
    source.write_text(TRIO, encoding="utf-8")
    uri = ("--uri", redis_server.url)
    out = ok(*uri, "--name", db_name, "import", str(source))
    assert "added 3, updated 0, unchanged 0, refused 0" in out
    original = records(redis_server, db_name)
    assert set(original) == {"cli-site", "cli-ahu", "cli-pt"}
    exported = tmp_path / f"out.{fmt}"
    ok(*uri, "--name", db_name, "export", str(exported))
    copy = db_name + "c"
    assert "added 3" in ok(*uri, "--name", copy, "import", str(exported))
    assert records(redis_server, copy) == original
    # importing again changes nothing; an edited record is updated to exactly the file
    assert "unchanged 3" in ok(*uri, "--name", copy, "import", str(exported))
    edited = TRIO.replace('dis: "AHU-1"\nequip\nahu\n', 'dis: "AHU-9"\nequip\n')
    out = ok(*uri, "--name", copy, "import", "--format", "trio", "-", stdin=edited)
    assert "updated 1, unchanged 2" in out
    ahu = records(redis_server, copy)["cli-ahu"]
    assert ahu["dis"] == "AHU-9" and "ahu" not in ahu


def test_export_filter_to_stdout_and_read_formats(redis_server: RedisServer, db_name: str) -> None:
    uri = ("--uri", redis_server.url, "--name", db_name)
    ok(*uri, "import", "--format", "trio", "-", stdin=TRIO)
    text = ok(*uri, "export", "point", "-")
    assert hx.trio.loads(text)[0]["id"] == hx.Ref("cli-pt")
    assert ok(*uri, "count", "equip or site").strip() == "2"
    csv = ok(*uri, "read", "site or equip", "--format", "csv").splitlines()
    assert csv[0].startswith("id,dis,")
    assert len(csv) == 3
    grid = hx.json.loads(ok(*uri, "read", "point", "--format", "json"))
    assert grid.rows[0]["unit"] == "°F"
    assert "Discharge Temp" in ok(*uri, "read", "point", "--format", "table")
    assert hx.zinc.loads(ok(*uri, "read", "ahu", "--format", "zinc")).rows[0]["dis"] == "AHU-1"


def test_import_reports_refused_records(redis_server: RedisServer, db_name: str) -> None:
    bad = 'id: @ok-1\ndis: "fine"\n---\nid: @bad-1\ndis: "bad"\nmod: 2020-01-01T00:00:00Z UTC\n'
    bad += "---\nid: @bad-2\nprojMeta\n"
    result = run("--uri", redis_server.url, "--name", db_name, "import", "-x.trio")
    assert result.returncode == 2  # an unknown option
    result = run(
        "--uri", redis_server.url, "--name", db_name, "import", "--format", "trio", "-", stdin=bad
    )
    assert result.returncode == 1
    assert "added 2" in result.stdout and "refused 1" in result.stdout
    assert "@bad-2" in result.stderr


def test_backup_then_restore_into_the_other_kind_of_server(
    stack_server: RedisServer, plain_server: RedisServer, db_name: str, tmp_path: Path
) -> None:
    ok("--uri", stack_server.url, "--name", db_name, "import", "--format", "trio", "-", stdin=TRIO)
    archive = tmp_path / "db.hxbackup"
    ok("--uri", stack_server.url, "--name", db_name, "backup", str(archive))
    with zipfile.ZipFile(archive) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["format"] == "hxredis-backup" and manifest["records"] == 3
    out = ok("--uri", plain_server.url, "--name", db_name, "restore", str(archive))
    assert "added 3" in out
    assert records(plain_server, db_name) == records(stack_server, db_name)
    again = run("--uri", plain_server.url, "--name", db_name, "restore", str(archive))
    assert again.returncode == 1
    assert "already has 3 records" in again.stderr and "--replace" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    ok("--uri", plain_server.url, "--name", db_name, "import", "--format", "trio", "-",
       stdin='id: @extra\ndis: "only here"\n')  # fmt: skip
    out = ok("--uri", plain_server.url, "--name", db_name, "restore", "--replace", str(archive))
    assert "removed 4 records" in out
    assert records(plain_server, db_name) == records(stack_server, db_name)


def test_restore_refuses_what_is_not_a_backup(plain_server: RedisServer, tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_text("not a zip")
    result = run("--uri", plain_server.url, "restore", str(junk))
    assert result.returncode == 1
    assert "not an hxredis backup" in result.stderr


def test_bad_filter_is_a_usage_error_on_one_line(plain_server: RedisServer) -> None:
    for args in (["count", "site and ("], ["read", "==x"], ["export", "site or", "-"]):
        result = run("--uri", plain_server.url, *args)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "malformed filter" in result.stderr
        assert "Traceback" not in result.stderr


def test_unreachable_server_is_a_clear_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run("--uri", f"redis://:hunter2@127.0.0.1:{port}/0", "count", "site")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot reach" in result.stderr and str(port) in result.stderr
    assert "hunter2" not in result.stderr
    debug = run("--debug", "--uri", f"redis://127.0.0.1:{port}/0", "count", "site")
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr


def test_uri_from_the_environment(plain_server: RedisServer, db_name: str) -> None:
    result = run("--name", db_name, "count", "id", env={"HXREDIS_URI": plain_server.url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_help_version_and_usage_errors() -> None:
    commands = [[], ["server"], ["server", "start"], ["server", "stop"], ["server", "status"]]
    commands += [[c] for c in ("info", "import", "export", "read", "count", "backup", "restore")]
    commands += [["demo"], ["bench"], ["his"], ["his", "read"], ["his", "write"], ["his", "import"]]
    for command in commands:
        result = run(*command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage:" in result.stdout
    top = run("--help").stdout
    assert "his" in top.split("Commands:")[1].split()
    assert run("--version").stdout.strip() == f"hxredis {hx.__version__}"
    for bare in ([], ["server"]):  # no command: the help
        result = run(*bare)
        assert result.returncode == 0 and "Commands:" in result.stdout
    for bad in (["--bogus"], ["count"], ["nosuchcommand"], ["read", "site", "--format", "xml"]):
        result = run(*bad)
        assert result.returncode == 2, bad
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_server_start_status_info_stop(tmp_path: Path) -> None:
    data = ("--data-dir", str(tmp_path / "d"))
    not_running = run(*data, "server", "status")
    assert not_running.returncode == 1 and "not running" in not_running.stdout
    assert "started" in ok(*data, "server", "start")
    state = read_state(tmp_path / "d")
    assert state is not None
    status = ok(*data, "server", "status")
    assert state.url in status and str(state.pid) in status and "timeseries" in status
    assert "already running" in ok(*data, "server", "start")
    ok(*data, "import", "--format", "trio", "-", stdin=TRIO)
    info = ok(*data, "info")
    assert "records:   3" in info and "RedisTimeSeries" in info
    for text in (status, info):
        assert state.password not in text
    assert "stopped" in ok(*data, "server", "stop")
    assert read_state(tmp_path / "d") is None
    assert "not running" in ok(*data, "server", "stop")


def test_demo_against_plain_redis(plain_server: RedisServer) -> None:
    out = ok("--uri", plain_server.url, "demo", "--sites", "2", "--ahus", "1", "--vavs", "2")
    assert "sorted sets" in out
    assert "2 sites" in out
    with hx.open(plain_server.url, name="hxredis-demo") as db:
        assert db.read_count("id") == 0  # the demo cleans up a server it did not start


def test_module_entry_points() -> None:
    for module in ("hxredis", "hxredis.cli"):
        result = subprocess.run(
            [sys.executable, "-m", module, "--version"], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0 and result.stdout.startswith("hxredis ")
