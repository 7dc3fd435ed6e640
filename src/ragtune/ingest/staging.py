"""A sink that writes documents and their chunks to a JSONL file (until the index exists).

Written to a temporary file and renamed into place on success, so a crash mid-run leaves the
previous staging file intact rather than half of a new one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType
from typing import IO

from ragtune.types import Chunk, Document


class JsonlStagingSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp = path.with_suffix(path.suffix + ".tmp")
        self._fh: IO[str] | None = None

    def __enter__(self) -> JsonlStagingSink:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self._tmp.open("w", encoding="utf-8")
        return self

    def write(self, document: Document, chunks: list[Chunk]) -> None:
        assert self._fh is not None, "use the sink as a context manager"
        record = {
            "document": {
                "id": document.id,
                "source": document.source,
                "format": document.format,
                "content_hash": document.content_hash,
                "metadata": document.metadata,
                "allowed_users": sorted(document.access.allowed_users),
                "allowed_groups": sorted(document.access.allowed_groups),
            },
            "chunks": [c.to_dict() for c in chunks],
        }
        self._fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._fh is not None
        self._fh.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)
