"""PIN hashes, the lockout gate and ``kiosk set-pin``."""

from __future__ import annotations

import io
import stat
import sys
from pathlib import Path

import pytest

from kiosk.admin.pins import (
    LOCKOUT_FILE,
    GateState,
    PinError,
    PinGate,
    PinStatus,
    check_pin,
    hash_pin,
    pin_file_target,
    pin_status,
    set_pin_main,
    verify_pin,
    write_pin_hash,
)
from kiosk.cli import main as kiosk_main
from settings import load_config
from settings.loader import DEFAULT_CONFIG
from settings.model import AdminSection
from tests.support.admin import MANAGER_PIN, STAFF_PIN, write_config
from tests.support.clock import FakeClock


def test_hash_is_salted_scrypt_and_verifies() -> None:
    first, second = hash_pin("1234", n=2**10), hash_pin("1234", n=2**10)
    assert first.startswith("scrypt$1024$8$1$")
    assert first != second  # salted
    assert "1234" not in first
    assert verify_pin("1234", first) and verify_pin("1234", second)
    assert not verify_pin("1235", first)


def test_bad_pins_and_damaged_hashes_are_clear_errors() -> None:
    for pin in ("12", "123456789", "12a4", ""):
        with pytest.raises(PinError, match="4 to 8 digits"):
            hash_pin(pin)
    with pytest.raises(PinError, match="scrypt"):
        verify_pin("1234", "sha256$abc")
    with pytest.raises(PinError, match="damaged"):
        verify_pin("1234", "scrypt$x$8$1$AAAA$AAAA")


def test_check_pin_returns_the_role(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path), env={})
    assert check_pin(config, STAFF_PIN) == "staff"
    assert check_pin(config, MANAGER_PIN) == "manager"
    assert check_pin(config, "9999") is None


def test_gate_locks_after_five_and_opens_after_five_minutes() -> None:
    clock = FakeClock()
    gate = PinGate(AdminSection(), clock=clock)
    for left in (4, 3, 2, 1):
        assert gate.failed().attempts_left == left
    state = gate.failed()
    assert state.locked and state.locked_for_s == 300
    clock.advance(299)
    assert gate.state().locked
    assert gate.failed().locked_for_s == pytest.approx(1)  # tries while locked do not count
    clock.advance(1)
    assert not gate.state().locked
    assert gate.state().attempts_left == 5


def test_set_pin_writes_the_file_the_config_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = write_config(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("8642\n"))
    code = set_pin_main(["--role", "staff", "--config", str(config_path), "--stdin"], env={})
    assert code == 0, capsys.readouterr().err
    target = tmp_path / "pins" / "staff.pin"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "8642" not in target.read_text()
    config = load_config(config_path, env={})
    assert check_pin(config, "8642") == "staff"
    assert check_pin(config, STAFF_PIN) is None  # the old one is gone
    assert check_pin(config, MANAGER_PIN) == "manager"  # the other role untouched


def test_set_pin_without_a_named_file_writes_next_to_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = tmp_path / "kiosk.toml"
    config_path.write_text('[paths]\ndata_dir = "data"\n', encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO("5555\n"))
    # through the kiosk command, as staff type it
    assert (
        kiosk_main(["set-pin", "--role", "manager", "--config", str(config_path), "--stdin"]) == 0
    )
    target = tmp_path / "manager.pin"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert check_pin(load_config(config_path, env={}), "5555") == "manager"


def test_set_pin_follows_the_environment(tmp_path: Path) -> None:
    config_path = write_config(tmp_path)
    env = {"KIOSK_ADMIN__STAFF_PIN_HASH_FILE": str(tmp_path / "elsewhere" / "s.pin")}
    assert pin_file_target(config_path, "staff", env) == tmp_path / "elsewhere" / "s.pin"
    bare = tmp_path / "bare.toml"
    bare.write_text("", encoding="utf-8")
    with pytest.raises(PinError, match="KIOSK_ADMIN__STAFF_PIN_HASH sets the staff PIN"):
        pin_file_target(bare, "staff", {"KIOSK_ADMIN__STAFF_PIN_HASH": "scrypt$..."})


def test_set_pin_refuses_what_would_not_take_effect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inline = tmp_path / "inline.toml"
    inline.write_text('[admin]\nstaff_pin_hash = "scrypt$1$1$1$AA$AA"\n', encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO("1234\n"))
    assert set_pin_main(["--role", "staff", "--config", str(inline), "--stdin"], env={}) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "staff_pin_hash is set inline" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("12\n"))
    assert (
        set_pin_main(["--role", "staff", "--config", str(tmp_path / "no.toml"), "--stdin"], env={})
        == 2
    )
    assert "no such config file" in capsys.readouterr().err
    config_path = write_config(tmp_path / "ok")
    monkeypatch.setattr(sys, "stdin", io.StringIO("12\n"))
    assert set_pin_main(["--role", "staff", "--config", str(config_path), "--stdin"], env={}) == 2
    assert "4 to 8 digits" in capsys.readouterr().err
    assert check_pin(load_config(config_path, env={}), STAFF_PIN) == "staff"  # unchanged


def test_a_changed_or_revoked_pin_counts_at_once_without_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = write_config(tmp_path)
    config = load_config(config_path, env={})  # loaded once, as the running kiosk has it
    assert check_pin(config, STAFF_PIN) == "staff"
    monkeypatch.setattr(sys, "stdin", io.StringIO("8642\n"))
    assert set_pin_main(["--role", "staff", "--config", str(config_path), "--stdin"], env={}) == 0
    assert check_pin(config, "8642") == "staff"
    assert check_pin(config, STAFF_PIN) is None
    (tmp_path / "pins" / "staff.pin").unlink()  # revoked
    assert check_pin(config, "8642") is None
    status = pin_status(config)
    assert status.roles == ("manager",)
    assert status.problems == (f"staff PIN file {tmp_path / 'pins' / 'staff.pin'}: no such file",)


def test_a_missing_pin_file_does_not_stop_the_kiosk_and_is_named(tmp_path: Path) -> None:
    config_path = tmp_path / "kiosk.toml"
    config_path.write_text('[admin]\nstaff_pin_hash_file = "pins/staff.pin"\n', encoding="utf-8")
    config = load_config(config_path, env={})  # no ConfigError: the kiosk starts
    assert check_pin(config, STAFF_PIN) is None
    assert pin_status(config) == PinStatus(
        roles=(), problems=(f"staff PIN file {tmp_path / 'pins' / 'staff.pin'}: no such file",)
    )
    write_pin_hash(tmp_path / "pins" / "staff.pin", hash_pin(STAFF_PIN, n=2**10))
    assert check_pin(config, STAFF_PIN) == "staff"  # put in place later: works at once


def _lock(gate: PinGate) -> GateState:
    state = gate.state()
    for _ in range(state.attempts_left):
        state = gate.failed()
    return state


def test_lockouts_in_a_row_escalate_until_a_right_pin() -> None:
    clock = FakeClock()
    gate = PinGate(AdminSection(lockout_s=300, lockout_max_s=1000), clock=clock)
    lengths = []
    for _ in range(4):
        state = _lock(gate)
        lengths.append(state.locked_for_s)
        clock.advance(state.locked_for_s)
        assert not gate.state().locked
    assert lengths == [300, 600, 1000, 1000]  # doubled each time, up to lockout_max_s
    gate.succeeded()
    assert _lock(gate).locked_for_s == 300


def test_the_lockout_survives_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "data" / LOCKOUT_FILE
    wall = FakeClock()
    first = PinGate(AdminSection(), store=store, clock=FakeClock(), wall_clock=wall)
    assert _lock(first).locked_for_s == 300
    first.save()
    wall.advance(100)  # the power comes back 100 s later; the monotonic clock starts again
    second = PinGate(AdminSection(), store=store, clock=FakeClock(), wall_clock=wall)
    second.load()
    assert second.state().locked_for_s == pytest.approx(200)
    # the count of wrong PINs and the escalation survive too
    wall.advance(200)
    third = PinGate(AdminSection(), store=store, clock=FakeClock(), wall_clock=wall)
    third.load()
    assert not third.state().locked
    assert _lock(third).locked_for_s == 600
    third.failed()
    third.save()
    half = PinGate(AdminSection(), store=store, clock=FakeClock(), wall_clock=wall)
    half.succeeded()
    half.failed()
    half.failed()
    half.save()
    after = PinGate(AdminSection(), store=store, clock=FakeClock(), wall_clock=wall)
    after.load()
    assert after.state() == GateState(attempts_left=3, locked_for_s=0.0)


def test_a_clock_set_back_does_not_stretch_the_lockout(tmp_path: Path) -> None:
    store = tmp_path / LOCKOUT_FILE
    wall = FakeClock()
    gate = PinGate(AdminSection(), store=store, clock=FakeClock(), wall_clock=wall)
    _lock(gate)
    gate.save()
    wall.advance(-86400)  # the PC's clock goes a day back
    later = PinGate(AdminSection(), store=store, clock=FakeClock(), wall_clock=wall)
    later.load()
    assert later.state().locked_for_s == 300


def test_a_damaged_lockout_file_is_named_and_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = tmp_path / LOCKOUT_FILE
    store.write_text("{not json", encoding="utf-8")
    gate = PinGate(AdminSection(), store=store)
    gate.load()
    assert gate.state() == GateState(attempts_left=5, locked_for_s=0.0)
    assert str(store) in caplog.text and "damaged" in caplog.text


def test_set_pin_on_the_shipped_defaults_writes_into_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no --config and no KIOSK_CONFIG: the kiosk runs on the defaults shipped in the package
    # (read-only in an installed wheel), so the PIN goes to the data directory instead
    env = {"KIOSK_PATHS__DATA_DIR": str(tmp_path / "data")}
    monkeypatch.setattr(sys, "stdin", io.StringIO("7531\n"))
    assert set_pin_main(["--role", "manager", "--stdin"], env=env) == 0
    target = tmp_path / "data" / "manager.pin"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not (DEFAULT_CONFIG.parent / "manager.pin").exists()
    assert check_pin(load_config(None, env=env), "7531") == "manager"
