"""``copy_index`` and ``ragtune index copy``: an index moves between backends with every document,
chunk, vector and access list intact, and refuses to mix embedders or overwrite by accident."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import numpy as np
import pytest

from ragtune.config import RagtuneConfig
from ragtune.embed.hashing import HashingEmbedder
from ragtune.errors import RagtuneError
from ragtune.index.base import Store
from ragtune.index.copy import copy_index
from ragtune.index.factory import open_index_at
from ragtune.index.postgres_store import PostgresStore
from ragtune.index.sqlite_store import SqliteStore
from ragtune.testing.store import EMBEDDER, WORDS, make_document, write_for
from ragtune.types import AccessList, Document, Heading
from tests.test_cli import fast_workspace, run

CONFIG = RagtuneConfig()


def schema() -> str:
    return f"copy_{uuid4().hex[:8]}"


def corpus() -> list:
    """Varied documents: access by groups and users, metadata, 1-3 chunks, and one with pages and
    an outline (the layout must survive the copy too)."""
    writes = [
        write_for(make_document(n, WORDS[n : n + 6], groups=frozenset({"public", "hr"} if n % 3 else {"it"}),
                                users=frozenset({f"user{n}"} if n % 2 else set()), metadata={"n": n, "tag": [n, "x"]},
                                chunks=1 + n % 3), EMBEDDER, origin=f"/corpus/origin-{n % 4}.txt")
        for n in range(7)
    ]
    paged = Document(
        id="doc-paged", source="/corpus/report.pdf", text="Intro words here\n\nBrake chain pedal", format="pdf",
        metadata={"year": 2024}, access=AccessList(frozenset({"ann"}), frozenset(), "acl-file"),
        page_starts=[0, 18], outline=[Heading(1, "Intro", 0), Heading(2, "Parts", 18)],
    )
    return [*writes, write_for(paged, EMBEDDER)]


def sqlite_store(path: Path, embedder: HashingEmbedder = EMBEDDER) -> SqliteStore:
    return SqliteStore(path, embedder.identity, embedder.dimension)


def postgres_store(url: str, name: str) -> PostgresStore:
    return PostgresStore(url, EMBEDDER.identity, EMBEDDER.dimension, schema=name, pool_size=2)


def content(store: Store) -> list[tuple]:
    """Everything ``writes()`` recreates, vectors as exact bytes."""
    out = []
    for batch in store.writes(batch=3):
        for w in batch:
            d = w.document
            out.append((
                d.id, d.source, d.text, d.format, d.metadata, sorted(d.access.allowed_users),
                sorted(d.access.allowed_groups), d.access.origin, d.page_starts, d.outline, w.origin,
                w.chunks, w.vectors.dtype.str, w.vectors.shape, w.vectors.tobytes(),
            ))
    return out


@pytest.mark.integration
def test_sqlite_to_postgres_to_sqlite_keeps_every_document_chunk_vector_and_access_list(tmp_path, postgres_url):
    original = sqlite_store(tmp_path / "a")
    original.upsert(corpus())
    middle = postgres_store(postgres_url, schema())
    back = sqlite_store(tmp_path / "c")
    try:
        seen: list[int] = []
        there = copy_index(original, middle, batch=3, on_progress=seen.append)
        assert seen == [3, 3, 2]
        again = copy_index(middle, back, batch=2)
        expected = content(original)
        assert len(expected) == 8
        assert content(middle) == expected
        assert content(back) == expected
        chunks = sum(len(w.chunks) for w in corpus())
        for report in (there, again):
            assert (report.documents, report.chunks, report.deleted, report.problems) == (8, chunks, 0, [])
        assert there.source == str(tmp_path / "a") and "schema copy_" in there.target
        assert set(there.to_dict()) == {"documents", "chunks", "seconds", "source", "target", "deleted", "problems"}
        assert back.status().documents == 8 and back.check_integrity() == []
        # Vectors equal to the float: a fresh embedding of a chunk matches the copy's exactly.
        first = back.writes(batch=1).__next__()[0]
        assert np.array_equal(first.vectors, EMBEDDER.embed([c.text for c in first.chunks]))
    finally:
        for store in (original, middle, back):
            store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def make_target(request, tmp_path):  # type: ignore[no-untyped-def]
    """An empty target store of either backend, new on every call."""
    opened: list[Store] = []

    def make() -> Store:
        if request.param == "sqlite":
            store: Store = sqlite_store(tmp_path / f"target-{len(opened)}")
        else:
            store = postgres_store(request.getfixturevalue("postgres_url"), schema())
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def test_a_non_empty_target_is_refused_and_replace_makes_it_equal_to_the_source(tmp_path, make_target):
    source = sqlite_store(tmp_path / "source")
    source.upsert(corpus())
    target = make_target()
    changed = make_document(1, ["other", "words"], groups=frozenset({"exec"}))  # same id, other content
    target.upsert([write_for(make_document(99, ["stale", "document"]), EMBEDDER), write_for(changed, EMBEDDER)])
    try:
        with pytest.raises(RagtuneError, match=r"already holds 2 document\(s\).*replace=True"):
            copy_index(source, target)
        assert target.status().documents == 2  # refused before writing anything
        report = copy_index(source, target, replace=True, batch=4)
        assert (report.documents, report.deleted, report.problems) == (8, 1, [])
        assert content(target) == content(source)
        # A second run (how an interrupted copy is finished) changes nothing.
        assert copy_index(source, target, replace=True).deleted == 0
        assert content(target) == content(source)
    finally:
        source.close()


def test_a_target_of_another_embedder_is_refused(tmp_path, make_target):
    source = sqlite_store(tmp_path / "source")
    source.upsert(corpus()[:2])
    other = HashingEmbedder(32)
    sqlite_store(tmp_path / "other", other).close()
    # open_index_at opens an existing index as it is, so the copy (not the store) explains the refusal.
    target = open_index_at(str(tmp_path / "other"), CONFIG, source.embedder, source.dimension)
    try:
        with pytest.raises(RagtuneError, match=r"embedder 'hashing-32' \(32-d\).*'hashing-64' \(64-d\)"):
            copy_index(source, target, replace=True)
        assert target.status().documents == 0
        with pytest.raises(RagtuneError, match="the target is the source"):
            copy_index(source, source, replace=True)
    finally:
        source.close()
        target.close()


def test_open_index_at_reads_folders_and_refuses_what_is_not_an_index_location(tmp_path):
    store = open_index_at(f"sqlite:{tmp_path / 'new'}", CONFIG, EMBEDDER.identity, EMBEDDER.dimension)
    assert (store.embedder, store.dimension, store.status().path) == ("hashing-64", 64, str(tmp_path / "new"))
    store.close()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("my own file")
    (tmp_path / "file").write_text("x")
    for target, message in ((str(tmp_path / "mine"), "holds files but no ragtune index"),
                            (str(tmp_path / "file"), "a file, not a folder"),
                            ("mysql://root:pw@host/db", "not an index location")):
        with pytest.raises(RagtuneError, match=message) as caught:
            open_index_at(target, CONFIG, EMBEDDER.identity, EMBEDDER.dimension)
        assert "pw" not in str(caught.value)
    with pytest.raises(RagtuneError, match="--schema applies to a PostgreSQL target only"):
        open_index_at(str(tmp_path / "new"), CONFIG, EMBEDDER.identity, EMBEDDER.dimension, schema="s")
    with pytest.raises(RagtuneError, match="--schema 'Bad-Name'"):
        open_index_at("postgresql://u@127.0.0.1:1/db", CONFIG, EMBEDDER.identity, EMBEDDER.dimension, schema="Bad-Name")


def with_password(url: str, password: str) -> str:
    """The test server trusts its user, so a password in the URL is accepted and ignored: enough
    to check that no output ever shows it."""
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@pytest.mark.integration
def test_index_copy_command_moves_a_workspace_index_to_postgres(tmp_path, postgres_url):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bikes.md").write_text("# Bikes\n\nThe city bike costs 499 euros and has a steel frame.\n")
    (docs / "leave.txt").write_text("Holiday leave is 25 days a year; ask your manager two weeks ahead.\n")
    (docs / "pay.md").write_text("---\nallowed_groups: [hr]\n---\nSalary band B starts at 52,000 euros.\n")
    fast_workspace(tmp_path / "ws")
    assert run("ingest", "docs", "-w", "ws", cwd=tmp_path).returncode == 0
    name, secret = schema(), "pw-" + uuid4().hex[:8]
    url = with_password(postgres_url, secret)

    copied = run("index", "copy", "--to", url, "--schema", name, "--workspace", "ws", "--json", cwd=tmp_path)
    assert copied.returncode == 0, copied.stderr
    report = json.loads(copied.stdout)
    assert report["documents"] == 3 and report["chunks"] >= 3 and report["problems"] == []
    assert report["config"] == f'[index]\nbackend = "postgres"\nurl_env = "RAGTUNE_PG_URL"\nschema = "{name}"'
    assert "RAGTUNE_PG_URL" in report["config_note"] and ":***@" in report["config_note"]
    assert secret not in copied.stdout + copied.stderr and ":***@" in report["target"]

    fast_workspace(tmp_path / "ws2", f'[index]\nbackend = "postgres"\nurl = "{url}"\nschema = "{name}"\n')
    # Equal vectors give equal dense scores (ties, such as the 0 of texts sharing no word, may list
    # in either order); hybrid finds the same chunks, though the backends' keyword scores differ
    # (FTS5 BM25 against ts_rank_cd).
    for query, groups, mode in (("city bike frame", "public", "dense"), ("salary band", "hr", "dense"),
                                ("city bike frame", "hr", "hybrid")):
        found = [json.loads(run("search", query, "--workspace", w, "--json", "--groups", groups, "--mode", mode,
                                cwd=tmp_path).stdout)["hits"] for w in ("ws", "ws2")]
        scores = [{h["chunk_id"]: round(h["score"], 4) if mode == "dense" else 0 for h in hits} for hits in found]
        assert found[0] and scores[0] == scores[1], (query, mode, found)
        assert found[0][0]["chunk_id"] == found[1][0]["chunk_id"]  # the one that shares words leads in both
    status = run("status", "--workspace", "ws2", "--json", cwd=tmp_path)
    state = json.loads(status.stdout)
    assert state["backend"] == "postgres" and state["documents"] == 3 and secret not in status.stdout

    human = run("index", "copy", "--to", url, "--schema", name, "-w", "ws", cwd=tmp_path)
    assert human.returncode == 2 and "--replace" in human.stderr and secret not in human.stderr
    replaced = run("index", "copy", "--to", url, "--schema", name, "-w", "ws", "--replace", "--quiet", cwd=tmp_path)
    assert replaced.returncode == 0, replaced.stderr
    assert "copied 3 document(s)" in replaced.stdout and 'url_env = "RAGTUNE_PG_URL"' in replaced.stdout
    assert secret not in replaced.stdout and ":***@" in replaced.stdout


def test_index_copy_command_errors_name_the_option_and_never_the_password(tmp_path):
    fast_workspace(tmp_path / "ws")
    (tmp_path / "doc.txt").write_text("The helmet warranty lasts two years.\n")
    assert run("ingest", "doc.txt", "-w", "ws", cwd=tmp_path).returncode == 0
    down = run("index", "copy", "--to", "postgresql://ragtune:hunter2@127.0.0.1:1/db", "-w", "ws", cwd=tmp_path)
    assert down.returncode == 2 and "--to" in down.stderr and "hunter2" not in down.stderr
    assert "Traceback" not in down.stderr
    sqlite_schema = run("index", "copy", "--to", "elsewhere", "--schema", "s", "-w", "ws", cwd=tmp_path)
    assert sqlite_schema.returncode == 2 and "--schema" in sqlite_schema.stderr
    to_folder = run("index", "copy", "--to", "sqlite:ws2/index", "-w", "ws", cwd=tmp_path)
    assert to_folder.returncode == 0, to_folder.stderr
    assert f"A workspace at {tmp_path / 'ws2'} reads this copy" in to_folder.stdout
    assert "no index" in run("index", "copy", "--to", "x", "-w", "empty", cwd=tmp_path).stderr
