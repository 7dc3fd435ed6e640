"""The SQLite store's derived vector state: the faiss file, chunk positions, visibility masks.

SQLite is the system of record; everything here can be rebuilt from its ``chunks`` rows (each
keeps its float32 vector and its position ``vec_pos``). The file ``vectors-e<epoch>.faiss`` is
stamped with the store generation it reflects, so after a crash it is merely behind and is caught
up from the rows on the next read. Positions only grow within an epoch; compaction renumbers them
and starts a new epoch (and file), so a stale file is never matched with renumbered rows.

Every method that reads rows takes the store's connection and must be called inside the store's
transaction (read or write), so what it sees is one committed state.
"""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.index.vectors import AnnConfig, VectorIndex

MAX_CACHED_MASKS = 64


@dataclass(slots=True)
class Positions:
    """Which chunk sits at each vector position, as of one store generation."""

    generation: int
    doc: np.ndarray  # document rowid per position; -1 where the position is dead
    chunk: np.ndarray  # chunk rowid per position


class DerivedVectors:
    """The in-memory vector index of one store folder, kept level with the SQLite rows."""

    def __init__(self, folder: Path, dimension: int, ann: AnnConfig) -> None:
        self.folder = folder
        self.dimension = dimension
        self.ann_config = ann
        self.index: VectorIndex | None = None
        self.epoch = -1
        self._positions: Positions | None = None
        self._masks: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._dirty = False

    def file(self, epoch: int) -> Path:
        return self.folder / f"vectors-e{epoch}.faiss"

    # -- keeping level with the rows ------------------------------------------------------------
    def sync(self, db: sqlite3.Connection, epoch: int, next_pos: int) -> VectorIndex:
        """Bring the in-memory index level with the rows (loading or rebuilding it if needed)."""
        if self.index is None or self.epoch != epoch or self.index.ntotal > next_pos:
            self.index, self.epoch = self._load(epoch, next_pos), epoch
        if self.index.ntotal < next_pos:
            self._append_from_rows(db, self.index, next_pos)
            self._dirty = True
        return self.index

    def _load(self, epoch: int, next_pos: int) -> VectorIndex:
        path = self.file(epoch)
        if path.exists():
            try:
                loaded = VectorIndex.load(path, self.dimension, self.ann_config)
                if loaded.ntotal <= next_pos:
                    return loaded
            except Exception:  # unreadable derived file: rebuild it from the rows below
                pass
        return VectorIndex(self.dimension, self.ann_config)

    def _append_from_rows(self, db: sqlite3.Connection, index: VectorIndex, next_pos: int, batch: int = 50_000) -> None:
        start = index.ntotal
        while start < next_pos:
            stop = min(next_pos, start + batch)
            block = np.zeros((stop - start, self.dimension), np.float32)  # dead positions stay zero
            rows = db.execute("SELECT vec_pos, embedding FROM chunks WHERE vec_pos >= ? AND vec_pos < ?", (start, stop))
            for pos, blob in rows:
                block[pos - start] = np.frombuffer(blob, dtype=np.float32)
            index.add(block)
            start = stop

    def committed(self, index: VectorIndex, added: np.ndarray) -> None:
        """Vectors whose rows were just committed; only then may the in-memory index grow."""
        index.add(added)
        self._dirty = True

    def reset(self) -> None:
        """Forget the in-memory state (positions were renumbered: a new epoch)."""
        self.index = None
        self._positions = None
        self._masks.clear()

    def persist(self, generation: int) -> None:
        """Write the index file if it changed, stamped with ``generation``; drop older epochs' files."""
        if self.index is None:
            return
        if self._dirty or self.index.generation != generation:
            self.index.generation = generation
            self.index.save(self.file(self.epoch), {"generation": generation, "epoch": self.epoch})
            self._dirty = False
            for old in self.folder.glob("vectors-e*.faiss"):
                if old != self.file(self.epoch):
                    old.unlink(missing_ok=True)
                    old.with_suffix(".json").unlink(missing_ok=True)

    # -- search support -------------------------------------------------------------------------
    def positions(self, db: sqlite3.Connection, generation: int, epoch: int, next_pos: int) -> Positions:
        if self._positions is not None and self._positions.generation == generation:
            return self._positions
        vectors = self.sync(db, epoch, next_pos)
        n = vectors.ntotal
        doc = np.full(n, -1, dtype=np.int64)
        chunk = np.full(n, -1, dtype=np.int64)
        rows = np.array(db.execute("SELECT vec_pos, doc, rowid FROM chunks").fetchall(), dtype=np.int64)
        if len(rows):
            doc[rows[:, 0]] = rows[:, 1]
            chunk[rows[:, 0]] = rows[:, 2]
        self._positions = Positions(generation, doc, chunk)
        self._masks.clear()
        return self._positions

    def mask(self, db: sqlite3.Connection, positions: Positions, visible: tuple[str, list[Any]]) -> np.ndarray:
        """Positions whose document is among the rowids the SQL ``visible`` selects."""
        sql, params = visible
        key = (positions.generation, sql, tuple(params))
        mask = self._masks.get(key)
        if mask is None:
            docs = np.array([r[0] for r in db.execute(sql, params)], dtype=np.int64)
            mask = np.isin(positions.doc, docs) if len(docs) else np.zeros(len(positions.doc), bool)
            self._masks[key] = mask
            if len(self._masks) > MAX_CACHED_MASKS:
                self._masks.popitem(last=False)
        else:
            self._masks.move_to_end(key)
        return mask

    # -- administration -------------------------------------------------------------------------
    def stamp(self, epoch: int) -> tuple[int, str]:
        """(generation, description) of the file on disk for ``epoch``, without loading it."""
        stamp_path = self.file(epoch).with_suffix(".json")
        if not stamp_path.exists():
            return -1, "none (rebuilt from the rows on first search)"
        stamp = json.loads(stamp_path.read_text())
        return int(stamp.get("generation", -1)), f"{stamp.get('kind')} ({stamp.get('ntotal')} vectors)"

    def problems(self, db: sqlite3.Connection, epoch: int, next_pos: int) -> list[str]:
        """Where the index disagrees with the rows (its size, or any stored vector)."""
        vectors = self.sync(db, epoch, next_pos)
        if vectors.ntotal != next_pos:
            return [f"vector index holds {vectors.ntotal} positions, rows reach {next_pos}"]
        stored = vectors.vectors()
        for pos, blob in db.execute("SELECT vec_pos, embedding FROM chunks"):
            if not np.array_equal(stored[pos], np.frombuffer(blob, dtype=np.float32)):
                return [f"vector at position {pos} differs from its chunk row"]
        return []
