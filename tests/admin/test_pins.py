"""PIN hashes, the lockout gate and ``kiosk set-pin``."""

from __future__ import annotations

import io
import stat
import sys
from pathlib import Path

import pytest

from kiosk.admin.pins import (
    PinError,
    PinGate,
    check_pin,
    hash_pin,
    pin_file_target,
    set_pin_main,
    verify_pin,
)
from kiosk.cli import main as kiosk_main
from settings import load_config
from settings.model import AdminSection
from tests.admin.conftest import MANAGER_PIN, STAFF_PIN, FakeClock, write_config


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
