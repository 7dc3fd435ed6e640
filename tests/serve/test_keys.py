"""API keys are stored hashed, map to principals, and revocation takes effect at once."""

from __future__ import annotations

import json
import stat

import pytest

from ragtune.errors import ConfigError
from ragtune.serve.keys import KeyRing, KeyStore
from ragtune.types import Principal


def test_keys_are_stored_only_as_hashes_and_map_to_principals(tmp_path):
    store = KeyStore.for_workspace(tmp_path)
    secret, entry = store.create("hanna", ["hr", " staff", "hr", ""], admin=True, label="laptop")
    other, _ = store.create("erik", ["staff"])
    text = store.path.read_text()
    assert secret not in text and other not in text and entry.sha256 in text
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    ring = KeyRing(store)
    found = ring.lookup(secret)
    assert found is not None and found.principal == Principal("hanna", frozenset({"hr", "staff"})) and found.admin
    assert ring.lookup(other).principal == Principal("erik", frozenset({"staff"}))
    assert ring.lookup(secret + "x") is None and ring.lookup("") is None
    assert "sha256" not in entry.public() and entry.public()["label"] == "laptop"


def test_revoking_takes_effect_for_a_running_ring(tmp_path):
    store = KeyStore.for_workspace(tmp_path)
    secret, entry = store.create("erik", [])
    ring = KeyRing(store)
    assert ring.lookup(secret) is not None
    revoked = store.revoke(entry.id)
    assert revoked.revoked is not None
    # a file written within the same mtime tick must still be picked up
    import os
    os.utime(store.path, ns=(store.path.stat().st_atime_ns, store.path.stat().st_mtime_ns + 1_000_000))
    assert ring.lookup(secret) is None and len(ring) == 0
    with pytest.raises(ConfigError, match="no API key with id 'nope'"):
        store.revoke("nope")


def test_a_damaged_key_file_is_a_clear_error(tmp_path):
    store = KeyStore.for_workspace(tmp_path)
    store.path.write_text(json.dumps({"keys": [{"id": "x"}]}))
    with pytest.raises(ConfigError, match="keys.json: the key file is damaged"):
        store.keys()
    with pytest.raises(ConfigError, match="needs a user"):
        KeyStore.for_workspace(tmp_path / "new").create("  ", [])
