"""The model registry: lineage, references, promote/rollback/delete, corrupt entries, and the
``ragtune models`` commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ragtune.errors import RegistryError
from ragtune.registry.store import ModelRegistry, ModelVersion
from tests.test_cli import run


def register(registry: ModelRegistry, name: str = "tickets", kind: str = "classifier", accuracy: float = 0.9) -> ModelVersion:
    with registry.staging(name) as staging:
        (staging / "model").mkdir()
        (staging / "model" / "weights.bin").write_bytes(b"\0" * 16)
        return registry.register(
            staging, name=name, kind=kind, base_model="all-MiniLM-L6-v2",
            data={"path": "train.csv", "sha256": "ab" * 32, "kind": "classification"},
            hyperparameters={"epochs": 4, "learning_rate": 1e-4}, metrics={"accuracy": accuracy},
            training_seconds=12.5, artifacts={"model": "model"},
        )


def test_register_records_lineage_and_numbers_versions(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    first, second = register(registry), register(registry, accuracy=0.95)
    assert (first.ref, second.ref) == ("tickets@v1", "tickets@v2")
    stored = json.loads((tmp_path / "models" / "tickets" / "v2" / "model.json").read_text())
    assert stored["base_model"] == "all-MiniLM-L6-v2" and stored["data"]["sha256"] == "ab" * 32
    assert stored["hyperparameters"] == {"epochs": 4, "learning_rate": 1e-4}
    assert stored["metrics"] == {"accuracy": 0.95} and stored["training_seconds"] == 12.5
    assert stored["code_version"].startswith("ragtune ") and stored["stage"] == "candidate"
    assert registry.get("tickets@2").artifact("model") == tmp_path / "models" / "tickets" / "v2" / "model"
    assert not [p for p in (tmp_path / "models" / "tickets").iterdir() if p.name.startswith(".staging")]


def test_a_failed_training_leaves_nothing_registered(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    with pytest.raises(RuntimeError), registry.staging("tickets") as staging:
        (staging / "half-written").write_text("x")
        raise RuntimeError("training crashed")
    assert registry.list() == ([], [])
    with pytest.raises(RegistryError, match="was not written"), registry.staging("tickets") as staging:
        registry.register(staging, name="tickets", kind="llm", base_model="b", data={}, hyperparameters={},
                          metrics={}, training_seconds=0, artifacts={"adapter": "adapter"})


def test_references_resolve_by_version_stage_and_latest(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    for _ in range(3):
        register(registry)
    with pytest.raises(RegistryError, match="no production version of model 'tickets'.*v1 candidate.*promote"):
        registry.get("tickets")
    registry.promote("tickets@v2")
    assert registry.get("tickets").version == 2 == registry.get("tickets@production").version
    assert registry.get("tickets@latest").version == 3 and registry.get("tickets@candidate").version == 3
    with pytest.raises(RegistryError, match=r"no model tickets@v9 \(versions: v1 candidate, v2 production"):
        registry.get("tickets@v9")
    with pytest.raises(RegistryError, match="registered models: tickets"):
        registry.get("other@latest")
    with pytest.raises(RegistryError, match="after '@'"):
        registry.get("tickets@best")
    with pytest.raises(RegistryError, match="model name"):
        registry.get("../etc@v1")


def test_promote_archives_the_previous_production_and_rollback_restores_it(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    for _ in range(3):
        register(registry)
    registry.promote("tickets@v1")
    promoted, replaced = registry.promote("tickets@v3")
    assert promoted.version == 3 and replaced is not None and replaced.version == 1
    assert [e.stage for e in registry.list("tickets")[0]] == ["archived", "candidate", "production"]
    with pytest.raises(RegistryError, match="already production"):
        registry.promote("tickets@v3")
    restored, retired = registry.rollback("tickets")
    assert (restored.version, retired.version) == (1, 3)
    assert registry.get("tickets").version == 1
    assert [h["stage"] for h in registry.get("tickets@v1").history] == ["candidate", "production", "archived", "production"]
    again, _ = registry.rollback("tickets")  # the version in production before the current one: v3
    assert again.version == 3 and registry.get("tickets@v1").stage == "archived"


def test_rollback_needs_an_earlier_production_version(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    register(registry)
    register(registry)
    with pytest.raises(RegistryError, match="no production version"):
        registry.rollback("tickets")
    registry.promote("tickets@v2")
    with pytest.raises(RegistryError, match="only version .* ever in production"):
        registry.rollback("tickets")
    assert registry.get("tickets").version == 2

def test_delete_refuses_production_unless_forced(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    register(registry)
    register(registry)
    registry.promote("tickets@v1")
    with pytest.raises(RegistryError, match="in production"):
        registry.delete("tickets@v1")
    registry.delete("tickets@v2")
    assert not (tmp_path / "models" / "tickets" / "v2").exists()
    registry.delete("tickets@v1", force=True)
    assert registry.list() == ([], [])
    assert register(registry).version == 1  # numbering restarts only when every version is gone


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_text("{ truncated"), "corrupt registry entry: Expecting"),
        (lambda p: p.write_text("[]"), "not a JSON object"),
        (lambda p: p.write_text(json.dumps({k: v for k, v in json.loads(p.read_text()).items() if k != "data"})),
         "missing data"),
        (lambda p: p.write_text(p.read_text().replace('"candidate"', '"staging"')), "stage 'staging'"),
        (lambda p: p.write_text(p.read_text().replace('"version": 1', '"version": 7')), "says tickets@v7 but lies in tickets/v1"),
        (lambda p: shutil.rmtree(p.parent / "model"), r"its model \(model\) is missing"),
        (lambda p: p.unlink(), "the file is missing"),
    ],
)
def test_a_corrupt_entry_is_a_clear_error_and_does_not_hide_the_others(tmp_path: Path, damage, message: str) -> None:
    registry = ModelRegistry(tmp_path / "models")
    register(registry)
    register(registry)
    damage(tmp_path / "models" / "tickets" / "v1" / "model.json")
    with pytest.raises(RegistryError, match=message) as caught:
        registry.get("tickets@v1")
    assert "tickets/v1/model.json" in str(caught.value)
    entries, problems = registry.list()
    assert [e.ref for e in entries] == ["tickets@v2"] and len(problems) == 1
    assert registry.get("tickets@latest").version == 2


def test_models_commands(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    registry = ModelRegistry(ws / "models")
    register(registry)
    register(registry, accuracy=0.97)
    listed = run("models", "list", "--json", "-w", str(ws), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [(m["version"], m["metrics"]["accuracy"]) for m in json.loads(listed.stdout)] == [(1, 0.9), (2, 0.97)]
    assert run("models", "promote", "tickets@v1", "-w", str(ws), cwd=tmp_path).returncode == 0
    promoted = run("models", "promote", "tickets@v2", "-w", str(ws), cwd=tmp_path)
    assert "tickets@v2 is now production; tickets@v1 archived" in promoted.stdout
    shown = json.loads(run("models", "show", "tickets", "-w", str(ws), cwd=tmp_path).stdout)
    assert shown["version"] == 2 and shown["path"].endswith("tickets/v2")
    rolled = run("models", "rollback", "tickets", "-w", str(ws), cwd=tmp_path)
    assert "tickets@v1 is production again; tickets@v2 archived" in rolled.stdout
    refused = run("models", "delete", "tickets@v1", "-w", str(ws), cwd=tmp_path)
    assert refused.returncode == 2 and "in production" in refused.stderr
    (ws / "models" / "tickets" / "v2" / "model.json").write_text("garbage")
    table = run("models", "list", "-w", str(ws), cwd=tmp_path)
    assert table.returncode == 1 and "tickets@v1" in table.stdout and "v2/model.json: corrupt" in table.stderr
