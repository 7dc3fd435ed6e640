"""Which code produced a result: saved with every evaluation run and registered model."""

from __future__ import annotations

import subprocess
from pathlib import Path

__version__ = "0.1.0"
"""The package version (pyproject.toml says the same)."""


def code_version() -> str:
    """``ragtune <version>``, plus the git commit (``+dirty`` if changed) when run from a checkout."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(here), "describe", "--always", "--dirty=+dirty", "--abbrev=12"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"ragtune {__version__}"
    return f"ragtune {__version__} ({commit})" if commit else f"ragtune {__version__}"
