"""Dense search over vector positions: exact when the visible set is small, HNSW when it is large.

Positions are append-only integers (0, 1, 2, ...) assigned by the store; a replaced or deleted
chunk leaves a dead position behind until the store compacts. Every search takes a boolean mask
of the positions the caller may see (access list, metadata filter, liveness), and the mask is
applied *inside* the search, never to its output:

* few visible positions -> exact inner product over exactly those vectors (exact and fast);
* many -> faiss HNSW with the mask as an ``IDSelectorBitmap`` (the graph walk skips invisible
  nodes) and ``efSearch`` raised as the visible share falls, so filtered recall stays high;
  if the walk returns fewer than asked, fall back to exact.

faiss was chosen by ``bench/ann_scale.py`` (see bench/RESULTS.md): its filter runs in C++, where
hnswlib calls back into Python per visited node.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np


@dataclass(frozen=True, slots=True)
class AnnConfig:
    hnsw_min_vectors: int = 20_000
    """Below this many stored vectors no graph is built: exact search is fast enough."""
    exact_max_visible: int = 12_000
    """A search whose visible set is at most this large is answered exactly."""
    m: int = 32
    ef_construction: int = 100
    ef_search: int = 64
    oversample: float = 2.0
    """efSearch = max(ef_search, oversample * k / visible share), capped at max_ef."""
    max_ef: int = 4096


class VectorIndex:
    """Vectors at positions, with optional HNSW graph; persisted to one file per epoch."""

    def __init__(self, dimension: int, config: AnnConfig | None = None) -> None:
        self.dimension = dimension
        self.config = config or AnnConfig()
        self._flat = faiss.IndexFlatIP(dimension)
        self._hnsw: faiss.IndexHNSWFlat | None = None
        self.generation = -1
        """The store generation this index reflects (for status and staleness checks)."""

    # -- contents ---------------------------------------------------------------------------
    @property
    def ntotal(self) -> int:
        return self._flat.ntotal

    @property
    def kind(self) -> str:
        return "hnsw" if self._hnsw is not None else "exact"

    def vectors(self) -> np.ndarray:
        """A read-only view of all stored vectors (no copy); valid until the next ``add``."""
        n = self._flat.ntotal
        if n == 0:
            return np.zeros((0, self.dimension), np.float32)
        view = faiss.rev_swig_ptr(self._flat.get_xb(), n * self.dimension)
        return np.asarray(view).reshape(n, self.dimension)

    def add(self, vectors: np.ndarray) -> None:
        """Append vectors at positions ntotal, ntotal+1, ..."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if not len(vectors):
            return
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # graph construction does use every core
        if self._hnsw is not None:
            self._hnsw.add(vectors)  # its storage *is* self._flat: one copy of every vector
            return
        self._flat.add(vectors)
        if self._flat.ntotal >= self.config.hnsw_min_vectors:
            self._build_hnsw()

    def _build_hnsw(self) -> None:
        index = faiss.IndexHNSWFlat(self.dimension, self.config.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.config.ef_construction
        index.add(np.ascontiguousarray(self.vectors()))
        self._hnsw = index
        self._flat = faiss.downcast_index(index.storage)

    # -- search -----------------------------------------------------------------------------
    def search(self, query: np.ndarray, k: int, mask: np.ndarray, exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (positions, scores) among positions where ``mask`` is True, best first.

        ``mask`` must have ``ntotal`` entries or fewer (missing entries count as invisible).
        """
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dimension)
        n = self.ntotal
        if len(mask) < n:
            mask = np.concatenate([mask, np.zeros(n - len(mask), dtype=bool)])
        mask = mask[:n]
        visible = int(np.count_nonzero(mask))
        if visible == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if exact or self._hnsw is None or visible <= self.config.exact_max_visible:
            return self._exact(query[0], k, mask)
        share = visible / n
        ef = int(min(self.config.max_ef, max(self.config.ef_search, k, self.config.oversample * k / share)))
        params = faiss.SearchParametersHNSW()
        params.efSearch = ef
        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(n, faiss.swig_ptr(bits))
        params.sel = selector
        # One query is not parallelised by faiss anyway, and idle OpenMP workers spinning on a
        # busy 2-core machine cost milliseconds per call.
        faiss.omp_set_num_threads(1)
        scores, ids = self._hnsw.search(query, k, params=params)
        found = ids[0] >= 0
        if np.count_nonzero(found) < min(k, visible):
            return self._exact(query[0], k, mask)
        return ids[0][found].astype(np.int64), scores[0][found]

    def _exact(self, query: np.ndarray, k: int, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vectors = self.vectors()
        if np.count_nonzero(mask) * 3 < len(mask):
            positions = np.flatnonzero(mask)
            scores = vectors[positions] @ query
        else:  # most rows visible: one pass over everything beats gathering
            scores = vectors @ query
            scores = np.where(mask, scores, -np.inf)
            positions = None
        top = min(k, int(np.count_nonzero(np.isfinite(scores))))
        if top < len(scores):
            # everything scoring at least the k-th best, so ties at the boundary are all considered
            kth = -np.partition(-scores, top - 1)[top - 1]
            best = np.flatnonzero(scores >= kth)
        else:
            best = np.arange(len(scores))
        best = best[np.lexsort((best, -scores[best]))][:top]  # ties: lower position first
        chosen = best if positions is None else positions[best]
        return chosen.astype(np.int64), scores[best].astype(np.float32)

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: Path, stamp: dict[str, object]) -> None:
        """Write atomically (temporary file, then rename); ``stamp`` goes in a JSON sidecar."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self._hnsw if self._hnsw is not None else self._flat, str(tmp))
        os.replace(tmp, path)
        sidecar = path.with_suffix(".json")
        tmp_side = sidecar.with_name(sidecar.name + ".tmp")
        tmp_side.write_text(json.dumps({**stamp, "ntotal": self.ntotal, "kind": self.kind}))
        os.replace(tmp_side, sidecar)

    @classmethod
    def load(cls, path: Path, dimension: int, config: AnnConfig | None = None) -> VectorIndex:
        index = cls(dimension, config)
        stored = faiss.read_index(str(path))
        if stored.d != dimension:
            raise ValueError(f"{path}: vectors have {stored.d} dimensions, expected {dimension}")
        # read_index returns the concrete class; keep that wrapper alive, since it owns the memory.
        if isinstance(stored, faiss.IndexHNSWFlat):
            index._hnsw = stored
            index._flat = faiss.downcast_index(stored.storage)
        elif isinstance(stored, faiss.IndexFlatIP):
            index._flat = stored
        else:
            raise ValueError(f"{path}: unexpected vector index type {type(stored).__name__}")
        sidecar = path.with_suffix(".json")
        if sidecar.exists():
            index.generation = int(json.loads(sidecar.read_text()).get("generation", -1))
        return index
