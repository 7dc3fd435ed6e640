"""Headless Chromium for tests that must prove a page opens: Debian's ``chromium`` package.

CI installs it (``.ci/run``) and sets RAGTUNE_REQUIRE_BROWSER=1 so a missing browser fails there;
elsewhere the tests skip with a message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--hide-scrollbars",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium() -> str:
    found = next((p for name in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(name))), None)
    if found is None:
        message = "headless Chromium not found (Debian package 'chromium'; .ci/run installs it)"
        if os.environ.get("RAGTUNE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def screenshot(page: Path, png: Path, width: int = 1200, height: int = 2400) -> Path:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
             f"--screenshot={png}", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    assert done.returncode == 0 and png.is_file(), done.stderr[-2000:]
    return png
