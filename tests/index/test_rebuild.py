"""Rebuild-and-swap (``tune embedder --reindex``) on both backends: the live index changes only
when the rebuild completes; a failed rebuild leaves it as it was and removes its leftovers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.config import EmbedderConfig, IndexConfig, RagtuneConfig
from ragtune.index.factory import build_store
from ragtune.index.postgres_store import schema_exists
from ragtune.index.rebuild import rebuilding
from ragtune.ingest.api import ingest
from ragtune.testing.store import EMBEDDER
from ragtune.types import Principal
from ragtune.workspace import Workspace
from tests.pg_fixtures import new_schema


@pytest.fixture(params=["sqlite", "postgres"])
def config(request: pytest.FixtureRequest) -> RagtuneConfig:
    if request.param == "sqlite":
        return RagtuneConfig(embedder=EmbedderConfig(backend="hashing"))
    url = request.getfixturevalue("postgres_url")
    return RagtuneConfig(embedder=EmbedderConfig(backend="hashing"),
                         index=IndexConfig(backend="postgres", url=url, schema=new_schema()))


def _sources(workspace: Workspace, config: RagtuneConfig) -> list[str]:
    with build_store(workspace, config, None) as store:
        return sorted(Path(d.source).name for d in store.list_documents(Principal("u")))


def test_the_live_index_changes_only_when_the_rebuild_completes(tmp_path: Path, config: RagtuneConfig) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    (old / "old.md").write_text("# Old\n\nThe old handbook says leave is 25 days.")
    (new / "new.md").write_text("# New\n\nThe new handbook says leave is 28 days.")
    workspace = Workspace(tmp_path / "ws")
    ingest(workspace, [old], config=config, embedder=EMBEDDER)

    with pytest.raises(RuntimeError, match="interrupted"):
        with rebuilding(workspace, config) as (building, building_config):
            ingest(building, [new], config=building_config, embedder=EMBEDDER)
            assert _sources(workspace, config) == ["old.md"]  # searches still see the live index
            raise RuntimeError("interrupted")
    assert _sources(workspace, config) == ["old.md"]
    assert not (tmp_path / "ws" / "index.rebuilding").exists()
    if config.index.backend == "postgres":
        assert not schema_exists(config.index.server_url(), f"{config.index.schema_name}_rebuilding")

    with rebuilding(workspace, config) as (building, building_config):
        ingest(building, [new], config=building_config, embedder=EMBEDDER)
    assert _sources(workspace, config) == ["new.md"]


def test_the_swapped_in_index_takes_writes_and_keeps_its_fingerprints_right(tmp_path: Path, config: RagtuneConfig) -> None:
    """Its triggers name their tables by the schema they fire in, not the one they were made in."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nLeave is 28 days.")
    workspace = Workspace(tmp_path / "ws")
    with rebuilding(workspace, config) as (building, building_config):
        ingest(building, [docs], config=building_config, embedder=EMBEDDER)
    (docs / "a.md").write_text("# A\n\nLeave is 30 days.")
    report = ingest(workspace, [docs], config=config, embedder=EMBEDDER)
    assert report.index["updated"] == 1
    assert ingest(workspace, [docs], config=config, embedder=EMBEDDER).index["unchanged"] == 1
