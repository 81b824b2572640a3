"""The typed, strict config: defaults, errors naming key and file, env overrides, secrets."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from settings import ConfigError, KioskConfig, load_config, render_config
from settings.loader import DEFAULT_CONFIG, RESOURCES


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_file_spells_out_the_model_defaults() -> None:
    from_file = KioskConfig.model_validate(tomllib.loads(DEFAULT_CONFIG.read_text()))
    assert from_file.model_dump() == KioskConfig().model_dump()


def test_empty_file_is_a_working_demo(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), env={})
    assert config.kiosk.experience == RESOURCES / "demo" / "pet-store.drawio"
    assert config.storage.database == config.paths.data_dir / "events.sqlite"
    assert config.paths.log_dir == config.paths.data_dir / "logs"
    assert config.uplink.enabled is False


def test_default_config_points_at_the_demo_experience() -> None:
    config = load_config(None, env={})
    assert config.source == DEFAULT_CONFIG
    assert config.kiosk.experience == RESOURCES / "demo" / "pet-store.drawio"


def test_unknown_key_names_key_section_file_and_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "[storage]\nflush_intervl_ms = 20\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    (problem,) = caught.value.problems
    assert str(path) in problem
    assert "unknown key [storage] flush_intervl_ms" in problem
    assert "flush_interval_ms" in problem  # what is allowed


def test_unknown_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown section \[storag\]; allowed: kiosk, paths"):
        load_config(write(tmp_path, "[storag]\nx = 1\n"), env={})


def test_bad_value_says_what_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, '[storage]\ndurability = "fast"\n'), env={})
    (problem,) = caught.value.problems
    assert "[storage] durability = 'fast'" in problem
    assert "'normal' or 'strict'" in problem


def test_out_of_range_and_cross_field_rules(tmp_path: Path) -> None:
    text = "[kiosk]\ntransition_ms = 900\n[sensors.zones]\nengaged_m = 3.0\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env={})
    joined = "\n".join(caught.value.problems)
    assert "[kiosk] transition_ms = 900" in joined and "250" in joined
    assert "engaged_m < approaching_m < passing_m" in joined


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[kiosk\n"), env={})
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml", env={})


def test_environment_overrides_keys(tmp_path: Path) -> None:
    env = {
        "KIOSK_KIOSK__KIOSK_ID": "kiosk-07",
        "KIOSK_STORAGE__FLUSH_INTERVAL_MS": "20",
        "KIOSK_SENSORS__ZONES__ENGAGED_M": "0.8",
        "KIOSK_SENSORS__ROI": "[0.2, 0.2, 0.8, 0.8]",
        "KIOSK_REDIS__ENABLED": "false",
        "KIOSK_UNRELATED": "ignored: no section separator",
    }
    config = load_config(write(tmp_path, "[storage]\nflush_interval_ms = 70\n"), env=env)
    assert config.kiosk.kiosk_id == "kiosk-07"
    assert config.storage.flush_interval_ms == 20
    assert config.sensors.zones.engaged_m == 0.8
    assert config.sensors.roi == [0.2, 0.2, 0.8, 0.8]
    assert config.redis.enabled is False


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable KIOSK_STORAGE__FLUSH_INTERVAL_MS"):
        load_config(write(tmp_path, ""), env={"KIOSK_STORAGE__FLUSH_INTERVAL_MS": "soon"})


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[kiosk]\nkiosk_id = "from-env-path"\n')
    assert load_config(None, env={"KIOSK_CONFIG": str(path)}).kiosk.kiosk_id == "from-env-path"


def test_secrets_come_from_files_and_are_masked(tmp_path: Path) -> None:
    (tmp_path / "redis.pw").write_text("s3cret\n")
    config = load_config(write(tmp_path, '[redis]\npassword_file = "redis.pw"\n'), env={})
    assert config.redis.password is not None
    assert config.redis.password.get_secret_value() == "s3cret"
    rendered = render_config(config)
    assert "s3cret" not in rendered and "********" in rendered
    assert tomllib.loads(rendered.split("\n", 1)[1])["redis"]["password"] == "********"


def test_missing_secret_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[redis\] password_file: cannot read"):
        load_config(write(tmp_path, '[redis]\npassword_file = "nope"\n'), env={})


def test_secret_from_environment(tmp_path: Path) -> None:
    env = {"KIOSK_UPLINK__PASSWORD": "from-env"}
    config = load_config(write(tmp_path, ""), env=env)
    assert config.uplink.password is not None
    assert config.uplink.password.get_secret_value() == "from-env"


def test_default_experience_is_the_shipped_demo_wherever_the_config_is(tmp_path: Path) -> None:
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text('[kiosk]\nkiosk_id = "k9"\n', encoding="utf-8")
    config = load_config(config_file, env={})
    assert config.kiosk.experience == RESOURCES / "demo" / "pet-store.drawio"
    config_file.write_text('[kiosk]\nexperience = "mine.drawio"\n', encoding="utf-8")
    assert load_config(config_file, env={}).kiosk.experience == tmp_path / "mine.drawio"
