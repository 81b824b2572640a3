"""A non-editable install works: the wheel carries resources/ as the package kiosk_resources,
and an installed kiosk finds its default config, its demo and its schemas there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.corpus import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
RESOURCES = REPO / "resources"


def _is_tool(path: Path) -> bool:
    return path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts


def _shipped_files() -> set[str]:
    """What resources/ ships: every file but the scripts that made the demo."""
    return {
        p.relative_to(RESOURCES).as_posix()
        for p in RESOURCES.rglob("*")
        if p.is_file() and not _is_tool(p.relative_to(RESOURCES))
    }


#: Developer tools, run from a clone: never in the installed wheel.
DEVELOPER_TOOLS = {"benchmarks", "simulation"}


def test_every_package_folder_is_in_the_wheel() -> None:
    listed = set(SETUPTOOLS["packages"])
    assert SETUPTOOLS["package-dir"] == {"kiosk_resources": "resources"}
    assert not {p.split(".")[0] for p in listed} & DEVELOPER_TOOLS
    roots = set(PYPROJECT["tool"]["importlinter"]["root_packages"]) - DEVELOPER_TOOLS
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for root in roots
        for init in (REPO / root).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found == listed - {"kiosk_resources"}, found ^ (listed - {"kiosk_resources"})


def _copy_sources(target: Path) -> None:
    """The files a wheel is built from, away from the shared working tree (whose build/ and
    egg-info another build may be using)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, target / name)
    for package in {p.split(".")[0] for p in SETUPTOOLS["packages"]} - {"kiosk_resources"}:
        shutil.copytree(REPO / package, target / package, ignore=ignore)
    shutil.copytree(RESOURCES, target / "resources", ignore=ignore)


def _run(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs
    )  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_a_wheel_installed_alone_finds_its_config_demo_and_schemas(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    _copy_sources(source)
    dist = tmp_path / "dist"
    # the venv's setuptools builds it: nothing is downloaded
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", dist, source]
    )  # fmt: skip
    (wheel,) = dist.glob("retail_edge_kiosk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    shipped = {
        n.removeprefix("kiosk_resources/") for n in names if n.startswith("kiosk_resources/")
    }
    assert shipped - {"__init__.py"} == _shipped_files()
    assert "kiosk_resources/__init__.py" in names
    assert not {n.split("/")[0] for n in names} & DEVELOPER_TOOLS
    assert "kiosk/screen/window.py" in names

    # A fresh venv with only the wheel installed; the dependencies come from this venv's
    # site-packages through a .pth file added after the install (so pip cannot see, let alone
    # replace, the editable install there).
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
          "-q", wheel])  # fmt: skip
    site = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    (site / "dependencies-of-the-test.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_") and k != "PYTHONPATH"}
    env["HOME"] = str(tmp_path / "home")
    env.pop("XDG_DATA_HOME", None)

    shown = _run([venv / "bin" / "kiosk", "--print-config"], cwd=tmp_path, env=env).stdout
    installed = site / "kiosk_resources"
    assert f"# effective config, from {installed / 'kiosk.toml'}\n" in shown
    assert f"#     -> {installed / 'demo' / 'pet-store.drawio'}: exists\n" in shown

    check = """
import json, kiosk, settings, storage.event_schema as s, uplink.schema as u
print(json.dumps({
    "kiosk": kiosk.__file__, "settings": settings.__file__, "schemas": str(s.schema_files()),
    "event": u.load_event_schema(), "batch": s.load_schema("batch-v1.json"),
    "validator": type(u.message_validator()).__name__,
}))
"""
    found = json.loads(_run([python, "-c", check], cwd=tmp_path, env=env).stdout)
    for module in ("kiosk", "settings"):
        assert Path(found[module]).is_relative_to(site), found[module]
    assert Path(found["schemas"]) == installed / "schema"
    for name in ("event", "batch"):
        published = RESOURCES / "schema" / f"{name}-v1.json"
        assert found[name] == json.loads(published.read_text(encoding="utf-8"))
    assert found["validator"]
