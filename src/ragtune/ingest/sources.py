"""Where files come from: paths given by the user, folders walked with include/exclude globs."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ragtune.ingest.acl import is_acl_file
from ragtune.ingest.files import SourceFile
from ragtune.ingest.formats import loader_for_name


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob over '/'-separated relative paths: ``**`` spans folders, ``*`` and ``?`` do not."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(relative: str, patterns: list[str]) -> bool:
    return any(glob_regex(p).match(relative) for p in patterns)


@dataclass(frozen=True, slots=True)
class FoundFile:
    """A file to load, the folder it was found under (its ACL root) and whether it was named."""

    file: SourceFile
    root: Path | None
    explicit: bool


@dataclass(slots=True)
class Skipped:
    path: str
    reason: str


class PathSource:
    """The files under the paths given, in a stable order."""

    def __init__(self, paths: list[Path], include: list[str], exclude: list[str],
                 follow_symlinks: bool = True) -> None:
        self.paths = paths
        self.include = include
        self.exclude = exclude
        self.follow_symlinks = follow_symlinks

    def walk(self) -> Iterator[FoundFile | Skipped]:
        for path in self.paths:
            if path.is_dir():
                yield from self._walk_dir(path)
            else:
                # Named explicitly: always attempted, so a missing or broken one is reported.
                yield FoundFile(SourceFile(path), root=None, explicit=True)

    def _walk_dir(self, root: Path) -> Iterator[FoundFile | Skipped]:
        seen_dirs: set[tuple[int, int]] = set()
        for folder, dirnames, filenames in os.walk(root, followlinks=self.follow_symlinks):
            here = Path(folder)
            stat = here.stat()
            if (stat.st_dev, stat.st_ino) in seen_dirs:  # a symlink loop
                dirnames.clear()
                continue
            seen_dirs.add((stat.st_dev, stat.st_ino))
            rel_folder = here.relative_to(root).as_posix()
            prefix = "" if rel_folder == "." else rel_folder + "/"
            dirnames[:] = sorted(d for d in dirnames if not matches(prefix + d + "/", self.exclude))
            for name in sorted(filenames):
                relative = prefix + name
                path = here / name
                if is_acl_file(path):
                    continue
                if matches(relative, self.exclude) or not matches(relative, self.include):
                    continue
                if path.is_symlink() and not self.follow_symlinks:
                    yield Skipped(str(path), "symbolic link (ingest.follow_symlinks is off)")
                    continue
                if loader_for_name(name) is None and path.exists() and not _maybe_office_or_pdf(path):
                    yield Skipped(str(path), "unsupported file type")
                    continue
                yield FoundFile(SourceFile(path), root=root, explicit=False)


def _maybe_office_or_pdf(path: Path) -> bool:
    """Files without a known extension are still loaded if their first bytes say PDF or zip."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return True  # let the loader report the precise error
    return head.lstrip().startswith(b"%PDF-") or head.startswith(b"PK\x03\x04")
