"""The README's example runs against the embedded server, prints the same on every run and
type-checks under ``mypy --strict``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(lang: str) -> str:
    match = re.search(rf"```{lang}\n(.*?)```", README, re.S)
    assert match, f"no {lang} block in README.md"
    return match.group(1)


def test_readme_example_gives_the_same_output_every_run(tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(_block("python"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "HXREDIS_URI"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    outputs = []
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
        )
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == _block("text")
    assert (tmp_path / "data" / "hxredis" / "hxredis.lock").exists()  # where the README says


def test_readme_example_type_checks(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    script = tmp_path / "example.py"
    script.write_text(_block("python"), encoding="utf-8")
    env = dict(os.environ, MYPYPATH=str(ROOT / "src"))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
         str(script)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
