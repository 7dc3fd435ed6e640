"""API keys: each maps to a principal (user + groups) and may be an admin key.

Only a SHA-256 of each key is stored (``<workspace>/keys.json``); the key itself is shown once,
when it is created. Keys are 256 random bits, so a plain hash is enough: there is nothing to
brute-force that a slow password hash would protect. The short ``id`` (the first characters after
the prefix) names a key in listings and in the audit log without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

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


@dataclass
class KeyStore:
    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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

    def keys(self) -> list[ApiKey]:
        return self._read()

    def active(self) -> list[ApiKey]:
        return [k for k in self._read() if k.revoked is None]

    def create(self, user: str, groups: list[str], *, admin: bool = False, label: str = "") -> tuple[str, ApiKey]:
        """(the key, shown once; its stored entry)."""
        if not user.strip():
            raise ConfigError("--user: a key needs a user name")
        with self._lock:
            keys = self._read()
            taken = {k.id for k in keys}
            while True:
                secret = PREFIX + secrets.token_urlsafe(32)
                key_id = secret[len(PREFIX):len(PREFIX) + ID_LENGTH]
                if key_id not in taken:
                    break
            entry = ApiKey(
                id=key_id, user=user.strip(), groups=tuple(sorted({g.strip() for g in groups if g.strip()})),
                admin=admin, created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                sha256=key_hash(secret), label=label,
            )
            self._write([*keys, entry])
        return secret, entry

    def revoke(self, key_id: str) -> ApiKey:
        with self._lock:
            keys = self._read()
            for n, key in enumerate(keys):
                if key.id == key_id:
                    if key.revoked is None:
                        keys[n] = ApiKey(**{**asdict(key), "revoked": datetime.now(timezone.utc).isoformat(timespec="seconds")})
                        self._write(keys)
                    return keys[n]
        raise ConfigError(f"no API key with id '{key_id}' (ragtune keys list shows them)")


class KeyRing:
    """The active keys held in memory by a running server, looked up by hash; ``reload`` picks up
    keys created or revoked since."""

    def __init__(self, store: KeyStore) -> None:
        self.store = store
        self._by_hash: dict[str, ApiKey] = {}
        self._mtime: float | None = None
        self.reload()

    def reload(self) -> None:
        mtime = self.store.path.stat().st_mtime if self.store.path.exists() else None
        if mtime != self._mtime:
            self._by_hash = {k.sha256: k for k in self.store.active()}
            self._mtime = mtime

    def __len__(self) -> int:
        return len(self._by_hash)

    def lookup(self, presented: str) -> ApiKey | None:
        self.reload()
        digest = key_hash(presented)
        found = self._by_hash.get(digest)
        # compare_digest keeps the final comparison constant-time whatever the dict did
        return found if found is not None and hmac.compare_digest(found.sha256, digest) else None
