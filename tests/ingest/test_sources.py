"""Folder walking: include/exclude globs, access files, symlinks, explicit paths."""

from __future__ import annotations

import os

from ragtune.config import DEFAULT_EXCLUDES
from ragtune.ingest.sources import FoundFile, PathSource, Skipped, glob_regex


def _names(items):
    return [
        os.path.relpath(i.file.path) if isinstance(i, FoundFile) else "skip:" + os.path.basename(i.path)
        for i in items
    ]


def test_glob_semantics():
    assert glob_regex("**/*.md").match("a.md") and glob_regex("**/*.md").match("x/y/a.md")
    assert not glob_regex("*.md").match("x/a.md")
    assert glob_regex("docs/**").match("docs/a/b.txt")
    assert glob_regex("**/.git/**").match(".git/") and glob_regex("**/.git/**").match("sub/.git/HEAD")
    assert not glob_regex("a?.md").match("a/.md")


def test_walk_applies_globs_and_default_excludes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for rel in ("docs/a.md", "docs/b.txt", "docs/draft/c.md", ".git/HEAD.md", "node_modules/x/readme.md",
                "docs/image.png", "docs/a.md.acl.json", "docs/.ragtune-acl.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}" if rel.endswith(".json") else "text")
    source = PathSource([tmp_path / "docs", tmp_path], ["**/*.md", "**/*.png"], [*DEFAULT_EXCLUDES, "**/draft/**"])
    names = _names(source.walk())
    assert names.count("docs/a.md") == 2  # once per root given
    assert "docs/b.txt" not in names and "docs/draft/c.md" not in names
    assert not any(".git" in n or "node_modules" in n for n in names)
    assert "skip:image.png" in names
    assert not any("acl.json" in n for n in names)


def test_symlink_loops_terminate_and_links_can_be_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "doc.md").write_text("x")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    os.symlink(tmp_path / "a" / "doc.md", tmp_path / "link.md")
    found = list(PathSource([tmp_path], ["**/*"], []).walk())
    assert len([f for f in found if isinstance(f, FoundFile)]) >= 2
    refused = list(PathSource([tmp_path], ["**/*"], [], follow_symlinks=False).walk())
    assert any(isinstance(s, Skipped) and "symbolic link" in s.reason for s in refused)


def test_explicit_paths_are_always_attempted(tmp_path):
    [item] = PathSource([tmp_path / "missing.md"], ["*.txt"], ["**"]).walk()
    assert isinstance(item, FoundFile) and item.explicit
