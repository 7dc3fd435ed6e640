"""The audit log: one JSON object per line for every request that reads or changes the index —
who (key id and principal, never the key), what (the question or query), which documents were
retrieved and cited, latency, tokens and cost — and which replica answered (``replica``): each
replica writes its own file, and a log collector merges them. Rotation by size is the standard
library's ``RotatingFileHandler``; lines are only ever appended."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any


class AuditLog:
    def __init__(self, path: Path, *, max_bytes: int, backups: int, replica: str) -> None:
        self.path = Path(path)
        self.replica = replica
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handler = RotatingFileHandler(self.path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        self._lock = threading.Lock()

    def write(self, event: str, **fields: Any) -> None:
        record = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "event": event,
                  "replica": self.replica, **fields}
        line = json.dumps(record, ensure_ascii=False, default=str)
        with self._lock:  # the handler locks too; this keeps rollover and write one step
            self._handler.emit(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))

    def close(self) -> None:
        self._handler.close()
