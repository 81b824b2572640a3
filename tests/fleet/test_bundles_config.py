"""[fleet] bundle_keys: the keys a kiosk trusts, as kiosk-import keygen prints them."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer_import.cli import main as kiosk_import
from designer_import.signed_bundle import load_private_key
from fleet.bundles import BundleStore, DeploymentFailed, trusted_keys
from settings import ConfigError, load_config
from tests.fleet.bundle_support import signed_bundle


def test_the_key_keygen_prints_lets_a_kiosk_deploy_bundles_signed_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kiosk_import(["keygen", "--out", str(tmp_path / "retailer.key")]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    setting = line.split("in their config: [fleet] ", 1)[1]
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n\n[fleet]\n{setting}\n')
    config = load_config(config_file, env={})
    key = load_private_key(tmp_path / "retailer.key")
    signed = signed_bundle(tmp_path / "build", "spring", key=key)
    assert config.paths.data_dir is not None
    store = BundleStore(config.paths.data_dir)
    keys = trusted_keys(config.fleet.bundle_keys)
    store.prepare(signed.offer, keys, archive=signed.archive)
    assert store.activate("spring").bundle_id == "spring"


def test_a_config_with_a_key_that_is_not_one_is_refused(tmp_path: Path) -> None:
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text('[fleet]\nbundle_keys = ["c2hvcnQ="]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(config_file, env={})
    assert str(caught.value) == (
        f"config error: {config_file}: [fleet] bundle_keys = ['c2hvcnQ=']: key 1 is not an "
        "Ed25519 public key (the base64 of 32 bytes that kiosk-import keygen prints)"
    )


def test_the_default_config_trusts_no_key() -> None:
    assert load_config(None, env={}).fleet.bundle_keys == []
    assert trusted_keys([]) == []
    with pytest.raises(DeploymentFailed, match=r"^\[fleet\] bundle_keys key 1: not an Ed25519"):
        trusted_keys(["not a key"])
