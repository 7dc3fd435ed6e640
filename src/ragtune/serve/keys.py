"""API keys: each maps to a principal (user + groups) and may be an admin key.

Only a SHA-256 of each key is stored: in ``<workspace>/keys.json`` (``KeyStore``) on SQLite, in
the database on PostgreSQL (``postgres_keys.PostgresKeyStore``, so every replica sees the same
keys; ``stores.key_store_for`` picks one). The key itself is shown once, when it is created.
Keys are 256 random bits, so a plain hash is enough: there is nothing to brute-force that a slow
password hash would protect. The short ``id`` (the first characters after the prefix) names a key
in listings and in the audit log without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from ragtune.atomic_files import write_text_atomic
from ragtune.errors import ConfigError
from ragtune.types import Principal
from ragtune.workspace import Workspace

PREFIX = "rt-"
ID_LENGTH = 8


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    user: str
    groups: tuple[str, ...]
    admin: bool
    created: str
    sha256: str
    revoked: str | None = None
    label: str = ""

    @property
    def principal(self) -> Principal:
        return Principal(self.user, frozenset(self.groups))

    def public(self) -> dict[str, object]:
        """Everything but the hash, for listings."""
        data = asdict(self)
        del data["sha256"]
        data["groups"] = list(self.groups)
        return data


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_key(user: str, groups: list[str], *, admin: bool, label: str, taken: Collection[str] = ()) -> tuple[str, ApiKey]:
    """(a fresh secret, its entry), with an id not in ``taken``; every store mints keys here."""
    if not user.strip():
        raise ConfigError("--user: a key needs a user name")
    while True:
        secret = PREFIX + secrets.token_urlsafe(32)
        key_id = secret[len(PREFIX):len(PREFIX) + ID_LENGTH]
        if key_id not in taken:
            break
    entry = ApiKey(
        id=key_id, user=user.strip(), groups=tuple(sorted({g.strip() for g in groups if g.strip()})),
        admin=admin, created=utc_now(), sha256=key_hash(secret), label=label,
    )
    return secret, entry


class KeyBackend(Protocol):
    """Where a server's keys live; ``KeyRing`` and ``ragtune keys`` use only this."""

    @property
    def where(self) -> str:
        """For messages: the file, or the database (URL masked) and schema."""
        ...

    def keys(self) -> list[ApiKey]: ...

    def active(self) -> list[ApiKey]: ...

    def find_active(self, digest: str) -> ApiKey | None:
        """The unrevoked key whose SHA-256 is ``digest``, as the store holds it now."""
        ...

    def create(self, user: str, groups: list[str], *, admin: bool = False, label: str = "") -> tuple[str, ApiKey]: ...

    def revoke(self, key_id: str) -> ApiKey: ...

    def close(self) -> None: ...


@dataclass
class KeyStore:
    """The keys of one machine, in ``<workspace>/keys.json``."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _by_hash: dict[str, ApiKey] = field(default_factory=dict, repr=False)
    _mtime: float | None = field(default=None, repr=False)

    @classmethod
    def for_workspace(cls, root: Path) -> KeyStore:
        return cls(Workspace(Path(root)).keys_path)

    def _read(self) -> list[ApiKey]:
        if not self.path.exists():
            return []
        try:
            rows = json.loads(self.path.read_text(encoding="utf-8"))["keys"]
            return [ApiKey(**{**row, "groups": tuple(row["groups"])}) for row in rows]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{self.path}: the key file is damaged ({exc}); restore it or create new keys") from None

    def _write(self, keys: list[ApiKey]) -> None:
        rows = [{**asdict(k), "groups": list(k.groups)} for k in keys]
        write_text_atomic(self.path, json.dumps({"keys": rows}, indent=2) + "\n")
        self.path.chmod(0o600)

    @property
    def where(self) -> str:
        return str(self.path)

    def keys(self) -> list[ApiKey]:
        return self._read()

    def active(self) -> list[ApiKey]:
        return [k for k in self._read() if k.revoked is None]

    def find_active(self, digest: str) -> ApiKey | None:
        # A stat per request: the file is re-read only when it changed (a write by
        # `ragtune keys` in another process), so a revocation counts from the next request.
        mtime = self.path.stat().st_mtime if self.path.exists() else None
        with self._lock:
            if mtime != self._mtime:
                self._by_hash = {k.sha256: k for k in self.active()}
                self._mtime = mtime
            return self._by_hash.get(digest)

    def create(self, user: str, groups: list[str], *, admin: bool = False, label: str = "") -> tuple[str, ApiKey]:
        """(the key, shown once; its stored entry)."""
        with self._lock:
            keys = self._read()
            secret, entry = new_key(user, groups, admin=admin, label=label, taken={k.id for k in keys})
            self._write([*keys, entry])
        return secret, entry

    def revoke(self, key_id: str) -> ApiKey:
        with self._lock:
            keys = self._read()
            for n, key in enumerate(keys):
                if key.id == key_id:
                    if key.revoked is None:
                        keys[n] = ApiKey(**{**asdict(key), "revoked": utc_now()})
                        self._write(keys)
                    return keys[n]
        raise ConfigError(f"no API key with id '{key_id}' (ragtune keys list shows them)")

    def close(self) -> None:
        pass  # nothing held open between calls


class KeyRing:
    """What a running server asks for the key behind a request. Every lookup goes to the store,
    which answers for the state it holds now: the file store re-reads ``keys.json`` when it
    changed, the database store reads the key's row (one primary-key lookup). So a key created
    or revoked anywhere counts from the next request, on every replica."""

    def __init__(self, store: KeyBackend) -> None:
        self.store = store

    def __len__(self) -> int:
        """The active keys (the server refuses to start without one)."""
        return len(self.store.active())

    def lookup(self, presented: str) -> ApiKey | None:
        digest = key_hash(presented)
        found = self.store.find_active(digest)
        # compare_digest keeps the final comparison constant-time whatever the lookup did
        return found if found is not None and hmac.compare_digest(found.sha256, digest) else None
