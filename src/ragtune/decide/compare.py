"""``ragtune compare``: the same test questions through prompt-only, RAG, fine-tuned, hybrid and
RAFT arms; answer quality, faithfulness, citations, refusals, latency, tokens and cost per arm,
paired confidence intervals between arms, and the freshness test. Saved as an evaluation run
(kind ``compare``) that ``ragtune advise`` reads its measurements from.
"""

from __future__ import annotations

import filecmp
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ragtune.config import RagtuneConfig
from ragtune.decide.arms import Arm
from ragtune.decide.compare_data import CompareData
from ragtune.decide.freshness import freshness_metrics
from ragtune.decide.training import Trained, closed_book_examples, train_on
from ragtune.errors import ConfigError
from ragtune.evaluate.behaviour.suite import behaviour_settings, open_behaviour
from ragtune.evaluate.data import Track, index_key, no_track
from ragtune.evaluate.diff import paired_metric
from ragtune.evaluate.qa_eval import evaluate_answers, strip_markers
from ragtune.evaluate.runs import EvalRun, RunStore
from ragtune.evaluate.summary import summarise
from ragtune.tune.lora_config import LoraTuneConfig
from ragtune.tune.raft_config import RaftConfig
from ragtune.types import Principal
from ragtune.workspace import Workspace

PAIRED_METRICS = ("f1", "answer_hit", "exact_match", "format_valid", "style", "label_correct")


@dataclass
class CompareOptions:
    arms: list[Arm]
    models: dict[str, str] = field(default_factory=dict)
    """``ft`` / ``raft`` / ``classifier`` -> a registry reference; missing ones are trained when
    ``train`` is set."""
    train: bool = False
    lora: LoraTuneConfig = field(default_factory=LoraTuneConfig)
    raft: RaftConfig = field(default_factory=RaftConfig)
    principal: Principal = field(default_factory=lambda: Principal("eval"))
    raft_limit: int | None = None
    """Build RAFT examples from only the first N training questions: each is a whole retrieved
    context (about ten times the tokens of a closed-book example), so training costs more."""
    behaviour: Path | None = None
    """A TOML file of behaviour settings (``--behaviour``); default: the workspace's ``[eval.behaviour]``."""
    json_schema: Path | None = None
    """The JSON schema of the ``<arm>+grammar`` arms (``--json-schema``); answers are also scored
    against it (``json_valid``, ``allowed_values``) unless the behaviour settings name their own."""
    name: str = "compare"
    """Registry names of models trained here: ``<name>-ft`` and ``<name>-raft``."""
    progress: bool = True


Log = Callable[[str], None]


class _Constrained:
    """An answerer whose every answer is constrained by a JSON schema: the ``+grammar`` arms."""

    def __init__(self, answerer: Any, schema: dict[str, Any]) -> None:
        self.answerer, self.schema = answerer, schema

    def __getattr__(self, name: str) -> Any:  # retriever, llm: closed with the answerer
        return getattr(self.answerer, name)

    def ask(self, question: str, principal: Principal, **kwargs: Any) -> Any:
        return self.answerer.ask(question, principal, json_schema=self.schema, **kwargs)


def _quiet(message: str) -> None:
    pass


def mirror(source: Path, target: Path) -> int:
    """Make ``target`` hold exactly ``source``'s files; files already equal are left untouched
    (so re-indexing finds them unchanged). Returns how many files were written or removed."""
    changed = 0
    wanted = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    if target.is_dir():
        for path in [p for p in target.rglob("*") if p.is_file()]:
            if path.relative_to(target) not in wanted:
                path.unlink()
                changed += 1
    for relative in sorted(wanted):
        src, dst = source / relative, target / relative
        if not dst.is_file() or not filecmp.cmp(src, dst, shallow=False):
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            changed += 1
    return changed


def open_arm(workspace: Workspace, target: Workspace, arm: Arm, config: RagtuneConfig, models: dict[str, str],
             schema: dict[str, Any] | None) -> Any:
    """The answerer of one arm (``close_arm`` closes it): here, or on a Ray worker."""
    from ragtune.decide.closed_book import ClosedBookAssistant
    from ragtune.generate.api import open_assistant
    from ragtune.generate.factory import build_llm

    if arm.model == "classifier":
        from ragtune.decide.classifier_arm import open_classifier_arm

        return open_classifier_arm(workspace, models["classifier"])
    if arm.retrieval:
        answerer = open_assistant(target, config)
    else:
        answerer = ClosedBookAssistant(build_llm(config.llm), config.llm, config.answer)
    return _Constrained(answerer, schema) if arm.grammar and schema is not None else answerer


def close_arm(answerer: Any) -> None:
    retriever = getattr(answerer, "retriever", None)
    if retriever is not None:
        retriever.close()
    if answerer.llm is not None:  # the extract arm loads no model
        answerer.llm.close()


def compare_shard(workspace: str, target: str, arm: Arm, config: dict[str, Any], models: dict[str, str],
                  schema: dict[str, Any] | None, principal: Principal, behaviour: tuple[Any, ...] | None,
                  shard: list[Any]) -> list[dict[str, Any]]:
    """One Ray task of ``compare --ray``: the arm's answers to a shard of the test questions."""
    from ragtune.evaluate.ray_map import behaviour_on_worker

    settings = RagtuneConfig.model_validate(config)
    suite = behaviour_on_worker(behaviour)
    answerer = open_arm(Workspace(Path(workspace)), Workspace(Path(target)), arm, settings, models, schema)
    try:
        return evaluate_answers(answerer, shard, arm.name, settings, principal, retrieval=arm.retrieval,
                                behaviour=suite, labels_only=arm.model == "classifier")
    finally:
        close_arm(answerer)


class Comparison:
    def __init__(self, workspace: Workspace, data: CompareData, options: CompareOptions, config: RagtuneConfig, *,
                 track: Track = no_track, on_embedded: Callable[[int], None] | None = None, log: Log = _quiet) -> None:
        self.workspace, self.data, self.options, self.config = workspace, data, options, config
        self.track, self.on_embedded, self.log = track, on_embedded, log
        self.folder = workspace.scratch_dir("compare", f"{data.name}-{index_key(config)}")
        self.target = workspace
        self.trained: dict[str, Trained] = {}
        self.schema: dict[str, Any] | None = None
        self.ray: Any = None
        """The connected ``ray`` module while ``run_compare(..., ray_address=...)`` runs."""

    def check(self) -> None:
        """Refuse, before any work, a run that could not finish."""
        constrained = [a.name for a in self.options.arms if a.grammar]
        if constrained and self.options.json_schema is None:
            raise ConfigError(f"arm(s) {', '.join(constrained)} constrain answers by a JSON schema: give --json-schema FILE")
        if self.options.json_schema is not None:
            from ragtune.generate.structured import load_schema

            self.schema = load_schema(self.options.json_schema)
        roles = {a.model for a in self.options.arms} - {"base", "none"}
        missing = sorted(r for r in roles if r not in self.options.models)
        if "classifier" in roles and not any(item.label for item in self.data.test):
            raise ConfigError("the classifier arm states labels: the test questions need a 'label' (a routing eval set)")
        if "classifier" in missing and self.options.train and not any(item.label for item in self.data.train):
            raise ConfigError("--train for the classifier arm needs training questions with a 'label'")
        if missing and not self.options.train:
            flags = ", ".join(f"--{r}-model" for r in missing)
            raise ConfigError(f"arm(s) need a fine-tuned model ({', '.join(missing)}): give {flags} (a registry "
                              "reference) or --train to fine-tune on the training questions now")
        if missing and not self.data.train:
            raise ConfigError("--train needs training questions: a SQuAD set (split by article) or --train-evalset")
        for role in sorted(roles - set(missing) - {"classifier"}):  # a wrong reference fails now, not after an hour
            self.arm_config(next(a for a in self.options.arms if a.model == role))
        if "classifier" in self.options.models:
            from ragtune.tune.api import registry

            entry = registry(self.workspace).get(self.options.models["classifier"])
            if entry.kind != "classifier":
                raise ConfigError(f"--classifier-model {entry.ref} is a {entry.kind}, not a classifier")

    # -- the corpus ------------------------------------------------------------------------------
    @property
    def _docs(self) -> Path:
        """The comparison's own copy of the corpus: updates are applied here, never to the original."""
        return self.folder / "docs"

    def _sync(self) -> Any:
        """Index the copy as it is now; only changed files are embedded again."""
        from ragtune.ingest.api import ingest

        return ingest(self.target, [self._docs], config=self.config, sync=True, on_embedded=self.on_embedded)

    def _index(self) -> dict[str, Any]:
        if self.data.corpus is None:
            return {}
        mirror(self.data.corpus, self._docs)
        self.target = Workspace(self.folder)
        self.log(f"indexing {self._docs}")
        report = self._sync()
        return {"index_seconds": round(report.seconds, 3), "chunks_embedded": report.index.get("chunks_embedded", 0),
                **self._counts()}

    def _counts(self) -> dict[str, int]:
        from ragtune.retrieve.api import open_retriever

        retriever = open_retriever(self.target, self.config)
        try:
            status = retriever.store.status()
            return {"documents": status.documents, "chunks": status.chunks}
        finally:
            retriever.close()

    def _apply_update(self) -> dict[str, Any]:
        update = self.data.update
        assert update is not None
        for relative, text in update.files.items():
            path = self._docs / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        started = time.perf_counter()
        report = self._sync()
        seconds = time.perf_counter() - started
        self.log(f"freshness: {len(update.files)} changed document(s) re-indexed in {seconds:.1f} s")
        return {"changed_documents": len(update.files), "reindex_seconds": round(seconds, 3),
                "chunks_embedded": report.index.get("chunks_embedded"), "questions": len(update.items),
                "source": update.source}

    # -- models ----------------------------------------------------------------------------------
    def _train(self) -> None:
        roles = {a.model for a in self.options.arms} - {"base", "none"} - set(self.options.models)
        not_found = self.config.answer.not_found_text
        work = self.folder / "training"
        if "ft" in roles:
            self.log(f"training {self.options.name}-ft on {len(self.data.train)} closed-book question/answer pairs")
            self.trained["ft"] = train_on(self.workspace, closed_book_examples(self.data.train, not_found),
                                          f"{self.options.name}-ft", work, self.options.lora, progress=self.options.progress)
        if "raft" in roles:
            examples = self._raft_examples()
            self.log(f"training {self.options.name}-raft on {len(examples)} RAFT examples")
            self.trained["raft"] = train_on(self.workspace, examples, f"{self.options.name}-raft", work,
                                            self.options.lora, progress=self.options.progress)
        if "classifier" in roles:
            from ragtune.decide.classifier_arm import train_classifier_arm

            self.log(f"training {self.options.name}-classifier on the labels of {len(self.data.train)} training questions")
            ref, seconds, examples = train_classifier_arm(self.workspace, self.data.train, f"{self.options.name}-classifier",
                                                          work, seed=self.options.lora.seed, progress=self.options.progress)
            self.trained["classifier"] = Trained(ref, seconds, examples)
        for role, trained in self.trained.items():
            self.options.models[role] = trained.ref

    def _raft_examples(self) -> list[dict[str, Any]]:
        from ragtune.decide.raft_data import raft_examples

        questions = self.data.train[: self.options.raft_limit] if self.options.raft_limit else self.data.train
        data = raft_examples(self.target, self.config, questions, self.options.raft, self.options.principal, self.track)
        if data.skipped:
            self.log(f"RAFT: {len(data.skipped)} question(s) gave no example, e.g. {data.skipped[0]}")
        return data.examples

    def arm_config(self, arm: Arm) -> RagtuneConfig:
        if arm.model in ("base", "classifier"):
            return self.config
        if arm.model == "none":
            return self.config.model_copy(update={"answer": self.config.answer.model_copy(update={"mode": "extract"})})
        from ragtune.tune.api import registry
        from ragtune.registry.references import llm_settings

        entry = registry(self.workspace).get(self.options.models[arm.model])
        settings = llm_settings(entry, self.config.llm.backend)
        return self.config.model_copy(update={"llm": self.config.llm.model_copy(update=settings)})

    def _open(self, arm: Arm, config: RagtuneConfig) -> Any:
        return open_arm(self.workspace, self.target, arm, config, self.options.models, self.schema)

    @staticmethod
    def _close(answerer: Any) -> None:
        close_arm(answerer)

    # -- the run ---------------------------------------------------------------------------------
    def run(self, save: bool = True) -> EvalRun:
        self.check()
        corpus = self._index()
        if self.options.train:
            self._train()
        run = EvalRun("compare", dict(self.data.info), {}, [])
        if corpus:
            run.dataset["corpus"] = corpus
        settings, root = behaviour_settings(self.config, self.workspace.root, self.options.behaviour)
        if self.options.json_schema is not None and settings.format.json_schema is None:
            schema_file = str(self.options.json_schema.resolve())
            settings = settings.model_copy(update={"format": settings.format.model_copy(update={"json_schema": schema_file})})
        items_root = Path(self.data.info["path"]).parent if self.data.info.get("path") else None
        behaviour = open_behaviour(settings, root, self.data.test, items_root=items_root,
                                   embedder_config=self.config.embedder)
        if behaviour is not None:
            run.dataset["behaviour"] = behaviour.info
        configs = {arm.name: self.arm_config(arm) for arm in self.options.arms}
        behaviour_args = (settings, root, self.data.test, items_root, self.config.embedder) if behaviour else None
        for arm in self.options.arms:
            config = configs[arm.name]
            if self.ray is not None:
                from ragtune.evaluate.ray_map import map_questions, worker_config

                shard = partial(compare_shard, str(self.workspace.root), str(self.target.root), arm,
                                worker_config(config), dict(self.options.models), self.schema, self.options.principal,
                                behaviour_args)
                rows = map_questions(self.ray, self.data.test, shard, track=self.track, label=f"answers {arm.name}")
            else:
                answerer = self._open(arm, config)
                try:
                    rows = evaluate_answers(answerer, self.data.test, arm.name, config, self.options.principal,
                                            track=self.track, retrieval=arm.retrieval, behaviour=behaviour,
                                            labels_only=arm.model == "classifier")
                finally:
                    self._close(answerer)
            run.rows.extend(rows)
            run.summary[arm.name] = summarise(rows)
            trained = self.trained.get(arm.model)
            run.variants[arm.name] = {
                "description": arm.description, "retrieval": arm.retrieval,
                "model": "none (extractive reader)" if arm.model == "none" else self.options.models.get(arm.model, config.llm.model),
                "llm": None if arm.model == "classifier" else config.llm.model_dump(mode="json"),
                "training": {"seconds": round(trained.seconds, 1), "examples": trained.examples} if trained else None,
            }
        add_paired_differences(run, [a.name for a in self.options.arms])
        if self.data.update is not None and self.data.corpus is not None:
            run.dataset["freshness"] = self._apply_update()
            for arm in self.options.arms:
                if arm.model != "classifier":  # it states labels, not facts
                    self._freshness(run, arm, configs[arm.name])
        if save:
            RunStore(self.workspace).save(run)
        return run

    def _freshness(self, run: EvalRun, arm: Arm, config: RagtuneConfig) -> None:
        update = self.data.update
        assert update is not None
        answerer = self._open(arm, config)
        scores = []
        try:
            for item in self.track(update.items, f"freshness {arm.name}", len(update.items)):
                answer = answerer.ask(item.question, self.options.principal)
                text = strip_markers(answer.text) if answer.found else ""
                metrics = freshness_metrics(text, item, update.stale)
                scores.append(metrics)
                run.rows.append({"variant": arm.name, "phase": "freshness", "query_id": item.id,
                                 "question": item.question, "answer": answer.text, "gold": list(item.answers),
                                 "stale_answers": list(update.stale.get(item.id, ())), "metrics": metrics,
                                 "timings_ms": {"total": round(answer.timings.get("total", 0.0) * 1000, 3)}})
        finally:
            self._close(answerer)
        stale = [s["stale"] for s in scores if s["stale"] is not None]
        run.summary[arm.name]["freshness"] = {
            "questions": len(scores), "answered": sum(s["fresh"] or 0 for s in scores) / max(len(scores), 1),
            "stale": sum(stale) / len(stale) if stale else None,
        }


def add_paired_differences(run: EvalRun, arms: Sequence[str]) -> None:
    """``summary[b]["vs"][a][metric]``: mean(b − a) over the questions both answered, with a
    bootstrap confidence interval and a randomisation p-value, for every earlier arm ``a``."""
    rows = {arm: {r["query_id"]: r for r in run.rows_of(arm)} for arm in arms}
    for j, b in enumerate(arms):
        versus: dict[str, Any] = {}
        for a in arms[:j]:
            versus[a] = {}
            for metric in PAIRED_METRICS:
                d = paired_metric(rows[a], rows[b], metric)
                if d is None or d.n < 2:
                    continue
                versus[a][metric] = {"n": d.n, "difference": d.difference, "low": d.low, "high": d.high,
                                     "p_value": d.p_value, "confidence": d.confidence}
        run.summary[b]["vs"] = versus


def run_compare(workspace: Workspace, data: CompareData, options: CompareOptions, *, config: RagtuneConfig | None = None,
                track: Track = no_track, on_embedded: Callable[[int], None] | None = None, log: Log = _quiet,
                save: bool = True, ray_address: str | None = None) -> EvalRun:
    """``ray_address``: answer each arm's test questions on that Ray cluster (training, indexing
    and freshness stay here)."""
    comparison = Comparison(workspace, data, options, config or workspace.load_config(), track=track,
                            on_embedded=on_embedded, log=log)
    if ray_address is None:
        return comparison.run(save)
    from ragtune.ray_cluster import connected

    with connected(ray_address) as ray:
        comparison.ray = ray
        return comparison.run(save)
