"""API keys in PostgreSQL, for replicas that share one index: a key created or revoked through
any workspace pointing at the database counts on every replica from its next request, because
each request reads its key's row (a primary-key lookup on the hash, ~0.1 ms; no cache that could
serve a revoked key). As in ``keys.json``, only the SHA-256 of a key is stored."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import psycopg

from ragtune.errors import ConfigError
from ragtune.serve.keys import ApiKey, new_key, utc_now
from ragtune.serve.postgres_state import ServeStateDatabase

_COLUMNS = "id, user_name, groups, admin, created, sha256, revoked, label"
_MINT_TRIES = 5  # ids are 48 random bits: a second try is already unheard of


def _timestamp(value: datetime | None) -> str | None:
    """As ``keys.json`` writes it: UTC, to the second."""
    return None if value is None else value.astimezone(timezone.utc).isoformat(timespec="seconds")


def _entry(row: tuple[Any, ...]) -> ApiKey:
    key_id, user, groups, admin, created, sha256, revoked, label = row
    return ApiKey(id=key_id, user=user, groups=tuple(groups), admin=admin, created=_timestamp(created) or "",
                  sha256=sha256, revoked=_timestamp(revoked), label=label)


class PostgresKeyStore:
    """``KeyBackend`` over ``<state schema>.api_keys``."""

    def __init__(self, database: ServeStateDatabase) -> None:
        self.database = database
        self._table = f"{database.schema}.api_keys"

    @property
    def where(self) -> str:
        return self.database.location

    def _select(self, condition: str = "TRUE", params: tuple[Any, ...] = ()) -> list[ApiKey]:
        with self.database.connection() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM {self._table} WHERE {condition} ORDER BY seq",
                                params).fetchall()
        return [_entry(row) for row in rows]

    def keys(self) -> list[ApiKey]:
        return self._select()

    def active(self) -> list[ApiKey]:
        return self._select("revoked IS NULL")

    def find_active(self, digest: str) -> ApiKey | None:
        found = self._select("sha256 = %s AND revoked IS NULL", (digest,))
        return found[0] if found else None

    def create(self, user: str, groups: list[str], *, admin: bool = False, label: str = "") -> tuple[str, ApiKey]:
        """(the key, shown once; its stored entry). The id's uniqueness is the table's: a clash
        with a key minted at the same moment elsewhere is retried with a new key."""
        for _ in range(_MINT_TRIES):
            secret, entry = new_key(user, groups, admin=admin, label=label)
            try:
                with self.database.connection() as conn:
                    conn.execute(
                        f"INSERT INTO {self._table} (sha256, id, user_name, groups, admin, label, created) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s::timestamptz)",
                        (entry.sha256, entry.id, entry.user, list(entry.groups), entry.admin, entry.label, entry.created),
                    )
            except psycopg.errors.UniqueViolation:
                continue
            return secret, entry
        raise RuntimeError(f"could not mint an unused key id in {_MINT_TRIES} tries")  # pragma: no cover

    def revoke(self, key_id: str) -> ApiKey:
        with self.database.connection() as conn:
            row = conn.execute(
                f"UPDATE {self._table} SET revoked = coalesce(revoked, %s::timestamptz) WHERE id = %s RETURNING {_COLUMNS}",
                (utc_now(), key_id),
            ).fetchone()
        if row is None:
            raise ConfigError(f"no API key with id '{key_id}' (ragtune keys list shows them)")
        return _entry(row)

    def close(self) -> None:
        self.database.close()
