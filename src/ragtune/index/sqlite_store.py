"""The embedded store: SQLite (WAL) is the system of record, FTS5 serves BM25, faiss serves vectors.

Documents, chunks, access rows and full-text postings change in one SQLite transaction, so a
reader (in this or another process) sees a document either before or after a write, never half.
The vector index is derived from the rows (``sqlite_vectors.DerivedVectors``): after a crash its
file is simply behind, and the next read catches it up.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.errors import RagtuneError
from ragtune.index import filters as metadata_filters
from ragtune.index.base import (  # noqa: F401 - the errors are re-exported
    IndexCorruptError,
    IndexMismatchError,
    DocumentState,
    DocumentSummary,
    DocumentWrite,
    Hit,
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
    document_from_row as _document,
    document_write_from_rows as _document_write,
    principal_keys,
    record_hash,
)
from ragtune.index.keyword import fts_query
from ragtune.index.sqlite_vectors import DerivedVectors
from ragtune.index.vectors import AnnConfig, VectorIndex
from ragtune.types import AccessList, Document, Principal, content_hash

SCHEMA_VERSION = "1"
DB_NAME = "ragtune.db"


def _access_keys(access: AccessList) -> list[str]:
    return sorted({f"u:{u}" for u in access.allowed_users} | {f"g:{g}" for g in access.allowed_groups})


class SqliteStore:
    """``Store`` over one folder: ``ragtune.db`` plus ``vectors-e<epoch>.faiss``."""

    def __init__(
        self,
        folder: Path,
        embedder: str | None,
        dimension: int | None,
        ann: AnnConfig | None = None,
        compact_dead_share: float = 0.25,
    ) -> None:
        """Open (or create) the index in ``folder`` for vectors of ``embedder``/``dimension``.

        With ``embedder=None`` an existing index is opened as it is, for administration
        (status, integrity) and keyword search.
        """
        self.folder = Path(folder)
        self.path = self.folder / DB_NAME
        if embedder is None or dimension is None:
            if not self.path.exists():
                raise RagtuneError(f"no index at {self.folder}: run 'ragtune ingest' first")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ann_config = ann or AnnConfig()
        self.compact_dead_share = compact_dead_share
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._require_fts5()
        self._create_schema(embedder, dimension)
        self.embedder = self._meta("embedder")
        self.dimension = int(self._meta("dimension"))
        if embedder is not None and (self.embedder, self.dimension) != (embedder, dimension):
            self._db.close()
            raise IndexMismatchError(
                f"the index at {self.folder} was built with embedder '{self.embedder}' "
                f"({self.dimension}-d) but the configured embedder is '{embedder}' ({dimension}-d): "
                "vectors from different models cannot be compared. Set [embedder] back, or delete "
                "the index folder and ingest again."
            )
        self._derived = DerivedVectors(self.folder, self.dimension, self.ann_config)

    # -- setup --------------------------------------------------------------------------------
    def _require_fts5(self) -> None:
        try:
            self._db.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
            self._db.execute("DROP TABLE temp.fts5_probe")
        except sqlite3.OperationalError as exc:
            raise RagtuneError(f"this Python's SQLite ({sqlite3.sqlite_version}) lacks FTS5, needed for BM25") from exc

    def _create_schema(self, embedder: str | None, dimension: int | None) -> None:
        schema = resources.files("ragtune.index").joinpath("schema.sql").read_text(encoding="utf-8")
        with self._transaction() as db:
            for statement in _statements(schema):
                db.execute(statement)
            defaults = {
                "schema_version": SCHEMA_VERSION,
                "embedder": embedder,
                "dimension": str(dimension),
                "generation": "0",
                "epoch": "0",
                "next_pos": "0",
                "created_at": str(time.time()),
            }
            db.executemany("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", defaults.items())
        version = self._meta("schema_version")
        if version != SCHEMA_VERSION:
            raise IndexCorruptError(f"{self.path}: index schema version {version}, this ragtune reads {SCHEMA_VERSION}")

    def _meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise IndexCorruptError(f"{self.path}: meta key '{key}' is missing")
        return row[0]

    def _set_meta(self, key: str, value: object) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, str(value)))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed whole, or rolled back on any exception."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that bumps the generation readers use to notice changes."""
        with self._transaction() as db:
            yield db
            self._set_meta("generation", int(self._meta("generation")) + 1)

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same committed state."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

    # -- the vector index (derived) ------------------------------------------------------------
    def _sync_vectors(self) -> VectorIndex:
        """The vector index level with the rows. Call inside a transaction."""
        return self._derived.sync(self._db, int(self._meta("epoch")), int(self._meta("next_pos")))

    def flush(self) -> None:
        """Persist the vector index if it changed (it is always recoverable from the rows)."""
        with self._snapshot():
            self._sync_vectors()
            generation = int(self._meta("generation"))
        self._derived.persist(generation)

    # -- reads used by ingest -----------------------------------------------------------------
    def states(self, document_ids: Iterable[str]) -> dict[str, DocumentState]:
        ids = list(dict.fromkeys(document_ids))
        out: dict[str, DocumentState] = {}
        with self._snapshot() as db:
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ",".join("?" * len(part))
                for row in db.execute(
                    f"SELECT id, origin, record_hash, access_hash FROM documents WHERE id IN ({marks})", part
                ):
                    out[row[0]] = DocumentState(*row)
        return out

    def states_by_origin(self, origins: Iterable[str] | None = None, prefix: str | None = None) -> list[DocumentState]:
        query = "SELECT id, origin, record_hash, access_hash FROM documents"
        with self._snapshot() as db:
            if prefix is not None:
                escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                rows = db.execute(query + " WHERE origin LIKE ? ESCAPE '\\'", (escaped + "%",)).fetchall()
            elif origins is not None:
                wanted = list(origins)
                rows = [r for o in wanted for r in db.execute(query + " WHERE origin = ?", (o,))]
            else:
                rows = db.execute(query).fetchall()
        return [DocumentState(*row) for row in rows]

    def reusable_vectors(self, document_ids: Iterable[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._snapshot() as db:
            for doc_id in document_ids:
                rows = db.execute(
                    "SELECT c.text_hash, c.embedding FROM chunks c JOIN documents d ON d.rowid = c.doc WHERE d.id = ?",
                    (doc_id,),
                )
                for text_hash, blob in rows:
                    out[text_hash] = np.frombuffer(blob, dtype=np.float32).copy()
        return out

    # -- writes -------------------------------------------------------------------------------
    def upsert(self, writes: Sequence[DocumentWrite]) -> None:
        if not writes:
            return
        check_dimensions(writes, self.dimension)
        added: list[np.ndarray] = []
        with self._write() as db:
            vectors = self._sync_vectors()  # positions must continue where the rows end
            next_pos = int(self._meta("next_pos"))
            for write in writes:
                doc_rowid = self._put_document(db, write)
                rows = []
                for ordinal, (chunk, vector) in enumerate(zip(write.chunks, write.vectors, strict=True)):
                    rows.append(
                        (
                            chunk.id,
                            doc_rowid,
                            ordinal,
                            chunk.text,
                            chunk.keyword_heading,
                            json.dumps(list(chunk.heading_path), ensure_ascii=False),
                            chunk.start,
                            chunk.end,
                            chunk.page,
                            chunk.page_end,
                            chunk.token_count,
                            content_hash(chunk.embedding_text),
                            next_pos,
                            np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
                        )
                    )
                    next_pos += 1
                db.executemany(
                    "INSERT INTO chunks(id, doc, ordinal, text, heading, heading_path, start, end, page, page_end, "
                    "token_count, text_hash, vec_pos, embedding) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
                added.append(np.asarray(write.vectors, dtype=np.float32))
            self._set_meta("next_pos", next_pos)
            expected = vectors.ntotal + sum(len(a) for a in added)
            if expected != next_pos:
                raise IndexCorruptError(f"{self.path}: vector positions out of step ({expected} != {next_pos})")
        # Committed: only now may the in-memory index grow (a rollback must leave it untouched).
        self._derived.committed(vectors, np.concatenate(added) if added else np.zeros((0, self.dimension), np.float32))

    def _put_document(self, db: sqlite3.Connection, write: DocumentWrite) -> int:
        document = write.document
        access = document.access
        layout = {
            "page_starts": document.page_starts,
            "outline": [[h.level, h.title, h.start] for h in document.outline],
        }
        values = (
            write.origin,
            document.source,
            document.format,
            record_hash(document, write.chunks),
            access_hash(access),
            json.dumps(sorted(access.allowed_users)),
            json.dumps(sorted(access.allowed_groups)),
            access.origin,
            json.dumps(document.metadata, ensure_ascii=False, default=str),
            json.dumps(layout),
            document.text,
            time.time(),
        )
        row = db.execute("SELECT rowid FROM documents WHERE id = ?", (document.id,)).fetchone()
        if row is None:
            cursor = db.execute(
                "INSERT INTO documents(origin, source, format, record_hash, access_hash, allowed_users, allowed_groups, "
                "access_origin, metadata, layout, text, updated_at, id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*values, document.id),
            )
            doc_rowid = int(cursor.lastrowid)
        else:
            doc_rowid = int(row[0])
            db.execute("DELETE FROM chunks WHERE doc = ?", (doc_rowid,))
            db.execute(
                "UPDATE documents SET origin=?, source=?, format=?, record_hash=?, access_hash=?, allowed_users=?, "
                "allowed_groups=?, access_origin=?, metadata=?, layout=?, text=?, updated_at=? WHERE rowid = ?",
                (*values, doc_rowid),
            )
        self._put_access(db, doc_rowid, access)
        return doc_rowid

    @staticmethod
    def _put_access(db: sqlite3.Connection, doc_rowid: int, access: AccessList) -> None:
        db.execute("DELETE FROM document_access WHERE doc = ?", (doc_rowid,))
        db.executemany(
            "INSERT INTO document_access(principal, doc) VALUES (?, ?)",
            [(key, doc_rowid) for key in _access_keys(access)],
        )

    def update_access(self, document_id: str, access: AccessList) -> None:
        with self._write() as db:
            row = db.execute("SELECT rowid FROM documents WHERE id = ?", (document_id,)).fetchone()
            if row is None:
                raise KeyError(document_id)
            db.execute(
                "UPDATE documents SET access_hash=?, allowed_users=?, allowed_groups=?, access_origin=?, updated_at=? "
                "WHERE rowid = ?",
                (
                    access_hash(access),
                    json.dumps(sorted(access.allowed_users)),
                    json.dumps(sorted(access.allowed_groups)),
                    access.origin,
                    time.time(),
                    row[0],
                ),
            )
            self._put_access(db, int(row[0]), access)

    def delete(self, document_ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(document_ids))
        if not ids:
            return 0
        deleted = 0
        with self._write() as db:
            for doc_id in ids:
                row = db.execute("SELECT rowid FROM documents WHERE id = ?", (doc_id,)).fetchone()
                if row is None:
                    continue
                db.execute("DELETE FROM chunks WHERE doc = ?", (row[0],))
                db.execute("DELETE FROM document_access WHERE doc = ?", (row[0],))
                db.execute("DELETE FROM documents WHERE rowid = ?", (row[0],))
                deleted += 1
        return deleted

    def source_fingerprints(self) -> dict[str, SourceFingerprint]:
        with self._snapshot() as db:
            return {row[0]: SourceFingerprint(*row) for row in db.execute(SOURCE_FINGERPRINTS_SQL)}

    def set_source_fingerprints(self, fingerprints: Sequence[SourceFingerprint]) -> None:
        if not fingerprints:
            return
        with self._transaction() as db:  # no generation bump: readers' view of the index is unchanged
            db.executemany(
                "INSERT OR REPLACE INTO sources(origin, fingerprint, documents, chunks, updated_at) VALUES (?,?,?,?,?)",
                [(f.origin, f.fingerprint, f.documents, f.chunks, time.time()) for f in fingerprints],
            )

    def compact(self, force: bool = False) -> bool:
        """Renumber vector positions when dead ones exceed the configured share; True if done."""
        with self._snapshot():
            live = self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]
            total = int(self._meta("next_pos"))
        if not force and (total == 0 or (total - live) <= self.compact_dead_share * total):
            return False
        with self._write() as db:
            order = [r[0] for r in db.execute("SELECT rowid FROM chunks ORDER BY vec_pos")]
            db.executemany("UPDATE chunks SET vec_pos = ? WHERE rowid = ?", [(-1 - i, r) for i, r in enumerate(order)])
            db.execute("UPDATE chunks SET vec_pos = -1 - vec_pos")
            self._set_meta("next_pos", len(order))
            self._set_meta("epoch", int(self._meta("epoch")) + 1)
        self._derived.reset()
        self.flush()
        return True

    # -- search -------------------------------------------------------------------------------
    def _visible_docs_sql(self, principal: Principal, filters: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
        keys = principal_keys(principal)
        where, params = metadata_filters.to_sql(filters)
        sql = (
            "SELECT d.rowid FROM documents d WHERE d.rowid IN "
            f"(SELECT doc FROM document_access WHERE principal IN ({','.join('?' * len(keys))})) AND ({where})"
        )
        return sql, [*keys, *params]

    def search(self, request: SearchRequest) -> SearchResults:
        check_query_vector(request.vector, self.dimension)
        # Compiled once per search, which also validates the filter before touching the index.
        visible = self._visible_docs_sql(request.principal, request.filters)
        results = SearchResults()
        with self._snapshot() as db:
            generation = int(self._meta("generation"))
            dense: list[tuple[int, float]] = []
            if request.vector is not None:
                positions = self._derived.positions(
                    db, generation, int(self._meta("epoch")), int(self._meta("next_pos"))
                )
                mask = self._derived.mask(db, positions, visible)
                found, scores = self._derived.index.search(request.vector, request.k, mask, exact=request.exact)
                dense = [(int(positions.chunk[p]), float(s)) for p, s in zip(found, scores)]
            keyword: list[tuple[int, float]] = []
            match = fts_query(request.text) if request.text else None
            if match:
                keyword = self._keyword(db, match, visible, request.k)
            rows = self._hit_rows(db, {r for r, _ in dense} | {r for r, _ in keyword})
            want_vectors = request.with_vectors
            for rowid, score in dense:
                results.dense.append(self._hit(rows[rowid], score, "dense", want_vectors))
            for rowid, score in keyword:
                results.keyword.append(self._hit(rows[rowid], score, "bm25", want_vectors))
        return results

    def _keyword(
        self, db: sqlite3.Connection, match: str, visible: tuple[str, list[Any]], k: int
    ) -> list[tuple[int, float]]:
        """BM25 top-k among the chunks the principal may see, exactly.

        FTS5 ranks the first ``depth`` matches on its own (joining every match to the access
        rows first costs twice as much); the visible ones among them are kept. When fewer than
        k survive and more matches exist, the depth grows and it runs again, so the answer is
        always the top-k of the visible set, never a post-filtered top-k of everything.
        """
        visible_sql, params = visible
        depth = max(4 * k, 64)
        matches: int | None = None
        while True:
            rows = db.execute(
                "SELECT c.rowid, m.score FROM (SELECT rowid, bm25(chunks_fts, 0.3, 1.0) AS score FROM chunks_fts "
                "WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?) AS m JOIN chunks c ON c.rowid = m.rowid "
                f"WHERE c.doc IN ({visible_sql}) ORDER BY m.score, c.rowid LIMIT ?",
                (match, depth, *params, k),
            ).fetchall()
            if len(rows) >= k:
                break
            if matches is None:
                matches = db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (match,)).fetchone()[0]
            if depth >= matches:
                break
            depth = min(matches, depth * 8)
        return [(int(rowid), -float(score)) for rowid, score in rows]

    def _hit_rows(self, db: sqlite3.Connection, rowids: set[int]) -> dict[int, tuple]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        return {
            row[0]: row
            for row in db.execute(
                "SELECT c.rowid, c.id, d.id, d.source, c.text, c.start, c.end, c.page, c.page_end, c.heading_path, "
                f"d.metadata, c.embedding FROM chunks c JOIN documents d ON d.rowid = c.doc WHERE c.rowid IN ({marks})",
                list(rowids),
            )
        }

    @staticmethod
    def _hit(row: tuple, score: float, signal: str, with_vector: bool) -> Hit:
        return Hit(
            chunk_id=row[1],
            document_id=row[2],
            source=row[3],
            text=row[4],
            start=row[5],
            end=row[6],
            page=row[7],
            page_end=row[8],
            heading_path=tuple(json.loads(row[9])),
            metadata=json.loads(row[10]),
            score=score,
            scores={signal: score},
            vector=np.frombuffer(row[11], dtype=np.float32).copy() if with_vector else None,
        )

    def document(self, document_id: str, principal: Principal) -> Document | None:
        keys = principal_keys(principal)
        with self._snapshot() as db:
            row = db.execute(
                "SELECT id, source, text, format, metadata, allowed_users, allowed_groups, access_origin, layout "
                "FROM documents WHERE id = ? AND rowid IN "
                f"(SELECT doc FROM document_access WHERE principal IN ({','.join('?' * len(keys))}))",
                (document_id, *keys),
            ).fetchone()
        if row is None:
            return None
        return _document(row[0], row[1], row[2], row[3], json.loads(row[4]), json.loads(row[5]), json.loads(row[6]),
                         row[7], json.loads(row[8]))

    def list_documents(self, principal: Principal, *, limit: int = 100, offset: int = 0) -> list[DocumentSummary]:
        """The documents ``principal`` may see, by source, a page at a time."""
        keys = principal_keys(principal)
        with self._snapshot() as db:
            rows = db.execute(
                "SELECT d.id, d.source, d.format, d.metadata, "
                "(SELECT count(*) FROM chunks c WHERE c.doc = d.rowid) "
                "FROM documents d WHERE d.rowid IN "
                f"(SELECT doc FROM document_access WHERE principal IN ({','.join('?' * len(keys))})) "
                "ORDER BY d.source, d.id LIMIT ? OFFSET ?",
                (*keys, limit, offset),
            ).fetchall()
        return [DocumentSummary(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows]

    def writes(self, batch: int = 100) -> Iterator[list[DocumentWrite]]:
        return pages_by_document_id(self._writes_after, batch)

    def _writes_after(self, after: str, batch: int) -> list[DocumentWrite]:
        with self._snapshot() as db:
            documents = db.execute(
                "SELECT rowid, id, origin, source, text, format, metadata, allowed_users, allowed_groups, "
                "access_origin, layout FROM documents WHERE id > ? ORDER BY id LIMIT ?",
                (after, batch),
            ).fetchall()
            out = []
            for row in documents:
                chunks = db.execute(
                    "SELECT id, text, start, end, page, page_end, heading_path, token_count, embedding, heading "
                    "FROM chunks WHERE doc = ? ORDER BY ordinal",
                    (row[0],),
                ).fetchall()
                document = _document(row[1], row[3], row[4], row[5], json.loads(row[6]), json.loads(row[7]),
                                     json.loads(row[8]), row[9], json.loads(row[10]))
                out.append(_document_write(document, row[2], [
                    (c[0], c[1], c[2], c[3], c[4], c[5], json.loads(c[6]), c[7],
                     np.frombuffer(c[8], dtype=np.float32), c[9]) for c in chunks
                ], self.dimension))
        return out

    # -- administration -----------------------------------------------------------------------
    def status(self) -> StoreStatus:
        with self._snapshot() as db:
            documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
            chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
            generation = int(self._meta("generation"))
            epoch = int(self._meta("epoch"))
        ann_generation, kind = self._derived.stamp(epoch)
        return StoreStatus(
            documents, chunks, self.embedder, self.dimension, generation, kind, ann_generation, str(self.folder)
        )

    def check_integrity(self) -> list[str]:
        problems: list[str] = []
        with self._snapshot() as db:
            try:
                db.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")
            except sqlite3.DatabaseError as exc:
                problems.append(f"full-text index out of step with chunks: {exc}")
            next_pos = int(self._meta("next_pos"))
            problems += counted_problems(db.execute, [
                ("SELECT count(*) FROM chunks WHERE doc NOT IN (SELECT rowid FROM documents)", (),
                 "{n} chunk(s) belong to no document"),
                ("SELECT count(*) FROM document_access WHERE doc NOT IN (SELECT rowid FROM documents)", (),
                 "{n} access row(s) belong to no document"),
                ("SELECT count(*) FROM documents WHERE rowid NOT IN (SELECT doc FROM document_access)", (),
                 "{n} document(s) have no access rows"),
                ("SELECT count(*) FROM chunks WHERE vec_pos < 0 OR vec_pos >= ?", (next_pos,),
                 f"{{n}} chunk(s) have a vector position outside 0..{next_pos - 1}"),
                ("SELECT count(*) FROM chunks WHERE length(embedding) != ?", (4 * self.dimension,),
                 "{n} chunk(s) have a vector of the wrong size"),
            ])
            problems.extend(self._derived.problems(db, int(self._meta("epoch")), next_pos))
        return problems

    def close(self) -> None:
        with self._lock:
            try:
                self.flush()
            finally:
                self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _statements(script: str) -> list[str]:
    """Split a schema script into statements (triggers contain ';' inside BEGIN ... END)."""
    statements, current = [], []
    for line in script.splitlines():
        if line.strip().startswith("--") or not line.strip():
            continue
        current.append(line)
        joined = "\n".join(current)
        if sqlite3.complete_statement(joined):
            statements.append(joined)
            current = []
    return statements
