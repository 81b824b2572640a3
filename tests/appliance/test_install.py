"""scripts/install-kiosk into a throwaway root: the user, folders, config, venv and units it
writes, the units checked by systemd-analyze verify, a second run, and --uninstall."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "scripts" / "install-kiosk"
APP = "retail-edge-kiosk"
UNITS = (f"{APP}.service", f"{APP}-uplink.service")


def run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, check=False,
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app as a wheel, built from a copy of the sources (not the shared working tree)."""
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    for package in {p.split(".")[0] for p in packages["packages"]} - {"kiosk_resources"}:
        shutil.copytree(REPO / package, source / package, ignore=ignore)
    shutil.copytree(REPO / "resources", source / "resources", ignore=ignore)
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "-q", "-w", dist, source)  # fmt: skip
    (built,) = dist.glob("*.whl")
    return built


def install(root: Path, wheel: Path, *extra: str) -> str:
    # The dependencies are not downloaded into the throwaway venv: --no-deps --no-index.
    done = run("/usr/bin/python3", INSTALL, "--root", root, "--wheel", wheel,
               "--pip-args", "--no-deps --no-index", *extra)  # fmt: skip
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("root")
    return root, install(root, wheel)


def ids(root: Path, database: str, name: str) -> list[str]:
    for line in (root / "etc" / database).read_text().splitlines():
        if line.split(":")[0] == name:
            return line.split(":")
    raise AssertionError(f"no {name} in {root}/etc/{database}")


def owner_and_mode(root: Path, path: Path) -> tuple[str, str, int]:
    """(user, group, permission bits) of ``path``, names as the root's own files give them."""
    info = path.stat()
    users = {int(f[2]): f[0] for f in (line.split(":") for line in (root / "etc/passwd").open())}
    groups = {int(f[2]): f[0] for f in (line.split(":") for line in (root / "etc/group").open())}
    users[0] = groups[0] = "root"
    return users[info.st_uid], groups[info.st_gid], stat.S_IMODE(info.st_mode)


def test_an_unprivileged_user_owns_the_data_and_secrets(installed: tuple[Path, str]) -> None:
    root, _ = installed
    user = ids(root, "passwd", "kiosk")
    assert user[5] == f"/var/lib/{APP}" and user[6] == "/usr/sbin/nologin"
    assert int(user[2]) != 0
    for group in ("video", "input", "render"):
        assert "kiosk" in ids(root, "group", group)[3].split(","), group
    assert owner_and_mode(root, root / "etc" / APP) == ("root", "kiosk", 0o750)
    assert owner_and_mode(root, root / "etc" / APP / "secrets") == ("kiosk", "kiosk", 0o700)
    assert owner_and_mode(root, root / "var/lib" / APP) == ("kiosk", "kiosk", 0o750)


def test_the_config_is_the_commented_defaults_with_the_appliance_paths(
    installed: tuple[Path, str],
) -> None:
    root, _ = installed
    config = root / "etc" / APP / "kiosk.toml"
    assert owner_and_mode(root, config) == ("root", "kiosk", 0o640)
    text = config.read_text()
    shipped = (REPO / "resources" / "kiosk.toml").read_text()
    # the comments are kept: the installer edits four lines and nothing else
    assert len(text.splitlines()) == len(shipped.splitlines())
    parsed = tomllib.loads(text)
    assert parsed["paths"]["data_dir"] == f"/var/lib/{APP}"
    assert parsed["admin"]["staff_pin_hash_file"] == f"/etc/{APP}/secrets/staff.pin"


def test_the_app_is_installed_in_its_own_venv(installed: tuple[Path, str]) -> None:
    root, _ = installed
    bin_dir = root / "opt" / APP / "venv" / "bin"
    for command in ("kiosk", "kiosk-uplink", "kiosk-import"):
        assert os.access(bin_dir / command, os.X_OK), command
    assert (root / "opt" / APP / "docs" / "install.md").is_file()


def test_the_units_are_enabled_and_pass_systemd_analyze_verify(
    installed: tuple[Path, str], tmp_path: Path
) -> None:
    root, _ = installed
    assert (root / "etc/systemd/system/graphical.target.wants" / UNITS[0]).is_symlink()
    assert (root / "etc/systemd/system/multi-user.target.wants" / UNITS[1]).is_symlink()
    # verify resolves every unit the kiosk's refer to and checks that ExecStart's programs
    # exist: give it a copy of the root with this machine's systemd units and cage beside.
    check = tmp_path / "root"
    shutil.copytree(root, check, symlinks=True)
    (check / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd/system", check / "usr/lib/systemd/system", symlinks=True)
    (check / "usr/bin").mkdir(parents=True)
    for program in ("cage", "redis-server"):
        found = shutil.which(program)
        assert found, f"{program} is not installed (scripts/setup-system installs it)"
        shutil.copy2(found, check / "usr/bin" / program)
    for unit in (*UNITS, "redis-server.service"):
        done = run("systemd-analyze", "verify", f"--root={check}", unit)
        # verify exits 0 on unknown keys and bad values too: it must print nothing
        assert done.stdout + done.stderr == "", f"{unit}: {done.stderr}"
    units = {u: (root / "etc/systemd/system" / u).read_text() for u in UNITS}
    for text in units.values():
        for line in ("Type=notify", "Restart=always", "NoNewPrivileges=yes",
                     "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                     f"ReadWritePaths=/var/lib/{APP}\n", "CapabilityBoundingSet=\n"):  # fmt: skip
            assert line in text
    assert "ExecStart=/usr/bin/cage -d -s -- " in units[UNITS[0]]
    assert "TTYPath=/dev/tty1" in units[UNITS[0]]


def test_redis_is_bound_to_loopback_and_never_evicts_the_mirror(
    installed: tuple[Path, str],
) -> None:
    root, _ = installed
    conf = (root / "etc/redis" / f"{APP}.conf").read_text().splitlines()
    assert "bind 127.0.0.1 -::1" in conf
    assert "maxmemory-policy volatile-lru" in conf
    assert "appendonly no" in conf
    drop_in = root / "etc/systemd/system/redis-server.service.d" / f"{APP}.conf"
    assert f"/etc/redis/{APP}.conf" in drop_in.read_text()


def test_it_tells_the_installer_what_is_left(installed: tuple[Path, str]) -> None:
    root, output = installed
    assert "left for you" in output
    for what in ("set-pin --role staff", "set-pin --role manager", "store_id", "secrets/"):
        assert what in output, what
    assert "Debian packages (not into --root)" in output
    version = int(run("systemctl", "--version").stdout.split()[1])
    backoff = root / "etc/systemd/system" / f"{UNITS[0]}.d" / "backoff.conf"
    if version >= 254:
        assert "RestartSteps=5" in backoff.read_text()
    else:
        assert not backoff.exists()
        assert f"restart backoff (systemd {version} has no RestartSteps=" in output


def test_a_second_run_keeps_the_edited_config_and_uninstall_keeps_the_data(
    tmp_path: Path, wheel: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    install(root, wheel)
    config = root / "etc" / APP / "kiosk.toml"
    edited = config.read_text().replace('store_id = "', 'store_id = "store-042-', 1)
    config.write_text(edited)
    (root / "var/lib" / APP / "events.sqlite").write_bytes(b"the events")
    output = install(root, wheel)
    assert config.read_text() == edited
    assert (config.parent / "kiosk.toml.new").is_file()
    assert "kept /etc/retail-edge-kiosk/kiosk.toml" in output

    run("/usr/bin/python3", INSTALL, "--root", root, "--uninstall")
    for unit in UNITS:
        assert not (root / "etc/systemd/system" / unit).exists()
        assert not (root / "etc/systemd/system/graphical.target.wants" / unit).exists()
    assert not (root / "opt" / APP).exists()
    assert config.read_text() == edited
    assert (root / "var/lib" / APP / "events.sqlite").read_bytes() == b"the events"

    run("/usr/bin/python3", INSTALL, "--root", root, "--uninstall", "--purge")
    assert not (root / "etc" / APP).exists() and not (root / "var/lib" / APP).exists()


def test_record_stop_appends_why_systemd_stopped_the_kiosk(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    # what systemd gives ExecStopPost= after the watchdog killed the kiosk
    env.update(SERVICE_RESULT="watchdog", EXIT_CODE="killed", EXIT_STATUS="ABRT")
    kiosk = Path(sys.executable).parent / "kiosk"
    done = run(kiosk, "--config", config, "record-stop", env=env)
    assert "hung (the watchdog restarted it)" in done.stdout
    line = (tmp_path / "data" / "restarts.jsonl").read_text().splitlines()
    assert (
        len(line) == 1 and '"result": "watchdog"' in line[0] and '"exit_status": "ABRT"' in line[0]
    )
    unit = (REPO / "deploy/systemd" / UNITS[0]).read_text()
    assert (
        f"ExecStopPost=/opt/{APP}/venv/bin/kiosk --config /etc/{APP}/kiosk.toml record-stop" in unit
    )
