"""Ingest on a real two-node Ray cluster (loopback) gives the index a local ingest gives: the same
document and chunk ids, spans, access and vectors, the same per-file report, and the same
incremental behaviour; a worker node killed mid-job loses and duplicates nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ragtune.config import EmbedderConfig, IndexConfig, IngestConfig, RagtuneConfig
from ragtune.index.factory import build_store, index_exists
from ragtune.ingest.api import ingest
from ragtune.ingest.report import IngestReport
from ragtune.testing.ray import RayCluster
from ragtune.workspace import Workspace
from tests.pg_fixtures import new_schema
from tests.ray_fixtures import ray_cluster, start_cluster  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


def scifact_corpus(folder: Path, shared: Path, abstracts: int, per_file: int) -> Path:
    """SciFact abstracts as JSONL files of ``per_file`` records, plus a file that cannot be parsed."""
    lines = (shared / "scifact" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:abstracts]
    folder.mkdir()
    for n in range(0, len(lines), per_file):
        rows = [json.loads(line) for line in lines[n : n + per_file]]
        records = [{"id": r["_id"], "title": r["title"], "text": r["text"]} for r in rows]
        (folder / f"part-{n // per_file:03d}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 this is not a PDF at all")
    return folder


def _config(base: RagtuneConfig, index: IndexConfig, address: str | None, **ingest: object) -> RagtuneConfig:
    settings = {"executor": "ray", "ray_address": address, "ray_files_per_task": 2, **ingest} if address else {}
    return base.model_copy(update={"index": index, "ingest": IngestConfig(**settings)})


def _postgres(url: str) -> IndexConfig:
    return IndexConfig(backend="postgres", url=url, schema=new_schema())


def _contents(workspace: Workspace, config: RagtuneConfig) -> dict[str, tuple]:
    """Everything the index holds per document: ids, spans, access, origin, and the vectors."""
    out = {}
    with build_store(workspace, config, None) as store:
        for batch in store.writes(batch=200):
            for write in batch:
                doc, access = write.document, write.document.access
                spans = [(c.id, c.start, c.end, c.page, c.heading_path) for c in write.chunks]
                out[doc.id] = (doc.text, sorted(access.allowed_groups), Path(write.origin).name, spans,
                               np.asarray(write.vectors, dtype=np.float32))
    return out


def _same_index(left: dict[str, tuple], right: dict[str, tuple]) -> None:
    assert left.keys() == right.keys() and left
    for doc_id, (*fields, vectors) in left.items():
        *other, other_vectors = right[doc_id]
        assert fields == other, doc_id
        assert vectors.shape == other_vectors.shape
        assert np.allclose(vectors, other_vectors, atol=1e-5), doc_id  # batch composition may differ


def _per_file(report: IngestReport) -> list[tuple]:
    return [(Path(s.source).name, s.status, s.documents, s.chunks, s.reason) for s in report.sources]


def _local_and_ray(tmp_path, corpus, base, postgres_url, address):  # type: ignore[no-untyped-def]
    """The same corpus ingested locally and on the cluster into two PostgreSQL schemas."""
    here, there = Workspace(tmp_path / "local"), Workspace(tmp_path / "ray")
    local_config = _config(base, _postgres(postgres_url), None)
    ray_config = _config(base, _postgres(postgres_url), address)
    local = ingest(here, [corpus], config=local_config, groups=["staff"])
    remote = ingest(there, [corpus], config=ray_config, groups=["staff"])
    assert _per_file(remote) == _per_file(local)
    assert [s.status for s in remote.sources].count("failed") == 1  # broken.pdf, with the local reason
    assert remote.index == local.index
    _same_index(_contents(there, ray_config), _contents(here, local_config))
    return there, ray_config, remote


def test_ray_ingest_of_1000_abstracts_into_postgres_equals_a_local_one_and_skips_unchanged_files(
    tmp_path, shared_datasets, config, postgres_url, ray_cluster: RayCluster
) -> None:
    """Ids, spans, access, reports and incremental behaviour at scale (the hashing embedder keeps
    the test short; the next test compares the real model's vectors)."""
    corpus = scifact_corpus(tmp_path / "corpus", shared_datasets, abstracts=1000, per_file=20)
    there, ray_config, remote = _local_and_ray(tmp_path, corpus, config, postgres_url, ray_cluster.address)
    assert remote.index["added"] == 1000
    edited = corpus / "part-003.jsonl"
    first, *rest = edited.read_text().splitlines()
    record = json.loads(first)
    record["text"] += " This sentence was added later."
    edited.write_text("\n".join([json.dumps(record), *rest]) + "\n")
    again = ingest(there, [corpus], config=ray_config, groups=["staff"], sync=True)
    assert again.index["updated"] == 1 and again.index["unchanged"] == 999 and again.index["deleted"] == 0
    assert again.index["chunks_embedded"] >= 1  # only the edited abstract's changed chunks


def test_ray_ingest_with_the_bundled_embedder_gives_the_local_vectors(
    tmp_path, shared_datasets, real_config, postgres_url, ray_cluster: RayCluster
) -> None:
    """Actors embed in other batches than a local run: equal within float tolerance."""
    corpus = scifact_corpus(tmp_path / "corpus", shared_datasets, abstracts=120, per_file=10)
    _, _, remote = _local_and_ray(tmp_path, corpus, real_config, postgres_url, ray_cluster.address)
    assert remote.index["added"] == 120


def test_ray_ingest_into_sqlite_writes_from_the_driver(tmp_path, shared_datasets, config, ray_cluster) -> None:
    corpus = scifact_corpus(tmp_path / "corpus", shared_datasets, abstracts=200, per_file=20)
    here, there = Workspace(tmp_path / "local"), Workspace(tmp_path / "ray")
    local = ingest(here, [corpus], config=_config(config, IndexConfig(), None))
    remote = ingest(there, [corpus], config=_config(config, IndexConfig(), ray_cluster.address))
    assert _per_file(remote) == _per_file(local) and remote.index == local.index
    _same_index(_contents(there, config), _contents(here, config))
    with pytest.raises(Exception, match="ray_writes = \"workers\" needs"):
        ingest(there, [corpus], config=_config(config, IndexConfig(), ray_cluster.address, ray_writes="workers"))


def test_a_worker_node_killed_mid_job_loses_and_duplicates_nothing(
    tmp_path, shared_datasets, real_config, postgres_url
) -> None:
    corpus = scifact_corpus(tmp_path / "corpus", shared_datasets, abstracts=240, per_file=6)
    expected = {json.loads(line)["id"] for f in corpus.glob("*.jsonl") for line in f.read_text().splitlines()}
    cluster = start_cluster(nodes=2)
    killed: list[int] = []

    def kill_once_under_way(report) -> None:  # type: ignore[no-untyped-def]
        if not killed and report.status == "ok":
            killed.append(cluster.kill_node(1))

    try:
        settings = _config(real_config, _postgres(postgres_url), cluster.address, ray_files_per_task=1)
        report = ingest(Workspace(tmp_path / "ray"), [corpus], config=settings, on_progress=kill_once_under_way)
    finally:
        cluster.stop()
    assert killed and killed[0] > 0  # the second node's processes really died mid-job
    assert report.succeeded == 40 and report.failed == 1
    with build_store(Workspace(tmp_path / "ray"), settings, None) as store:
        assert store.check_integrity() == []
        states = store.states_by_origin(prefix=str(corpus))
        assert len(states) == len({s.document_id for s in states}) == len(expected)  # nothing lost or twice
        assert store.status().documents == len(expected) and store.status().chunks == report.chunks


def test_cli_sync_with_ray_says_who_writes_and_reports_like_a_local_run(tmp_path, ray_cluster) -> None:
    import subprocess
    import sys

    ragtune = Path(sys.executable).with_name("ragtune")
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Leave\n\nEmployees get 30 days of paid leave.\n")
    (corpus / "b.txt").write_text("Bikes are serviced every spring.\n")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "ragtune.toml").write_text('[embedder]\nbackend = "hashing"\n')

    def sync(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(ragtune), "sync", str(corpus), "--workspace", str(workspace), *extra],
                              capture_output=True, text=True, timeout=300)

    done = sync("--ray", ray_cluster.address)
    assert done.returncode == 0, done.stderr
    assert "writes from this machine only (SQLite has one writer)" in " ".join(done.stderr.split())
    assert "INFO" not in done.stderr and "WARNING" not in done.stderr  # Ray's own logging kept quiet
    (corpus / "b.txt").unlink()
    report = json.loads(sync("--ray", ray_cluster.address, "--json").stdout)
    assert report["index"]["unchanged"] == 1 and report["index"]["deleted"] == 1
    refused = sync("--ray", "127.0.0.1:9")
    assert refused.returncode != 0 and "cannot connect to the Ray cluster at '127.0.0.1:9'" in " ".join(refused.stderr.split())


def test_a_driver_killed_mid_job_converges_when_run_again(tmp_path, shared_datasets, postgres_url, ray_cluster) -> None:
    import signal
    import subprocess
    import sys
    import time

    corpus = scifact_corpus(tmp_path / "corpus", shared_datasets, abstracts=240, per_file=6)
    index = _postgres(postgres_url)
    workspace = Workspace(tmp_path / "ws")
    workspace.root.mkdir()
    workspace.config_path.write_text(
        f'[index]\nbackend = "postgres"\nurl = "{postgres_url}"\nschema = "{index.schema_name}"\n\n'
        f'[ingest]\nexecutor = "ray"\nray_address = "{ray_cluster.address}"\nray_files_per_task = 1\n')
    command = [str(Path(sys.executable).with_name("ragtune")), "ingest", str(corpus), "--workspace", str(workspace.root),
               "--json"]
    config = workspace.load_config()
    driver = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and driver.poll() is None:
            if index_exists(workspace, config):
                with build_store(workspace, config, None) as store:
                    if store.status().documents >= 30:
                        break
            time.sleep(0.3)
        assert driver.poll() is None, "the ingest ended before it could be interrupted"
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
    with build_store(workspace, config, None) as store:
        written = store.status().documents
    assert 30 <= written < 240
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["index"]["unchanged"] >= 30 and report["index"]["added"] + report["index"]["unchanged"] == 240
    with build_store(workspace, config, None) as store:
        assert store.status().documents == 240 and store.check_integrity() == []
