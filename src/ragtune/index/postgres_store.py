"""The scale-out store: PostgreSQL is the system of record, pgvector serves vectors, full-text
search serves keywords, and many processes on many machines share one database.

Access control is inside each ranking statement: the principal's visible set is an ``EXISTS`` on
``document_access`` in the same SQL that orders by distance or rank, never a filter applied to
its output. Dense search plans per request:

* visible set (access list and metadata filter) of at most ``exact_max_visible`` chunks, or
  ``exact=True``: exact inner product over exactly those rows (the distance is wrapped so the
  HNSW index cannot be used);
* otherwise the HNSW index, walked with the filter: with pgvector >= 0.8 ``hnsw.iterative_scan``
  keeps scanning until k visible rows are found; before 0.8 ``hnsw.ef_search`` is raised as the
  visible share falls (pgvector 0.6 returns too few rows for selective filters). Either way, a
  walk that returns fewer than k while more are visible falls back to the exact statement.

Every write of a document (row, old chunks out, new chunks in, access rows) is one transaction;
concurrent writers of one document serialise on its row (``INSERT … ON CONFLICT`` locks it), and
a batch locks its documents in id order so two writers never deadlock.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg_pool import ConnectionPool, PoolTimeout

from ragtune.errors import ConfigError, RagtuneError
from ragtune.index.base import (
    DocumentState,
    DocumentSummary,
    DocumentWrite,
    Hit,
    IndexCorruptError,
    IndexMismatchError,
    SearchRequest,
    SearchResults,
    SOURCE_FINGERPRINTS_SQL,
    SourceFingerprint,
    StoreStatus,
    access_hash,
    check_dimensions,
    check_query_vector,
    counted_problems,
    pages_by_document_id,
    document_from_row,
    document_write_from_rows,
    principal_keys,
    record_hash,
)
from ragtune.index.keyword import query_terms
from ragtune.index.postgres_filters import to_pg_sql
from ragtune.index.postgres_keyword import TermStatistics, bm25_top
from ragtune.index.postgres_schema import MIGRATIONS, SCHEMA_VERSION
from ragtune.index.vectors import AnnConfig
from ragtune.types import AccessList, Document, Principal, content_hash

ITERATIVE_SCAN_SINCE = (0, 8, 0)
MAX_EF_SEARCH = 1000  # pgvector's upper bound for hnsw.ef_search
PLAN_SECONDS = 5.0
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_HIT_COLUMNS = (
    "c.chunk, c.id, d.id, d.source, c.text, c.start_offset, c.end_offset, c.page, c.page_end, c.heading_path, "
    "d.metadata"
)


def masked_url(url: str) -> str:
    """The URL with its password (URL or ``password=`` keyword form) replaced by ``***``."""
    url = re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _array(value: Any) -> np.ndarray:
    """A pgvector value as float32 (the adapter returns ``Vector``; older ones a NumPy array)."""
    return np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value, dtype=np.float32)


def _version(text: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text or "")[:3])


def schema_exists(url: str, schema: str) -> bool:
    """Whether ``schema`` at ``url`` holds a ragtune index (without creating anything)."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            return conn.execute("SELECT to_regclass(%s)", (f"{schema}.meta",)).fetchone()[0] is not None
    except psycopg.Error as exc:
        raise RagtuneError(f"cannot connect to PostgreSQL at {masked_url(url)}: {_reason(exc)}") from None


def drop_schema(url: str, schema: str) -> None:
    """Remove an index schema and everything in it (absent is fine)."""
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {_checked(schema)} CASCADE")


def swap_schema(url: str, staging: str, live: str) -> None:
    """Make ``staging`` the index named ``live`` in one transaction; the old one is dropped."""
    retired = f"{live[:50]}_retired"
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ragtune schema {live}",))
        conn.execute(f"DROP SCHEMA IF EXISTS {_checked(retired)} CASCADE")
        if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (live,)).fetchone():
            conn.execute(f"ALTER SCHEMA {_checked(live)} RENAME TO {retired}")
        conn.execute(f"ALTER SCHEMA {_checked(staging)} RENAME TO {live}")
        conn.execute(f"DROP SCHEMA IF EXISTS {retired} CASCADE")


def _checked(schema: str) -> str:
    if not _SCHEMA_NAME.match(schema):
        raise ConfigError(f"[index] schema = {schema!r}: use lower-case letters, digits and _ (a SQL name)")
    return schema


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class PlanCounts:
    """How many chunks a (principal, filter) may see, for choosing the dense path; cached for
    ``PLAN_SECONDS`` because the count scans every document row (tens of ms on 25,000 documents,
    bench/RESULTS.md). A stale count can only pick the slower path, never a wrong answer: exact is
    exact, and a graph walk that finds too few falls back to exact."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, tuple[float, int]] = OrderedDict()

    def get(self, conn: psycopg.Connection, counted: tuple[str, list[Any]]) -> int:
        sql, params = counted
        key = (sql, *[tuple(p) if isinstance(p, list) else p for p in params])
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < PLAN_SECONDS:
                return hit[1]
        visible = conn.execute(f"SELECT coalesce(sum(v.n_chunks), 0) FROM documents v WHERE {sql}", params).fetchone()[0]
        with self._lock:
            self._cache[key] = (now, int(visible))
            self._cache.move_to_end(key)
            while len(self._cache) > 256:
                self._cache.popitem(last=False)
        return int(visible)


class PostgresStore:
    """``Store`` over one schema of a PostgreSQL database with the pgvector extension."""

    def __init__(
        self,
        url: str,
        embedder: str | None,
        dimension: int | None,
        ann: AnnConfig | None = None,
        *,
        schema: str = "ragtune",
        pool_size: int = 4,
        setting: str = "[index] url",
    ) -> None:
        """Open (or, given an embedder, create) the index in ``schema``. ``setting`` names where
        the URL came from, for error messages. With ``embedder=None`` an existing index is opened
        as it is (status, documents, access, keyword search)."""
        _checked(schema)
        self.url, self.schema, self.ann_config = url, schema, ann or AnnConfig()
        self.location = f"{masked_url(url)} (schema {schema})"
        self._setting = setting
        with self._connect_once() as conn:
            self._prepare(conn, embedder, dimension)
            self.server_version = str(conn.execute("SHOW server_version").fetchone()[0])
            self.pgvector_version = str(
                conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
            )
            meta = dict(conn.execute(f"SELECT key, value FROM {schema}.meta").fetchall())
        self.embedder, self.dimension = meta["embedder"], int(meta["dimension"])
        if embedder is not None and (self.embedder, self.dimension) != (embedder, dimension):
            raise IndexMismatchError(
                f"the index in {self.location} was built with embedder '{self.embedder}' ({self.dimension}-d) but "
                f"the configured embedder is '{embedder}' ({dimension}-d): vectors from different models cannot be "
                f"compared. Set [embedder] back, or use another [index] schema and ingest again."
            )
        self.iterative_scan = _version(self.pgvector_version) >= ITERATIVE_SCAN_SINCE
        self._terms = TermStatistics()
        self._plan_counts = PlanCounts()
        self._pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=False, configure=register_vector,
            kwargs={"autocommit": True, "options": f"-c search_path={schema},public"},
        )
        try:
            self._pool.open(wait=True, timeout=30)
        except Exception as exc:
            raise RagtuneError(f"cannot open connections to {self.location} ({self._setting}): {exc}") from None

    # -- setup --------------------------------------------------------------------------------
    def _connect_once(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise RagtuneError(f"cannot connect to PostgreSQL at {masked_url(self.url)} ({self._setting}): "
                               f"{_reason(exc)}") from None

    def _prepare(self, conn: psycopg.Connection, embedder: str | None, dimension: int | None) -> None:
        """Create or migrate the schema, under a lock so two processes starting at once agree."""
        s = self.schema
        exists = conn.execute("SELECT to_regclass(%s)", (f"{s}.meta",)).fetchone()[0] is not None
        if not exists and (embedder is None or dimension is None):
            raise RagtuneError(f"no index in {self.location}: run 'ragtune ingest' first")
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone() is None:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except psycopg.Error as exc:
                raise RagtuneError(
                    f"the pgvector extension is not installed in the database at {masked_url(self.url)} and could not "
                    f"be created ({_reason(exc)}): ask its administrator for "
                    "'CREATE EXTENSION vector' (pgvector >= 0.5; 0.8+ for iterative filtered search)"
                ) from None
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ragtune schema {s}",))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {s}.meta (key text PRIMARY KEY, value text NOT NULL)")
            found = conn.execute(f"SELECT value FROM {s}.meta WHERE key = 'schema_version'").fetchone()
            version = int(found[0]) if found else 0
            if version > SCHEMA_VERSION:
                raise IndexCorruptError(
                    f"the index in {self.location} has schema version {version}, written by a newer ragtune; "
                    f"this ragtune reads version {SCHEMA_VERSION}: upgrade ragtune"
                )
            if version == 0:
                defaults = {"embedder": embedder, "dimension": str(dimension), "created_at": str(time.time())}
                for key, value in defaults.items():
                    conn.execute(f"INSERT INTO {s}.meta (key, value) VALUES (%s, %s) ON CONFLICT DO NOTHING", (key, value))
            dim = int(conn.execute(f"SELECT value FROM {s}.meta WHERE key = 'dimension'").fetchone()[0])
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    conn.execute(statement.format(schema=s, dimension=dim, m=self.ann_config.m,
                                                  ef_construction=self.ann_config.ef_construction))
            conn.execute(
                f"INSERT INTO {s}.meta (key, value) VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; a lost server becomes an error that names it (the transaction
        in flight is rolled back by the server, so nothing is half-written)."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise RagtuneError(f"lost the connection to PostgreSQL at {self.location} ({self._setting}): "
                               f"{_reason(exc)}") from None

    @contextmanager
    def _read(self) -> Iterator[psycopg.Connection]:
        """One snapshot for every statement inside (dense and keyword see the same commit)."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield conn

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection]:
        with self._connection() as conn, conn.transaction():
            yield conn
            conn.execute("SELECT nextval('generation')")

    # -- reads used by ingest -----------------------------------------------------------------
    def states(self, document_ids: Iterable[str]) -> dict[str, DocumentState]:
        ids = list(dict.fromkeys(document_ids))
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, origin, record_hash, access_hash FROM documents WHERE id = ANY(%s)", (ids,)
            ).fetchall()
        return {row[0]: DocumentState(*row) for row in rows}

    def states_by_origin(self, origins: Iterable[str] | None = None, prefix: str | None = None) -> list[DocumentState]:
        query = "SELECT id, origin, record_hash, access_hash FROM documents"
        with self._read() as conn:
            if prefix is not None:
                escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                rows = conn.execute(query + " WHERE origin LIKE %s", (escaped + "%",)).fetchall()
            elif origins is not None:
                rows = conn.execute(query + " WHERE origin = ANY(%s)", (list(origins),)).fetchall()
            else:
                rows = conn.execute(query).fetchall()
        return [DocumentState(*row) for row in rows]

    def reusable_vectors(self, document_ids: Iterable[str]) -> dict[str, np.ndarray]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT c.text_hash, c.embedding FROM chunks c JOIN documents d ON d.doc = c.doc WHERE d.id = ANY(%s)",
                (list(document_ids),),
            ).fetchall()
        return {text_hash: _array(vector) for text_hash, vector in rows}

    # -- writes -------------------------------------------------------------------------------
    def upsert(self, writes: Sequence[DocumentWrite]) -> None:
        if not writes:
            return
        check_dimensions(writes, self.dimension)
        with self._write() as conn:
            for write in sorted(writes, key=lambda w: w.document.id):  # lock order: no deadlocks
                doc = self._put_document(conn, write)
                rows = [
                    (chunk.id, doc, ordinal, chunk.text, chunk.keyword_heading,
                     json.dumps(list(chunk.heading_path), ensure_ascii=False), chunk.start, chunk.end, chunk.page,
                     chunk.page_end, chunk.token_count, content_hash(chunk.embedding_text),
                     np.ascontiguousarray(vector, dtype=np.float32))
                    for ordinal, (chunk, vector) in enumerate(zip(write.chunks, write.vectors, strict=True))
                ]
                with conn.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO chunks (id, doc, ordinal, text, heading, heading_path, start_offset, end_offset, "
                        "page, page_end, token_count, text_hash, embedding) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        rows,
                    )

    def _put_document(self, conn: psycopg.Connection, write: DocumentWrite) -> int:
        document, access = write.document, write.document.access
        layout = {"page_starts": document.page_starts, "outline": [[h.level, h.title, h.start] for h in document.outline]}
        row = conn.execute(
            "INSERT INTO documents (id, origin, source, format, record_hash, access_hash, allowed_users, allowed_groups, "
            "access_origin, metadata, layout, text, n_chunks, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET origin = excluded.origin, source = excluded.source, "
            "format = excluded.format, record_hash = excluded.record_hash, access_hash = excluded.access_hash, "
            "allowed_users = excluded.allowed_users, allowed_groups = excluded.allowed_groups, "
            "access_origin = excluded.access_origin, metadata = excluded.metadata, layout = excluded.layout, "
            "text = excluded.text, n_chunks = excluded.n_chunks, updated_at = excluded.updated_at RETURNING doc",
            (document.id, write.origin, document.source, document.format, record_hash(document, write.chunks),
             access_hash(access), json.dumps(sorted(access.allowed_users)), json.dumps(sorted(access.allowed_groups)),
             access.origin, json.dumps(document.metadata, ensure_ascii=False, default=str), json.dumps(layout),
             document.text, len(write.chunks), time.time()),
        ).fetchone()
        doc = int(row[0])
        conn.execute("DELETE FROM chunks WHERE doc = %s", (doc,))
        self._put_access(conn, doc, access)
        return doc

    @staticmethod
    def _put_access(conn: psycopg.Connection, doc: int, access: AccessList) -> None:
        conn.execute("DELETE FROM document_access WHERE doc = %s", (doc,))
        keys = sorted({f"u:{u}" for u in access.allowed_users} | {f"g:{g}" for g in access.allowed_groups})
        if keys:
            conn.execute("INSERT INTO document_access (principal, doc) SELECT unnest(%s::text[]), %s", (keys, doc))

    def update_access(self, document_id: str, access: AccessList) -> None:
        with self._write() as conn:
            row = conn.execute(
                "UPDATE documents SET access_hash = %s, allowed_users = %s, allowed_groups = %s, access_origin = %s, "
                "updated_at = %s WHERE id = %s RETURNING doc",
                (access_hash(access), json.dumps(sorted(access.allowed_users)), json.dumps(sorted(access.allowed_groups)),
                 access.origin, time.time(), document_id),
            ).fetchone()
            if row is None:
                raise KeyError(document_id)
            self._put_access(conn, int(row[0]), access)

    def delete(self, document_ids: Iterable[str]) -> int:
        ids = sorted(set(document_ids))
        if not ids:
            return 0
        with self._write() as conn:
            return conn.execute("DELETE FROM documents WHERE id = ANY(%s)", (ids,)).rowcount

    def source_fingerprints(self) -> dict[str, SourceFingerprint]:
        with self._read() as conn:
            return {row[0]: SourceFingerprint(*row) for row in conn.execute(SOURCE_FINGERPRINTS_SQL)}

    def set_source_fingerprints(self, fingerprints: Sequence[SourceFingerprint]) -> None:
        if not fingerprints:
            return
        with self._connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(  # no generation bump: readers' view of the index is unchanged
                "INSERT INTO sources (origin, fingerprint, documents, chunks, updated_at) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (origin) DO UPDATE SET fingerprint = excluded.fingerprint, documents = excluded.documents, "
                "chunks = excluded.chunks, updated_at = excluded.updated_at",
                [(f.origin, f.fingerprint, f.documents, f.chunks, time.time()) for f in fingerprints],
            )

    def compact(self, force: bool = False) -> bool:
        """Nothing to renumber: PostgreSQL's autovacuum reclaims deleted rows. Always False."""
        return False

    # -- search -------------------------------------------------------------------------------
    def _visible(
        self, principal: Principal, filters: Mapping[str, Any] | None, doc: str = "c.doc"
    ) -> tuple[str, list[Any]]:
        """A condition on the document column ``doc``: visible to the principal, passing the filter."""
        where, params = to_pg_sql(filters, self.schema)
        sql = f"EXISTS (SELECT 1 FROM document_access a WHERE a.doc = {doc} AND a.principal = ANY(%s))"
        if where != "TRUE":
            sql += f" AND {doc} IN (SELECT d.doc FROM documents d WHERE {where})"
        return sql, [principal_keys(principal), *params]

    def search(self, request: SearchRequest) -> SearchResults:
        check_query_vector(request.vector, self.dimension)
        visible = self._visible(request.principal, request.filters)  # validates the filter first
        counted = self._visible(request.principal, request.filters, doc="v.doc")
        results = SearchResults()
        with self._read() as conn:
            dense: list[tuple[int, float]] = []
            if request.vector is not None and request.k > 0:
                dense = self._dense(conn, np.asarray(request.vector, dtype=np.float32), request, visible, counted)
            keyword: list[tuple[int, float]] = []
            if request.text and query_terms(request.text) and request.k > 0:
                keyword = bm25_top(conn, self._terms, request.text, visible[0], visible[1], request.k)
            rows = self._hit_rows(conn, {r for r, _ in dense} | {r for r, _ in keyword}, request.with_vectors)
        for chunk, score in dense:
            results.dense.append(self._hit(rows[chunk], score, "dense", request.with_vectors))
        for chunk, score in keyword:
            results.keyword.append(self._hit(rows[chunk], score, "bm25", request.with_vectors))
        return results

    def _dense(
        self,
        conn: psycopg.Connection,
        vector: np.ndarray,
        request: SearchRequest,
        visible: tuple[str, list[Any]],
        counted: tuple[str, list[Any]],
    ) -> list[tuple[int, float]]:
        condition, params = visible
        k = request.k
        exact_sql = (
            f"SELECT c.chunk, c.embedding <#> %s AS distance FROM chunks c WHERE {condition} "
            "ORDER BY (c.embedding <#> %s) + 0, c.chunk LIMIT %s"  # "+ 0": not orderable by the HNSW index
        )
        exact_params = [vector, *params, vector, k]
        cfg = self.ann_config
        if request.exact:
            rows = conn.execute(exact_sql, exact_params).fetchall()
            return [(int(c), -float(d)) for c, d in rows]
        visible_chunks = self._plan_counts.get(conn, counted)
        if visible_chunks <= cfg.exact_max_visible:
            rows = conn.execute(exact_sql, exact_params).fetchall()
            return [(int(c), -float(d)) for c, d in rows]
        # The HNSW walk, filter inside: no sequential scan or sort may replace the index. The walk
        # widens as the visible share falls (measured: at ef 64 a 1 % share kept recall@10 .81,
        # bench/RESULTS.md); on pgvector >= 0.8 the iterative scan also keeps going past ef.
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL enable_sort = off")
        if self.iterative_scan:
            conn.execute("SET LOCAL hnsw.iterative_scan = strict_order")
        total, _ = self._terms.corpus(conn)  # the chunk count BM25 also uses, cached the same way
        share = max(visible_chunks, 1) / max(total, 1)
        ef = max(cfg.ef_search, k, int(cfg.oversample * k / share))
        conn.execute(f"SET LOCAL hnsw.ef_search = {int(min(MAX_EF_SEARCH, ef))}")
        rows = conn.execute(
            f"SELECT c.chunk, c.embedding <#> %s AS distance FROM chunks c WHERE {condition} "
            "ORDER BY c.embedding <#> %s LIMIT %s",
            [vector, *params, vector, k],
        ).fetchall()
        conn.execute("RESET enable_seqscan")
        conn.execute("RESET enable_sort")
        if len(rows) < k:  # the walk found too few (or fewer are visible): exact over the visible rows decides
            rows = conn.execute(exact_sql, exact_params).fetchall()
        return [(int(c), -float(d)) for c, d in rows]

    def _hit_rows(self, conn: psycopg.Connection, chunks: set[int], with_vectors: bool) -> dict[int, tuple]:
        if not chunks:
            return {}
        columns = _HIT_COLUMNS + (", c.embedding" if with_vectors else "")
        rows = conn.execute(
            f"SELECT {columns} FROM chunks c JOIN documents d ON d.doc = c.doc WHERE c.chunk = ANY(%s)", (list(chunks),)
        ).fetchall()
        return {row[0]: row for row in rows}

    @staticmethod
    def _hit(row: tuple, score: float, signal: str, with_vector: bool) -> Hit:
        return Hit(
            chunk_id=row[1], document_id=row[2], source=row[3], text=row[4], start=row[5], end=row[6], page=row[7],
            page_end=row[8], heading_path=tuple(row[9]), metadata=row[10], score=score, scores={signal: score},
            vector=_array(row[11]) if with_vector else None,
        )

    def document(self, document_id: str, principal: Principal) -> Document | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT id, source, text, format, metadata, allowed_users, allowed_groups, access_origin, layout "
                "FROM documents d WHERE id = %s AND EXISTS "
                "(SELECT 1 FROM document_access a WHERE a.doc = d.doc AND a.principal = ANY(%s))",
                (document_id, principal_keys(principal)),
            ).fetchone()
        if row is None:
            return None
        return document_from_row(*row)

    def list_documents(self, principal: Principal, *, limit: int = 100, offset: int = 0) -> list[DocumentSummary]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, source, format, metadata, n_chunks FROM documents d WHERE EXISTS "
                "(SELECT 1 FROM document_access a WHERE a.doc = d.doc AND a.principal = ANY(%s)) "
                "ORDER BY source, id LIMIT %s OFFSET %s",
                (principal_keys(principal), limit, offset),
            ).fetchall()
        return [DocumentSummary(*row) for row in rows]

    def writes(self, batch: int = 100) -> Iterator[list[DocumentWrite]]:
        return pages_by_document_id(self._writes_after, batch)

    def _writes_after(self, after: str, batch: int) -> list[DocumentWrite]:
        with self._read() as conn:
            documents = conn.execute(
                "SELECT doc, id, origin, source, text, format, metadata, allowed_users, allowed_groups, "
                "access_origin, layout FROM documents WHERE id > %s ORDER BY id LIMIT %s",
                (after, batch),
            ).fetchall()
            chunks: dict[int, list[tuple]] = {row[0]: [] for row in documents}
            for row in conn.execute(
                "SELECT doc, id, text, start_offset, end_offset, page, page_end, heading_path, token_count, "
                "embedding, heading FROM chunks WHERE doc = ANY(%s) ORDER BY doc, ordinal",
                (list(chunks),),
            ):
                chunks[row[0]].append((*row[1:9], _array(row[9]), row[10]))
        return [
            document_write_from_rows(document_from_row(r[1], *r[3:]), r[2], chunks[r[0]], self.dimension)
            for r in documents
        ]

    # -- administration -----------------------------------------------------------------------
    def status(self) -> StoreStatus:
        with self._read() as conn:
            documents = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
            generation = conn.execute("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM generation").fetchone()[0]
        scan = "iterative filtered scan" if self.iterative_scan else "ef_search raised for filters"
        ann = (f"pgvector {self.pgvector_version} HNSW (m={self.ann_config.m}, {scan}) on PostgreSQL "
               f"{self.server_version}")
        # The HNSW index is maintained inside each write transaction: it is never behind.
        return StoreStatus(documents, chunks, self.embedder, self.dimension, int(generation), ann, int(generation),
                           self.location, backend="postgres")

    def check_integrity(self) -> list[str]:
        with self._read() as conn:
            return counted_problems(conn.execute, [
                ("SELECT count(*) FROM documents d WHERE NOT EXISTS "
                 "(SELECT 1 FROM document_access a WHERE a.doc = d.doc)", (), "{n} document(s) have no access rows"),
                ("SELECT count(*) FROM documents d WHERE n_chunks <> (SELECT count(*) FROM chunks c WHERE c.doc = d.doc)",
                 (), "{n} document(s) whose chunk count differs from their chunk rows"),
                ("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                 "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT i.indisvalid",
                 (self.schema,), f"{{n}} index(es) of schema {self.schema} are invalid (REINDEX them)"),
            ])

    def flush(self) -> None:
        """Nothing is held outside the database."""

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
