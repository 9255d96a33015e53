"""The bootstrap clients given inline (IDENTITY_BOOTSTRAP_JSON), for deployments that cannot write a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.identity.service.bootstrap import BootstrapError, declared
from services.identity.settings import IdentitySettings
from shared.runtime.settings import SettingsError, load_settings

SECRET = "b" * 40
CLIENT = {
    "client_id": "consent",
    "secret": SECRET,
    "tenant": "*",
    "name": "privops consent service",
    "kind": "service",
    "scopes": ["dsar:task", "identity:sign"],
}
BASE = {
    "database_url": "postgresql+asyncpg://privops@127.0.0.1:9/identity",
    "kafka_bootstrap_servers": "127.0.0.1:9092",
    "subject_hash_key": "h" * 40,
    "signing_key": "k" * 40,
    "key_encryption_key": "e" * 40,
}


def settings(**values: Any) -> IdentitySettings:
    return IdentitySettings(**(BASE | values))


def test_inline_json_declares_the_same_clients_as_a_file(tmp_path: Path) -> None:
    document = json.dumps({"clients": [CLIENT]})
    path = tmp_path / "bootstrap.json"
    path.write_text(document)
    inline = declared(settings(bootstrap_json=document))
    from_file = declared(settings(bootstrap_file=str(path)))
    assert inline is not None and inline == from_file
    assert [c.client_id for c in inline.clients] == ["consent"]
    assert declared(settings()) is None  # neither: nothing to load


def test_inline_json_is_read_from_the_environment_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in BASE.items():
        monkeypatch.setenv(f"IDENTITY_{name.upper()}", value)
    monkeypatch.setenv("IDENTITY_BOOTSTRAP_JSON", json.dumps({"clients": [CLIENT]}))
    loaded = load_settings(IdentitySettings)
    assert SECRET not in repr(loaded) and SECRET not in str(loaded.model_dump())
    found = declared(loaded)
    assert found is not None and found.clients[0].secret == SECRET


def test_a_file_and_inline_json_together_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in BASE.items():
        monkeypatch.setenv(f"IDENTITY_{name.upper()}", value)
    monkeypatch.setenv("IDENTITY_BOOTSTRAP_FILE", str(tmp_path / "bootstrap.json"))
    monkeypatch.setenv("IDENTITY_BOOTSTRAP_JSON", json.dumps({"clients": [CLIENT]}))
    with pytest.raises(SettingsError, match="IDENTITY_BOOTSTRAP_JSON"):
        load_settings(IdentitySettings)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ('{"clients": [{"client_id": "consent", "secret": "' + SECRET + '",}]}', "not JSON (line 1, column"),
        (json.dumps({"clients": [CLIENT | {"secret": "short"}]}), "clients.0.secret"),
        (json.dumps({"clients": [CLIENT | {"kind": "store", "tenant": "demo"}]}), "system"),
        (json.dumps({"clients": [CLIENT | {"colour": "red"}]}), "clients.0.colour"),
    ],
    ids=["not-json", "short-secret", "store-without-system", "unknown-field"],
)
def test_bad_inline_json_stops_the_service_naming_the_setting_not_a_secret(document: str, reason: str) -> None:
    with pytest.raises(BootstrapError) as caught:
        declared(settings(bootstrap_json=document))
    assert "IDENTITY_BOOTSTRAP_JSON" in str(caught.value)
    assert reason in str(caught.value)
    assert SECRET not in str(caught.value)


def test_create_app_refuses_bad_inline_json_before_anything_runs() -> None:
    from services.identity.app import create_app

    with pytest.raises(BootstrapError, match="IDENTITY_BOOTSTRAP_JSON"):
        create_app(settings(bootstrap_json="[]"))
