"""Paths in a config: a copy of the defaults works unchanged from any folder, ``builtin:`` names
a shipped file, and ``kiosk --print-config`` says where each path resolves and whether it is
there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from settings import ConfigError, load_config
from settings.loader import DEFAULT_CONFIG, RESOURCES, describe_paths, missing_paths
from settings.resources import builtin_names, resource_path

DEMO = RESOURCES / "demo" / "pet-store.drawio"


def kiosk(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env["HOME"] = str(cwd / "home")
    env.pop("XDG_DATA_HOME", None)
    command = Path(sys.executable).parent / "kiosk"
    return subprocess.run(
        [str(command), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def test_a_copy_of_the_defaults_works_unchanged_from_another_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "etc" / "kiosk"
    elsewhere.mkdir(parents=True)
    copy = elsewhere / "kiosk.toml"
    shutil.copy(DEFAULT_CONFIG, copy)

    config = load_config(copy, env={})
    assert config.source == copy
    assert config.kiosk.experience == DEMO and DEMO.is_file()
    assert missing_paths(config) == []

    # the command a new user runs from yet another folder
    done = kiosk("--config", copy, "--print-config", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert (
        "#   [kiosk] experience = 'builtin:demo/pet-store.drawio' (shipped with the kiosk)\n"
        in (done.stdout)
    )
    assert f"#     -> {DEMO}: exists\n" in done.stdout
    # still TOML, the path notes being comments
    assert tomllib.loads(done.stdout)["kiosk"]["experience"] == str(DEMO)


def test_print_config_names_each_path_where_it_resolves_and_if_it_is_there(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_text("not checked here\n")
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(
        '[kiosk]\nexperience = "drawings/shop.drawio"\n'
        f'[paths]\ndata_dir = "{data}"\n'
        '[uplink]\nca_file = "certs/ca.pem"\ncert_file = "certs/device.pem"\n',
        encoding="utf-8",
    )
    done = kiosk("--config", config_file, "--print-config", cwd=tmp_path / "certs")
    assert done.returncode == 1
    out = done.stdout
    assert f"#   [kiosk] experience = 'drawings/shop.drawio' (relative to {tmp_path})\n" in out
    assert f"#     -> {tmp_path / 'drawings' / 'shop.drawio'}: MISSING\n" in out
    assert f"#     -> {tmp_path / 'certs' / 'ca.pem'}: exists\n" in out
    assert f"#     -> {tmp_path / 'certs' / 'device.pem'}: MISSING\n" in out
    assert (
        f"#   [paths] data_dir = '{data}' (absolute)\n#     -> {data}: missing (made at start)\n"
        in (out)
    )
    assert f"#     -> {data / 'events.sqlite'}: missing (made at start)\n" in out
    # one line per missing file on stderr, no traceback
    assert done.stderr.splitlines() == [
        f"kiosk: [kiosk] experience: {tmp_path / 'drawings' / 'shop.drawio'}: no such file",
        f"kiosk: [uplink] cert_file: {tmp_path / 'certs' / 'device.pem'}: no such file",
    ]

    # --experience is shown as what it is
    drawing = tmp_path / "mine.drawio"
    shutil.copy(DEMO, drawing)
    done = kiosk("--config", config_file, "--experience", drawing, "--print-config", cwd=tmp_path)
    assert f"#   [kiosk] experience = '{drawing}' (--experience)\n#     -> {drawing}: exists\n" in (
        done.stdout
    )


def test_builtin_names_a_shipped_file_from_any_key(tmp_path: Path) -> None:
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text('[redis]\nca_file = "builtin:schema/event-v1.json"\n')
    config = load_config(config_file, env={})
    assert config.redis.ca_file == RESOURCES / "schema" / "event-v1.json"
    assert "(shipped with the kiosk)" in describe_paths(config)
    # an environment override may use it too
    env = {"KIOSK_KIOSK__EXPERIENCE": "builtin:demo/pet-store.drawio"}
    assert load_config(tmp_path / "kiosk.toml", env=env).kiosk.experience == DEMO


@pytest.mark.parametrize("name", ["demo/nothing.drawio", "../pyproject.toml", "/etc/passwd", ""])
def test_a_builtin_name_that_is_not_shipped_is_a_config_error(tmp_path: Path, name: str) -> None:
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'[kiosk]\nexperience = "builtin:{name}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(config_file, env={})
    (problem,) = caught.value.problems
    assert str(config_file) in problem and "[kiosk] experience" in problem
    if name == "demo/nothing.drawio":
        assert "no such shipped file" in problem and "demo/pet-store.drawio" in problem


def test_shipped_names_are_the_data_files_of_resources() -> None:
    names = builtin_names()
    assert "kiosk.toml" in names and "demo/pet-store.drawio" in names
    assert "schema/event-v1.json" in names
    assert not [n for n in names if n.endswith(".py")]
    assert resource_path("kiosk.toml") == DEFAULT_CONFIG
