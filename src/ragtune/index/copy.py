"""Copy an index from one store to another (``ragtune index copy``), vectors included.

Nothing is re-embedded: ``Store.writes`` yields every document as the write that recreates it,
and each batch goes through ``target.upsert``, one transaction in every store. An interrupted copy
therefore leaves whole documents only, and running it again with ``replace=True`` converges.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ragtune.errors import RagtuneError
from ragtune.index.base import IndexMismatchError, Store


@dataclass(slots=True)
class CopyReport:
    documents: int
    """Documents written to the target."""
    chunks: int
    seconds: float
    source: str
    """Where the source lives (``status().path``: a folder, or a masked URL and schema)."""
    target: str
    deleted: int = 0
    """Target documents absent from the source, deleted (``replace=True`` only)."""
    problems: list[str] = field(default_factory=list)
    """The target's integrity problems after the copy (empty when it is sound)."""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": round(self.seconds, 3)}


def copy_index(
    source: Store,
    target: Store,
    *,
    batch: int = 100,
    replace: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> CopyReport:
    """Write every document of ``source`` into ``target``, ``batch`` documents per transaction.

    Refuses a target whose embedder or dimension differ (its vectors could not be compared with
    the copied ones) and a target that already holds documents, unless ``replace``: then the
    target's documents absent from the source are deleted and the rest overwritten, so the target
    ends equal to the source. ``on_progress(n)`` is called after each batch of ``n`` documents.
    The source should not be written meanwhile; if it was, copy again with ``replace=True``.
    """
    started = time.perf_counter()
    where_from, where_to = source.status().path, target.status().path
    if _same_place(where_from, where_to):
        raise RagtuneError(f"the target is the source ({where_from}): choose another target")
    if (target.embedder, target.dimension) != (source.embedder, source.dimension):
        raise IndexMismatchError(
            f"the target {where_to} holds vectors of embedder '{target.embedder}' ({target.dimension}-d), the source "
            f"{where_from} of '{source.embedder}' ({source.dimension}-d): vectors of different models cannot share "
            "an index; choose another target"
        )
    held = target.status().documents
    if held and not replace:
        raise RagtuneError(
            f"the target {where_to} already holds {held} document(s): copy into an empty index, or pass replace=True "
            "(--replace) to make the target equal to the source"
        )
    # Listed before writing: whatever of these the source does not also hold is deleted at the end.
    stale = {state.document_id for state in target.states_by_origin()} if held else set()
    documents = chunks = 0
    for writes in source.writes(batch):
        target.upsert(writes)
        documents += len(writes)
        chunks += sum(len(w.chunks) for w in writes)
        stale.difference_update(w.document.id for w in writes)
        if on_progress is not None:
            on_progress(len(writes))
    deleted = target.delete(stale) if stale else 0
    problems = target.check_integrity()
    after = target.status()
    # A writer on either store during the copy would show here: the counts must match exactly.
    if (after.documents, after.chunks) != (documents, chunks):
        problems.append(f"the target holds {after.documents} document(s) and {after.chunks} chunk(s) after the copy, "
                        f"but {documents} and {chunks} were copied (was either index written meanwhile?)")
    return CopyReport(documents, chunks, time.perf_counter() - started, where_from, where_to, deleted, problems)


def _same_place(a: str, b: str) -> bool:
    """Whether two ``status().path`` strings name one index (folders compared resolved)."""
    if a == b:
        return True
    if "://" in a or "://" in b:
        return False
    return Path(a).resolve() == Path(b).resolve()
