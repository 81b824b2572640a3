"""The installed commands: --help everywhere, a bad config is one line and exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

COMMANDS = [
    "kiosk",
    "kiosk-import",
    "kiosk-sensor",
    "kiosk-receive",
    "kiosk-uplink",
    "kiosk-report",
    "kiosk-analytics-api",
    "kiosk-fleet",
]


def command(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is not installed next to {sys.executable}"
    return found


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name: str) -> None:
    done = subprocess.run([command(name), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"usage: {name}" in done.stdout


def test_unknown_key_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[kiosk]\ncolour = 'red'\n")
    done = subprocess.run(
        [command("kiosk"), "--config", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "colour" in lines[0] and str(bad) in lines[0]
    assert "Traceback" not in done.stderr


def test_print_config_shows_effective_values(tmp_path: Path) -> None:
    env = dict(os.environ, KIOSK_KIOSK__KIOSK_ID="kiosk-42")
    done = subprocess.run(
        [command("kiosk"), "--print-config"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    body = done.stdout.split("\n", 1)[1]
    assert tomllib.loads(body)["kiosk"]["kiosk_id"] == "kiosk-42"


@pytest.mark.parametrize("module", ["simulation", "simulation.pipeline"])
def test_the_developer_tools_run_from_the_clone(module: str) -> None:
    # Not installed commands: `python -m ...` from the repository folder.
    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60,
        cwd=repo,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"usage: python -m {module}" in done.stdout
