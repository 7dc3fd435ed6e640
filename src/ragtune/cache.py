"""The user's cache, shared by every workspace (so it is not part of any): files derived from
models that are slow to make and safe to remake — ONNX exports, dequantised GGUF bases."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache(name: str) -> Path:
    """``$XDG_CACHE_HOME/ragtune/<name>`` (default ``~/.cache/ragtune/<name>``)."""
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "ragtune" / name
