"""``ragtune data prepare``, ``ragtune tune lora|classifier|embedder|reader``, ``ragtune models ...`` and
``ragtune classify``: fine-tuning and the model registry. Thin wrappers over ``ragtune.tune``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from ragtune.cli_common import (
    JsonOption,
    WorkspaceOption,
    _fail,
    _split_names,
    _workspace,
    console,
    err_console,
)
from ragtune.cli_eval import tune_app
from ragtune.errors import RagtuneError

data_app = typer.Typer(help="Prepare training data: validate, de-duplicate, split, hash.", no_args_is_help=True)
models_app = typer.Typer(help="The model registry: trained models, their lineage and stages.", no_args_is_help=True)

FormatOption = Annotated[
    Optional[str], typer.Option("--format", help="chat, instruction or classification [default: from the file]")
]
TextColumnOption = Annotated[str, typer.Option("--text-column", help="Column (or JSON field) holding the text.")]
LabelColumnOption = Annotated[str, typer.Option("--label-column", help="Column (or JSON field) holding the label.")]
SplitOption = Annotated[str, typer.Option("--split", help="Train, validation and test shares.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the split (and of training).")]
NameOption = Annotated[str, typer.Option("--name", "-n", help="Registry name of the trained model.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def _kind(value: str | None) -> Any:
    from ragtune.tune.dataset_formats import KINDS

    if value is not None and value not in KINDS:
        raise _fail(f"--format must be one of {', '.join(KINDS)}, not {value!r}")
    return value


def _load_data(path: Path, kind: str, split: str, seed: int, text_column: str, label_column: str,
               max_tokens: int | None = None, base: str | None = None, min_per_label: int = 1):  # type: ignore[no-untyped-def]
    from ragtune.generate.base_model import chat_token_counter
    from ragtune.tune.dataset_formats import detect_kind
    from ragtune.tune.prepare import load_training_data, parse_fractions

    options: dict[str, Any] = {}
    if not path.is_dir():
        found = kind or detect_kind(path)
        options = {"fractions": parse_fractions(split), "seed": seed, "text_column": text_column,
                   "label_column": label_column, "min_per_label": min_per_label}
        if found != "classification" and base is not None:
            options.update(count_tokens=chat_token_counter(base), max_tokens=max_tokens)
    return load_training_data(path, kind, **options)


def _print_excluded(data) -> None:  # type: ignore[no-untyped-def]
    for error in data.errors[:20]:
        err_console.print(f"[yellow]excluded[/] {data.source}:{error.line}: {error.message}", highlight=False)
    if len(data.errors) > 20:
        err_console.print(f"[yellow]… {len(data.errors) - 20} more excluded row(s): see dataset.json[/]")


@data_app.command("prepare")
def prepare_command(
    source: Annotated[Path, typer.Argument(help="Chat JSONL, instruction JSONL or CSV (text,label).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for train/validation/test.jsonl and dataset.json.")],
    data_format: FormatOption = None,
    split: SplitOption = "0.8,0.1,0.1",
    seed: SeedOption = 0,
    text_column: TextColumnOption = "text",
    label_column: LabelColumnOption = "label",
    base: Annotated[str, typer.Option("--base", help="Model whose chat template and tokenizer measure length.")] = "smollm2-135m",
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Exclude conversations longer than this.")] = 2048,
    min_per_label: Annotated[int, typer.Option("--min-per-label", help="Exclude labels with fewer rows.")] = 1,
    as_json: JsonOption = False,
) -> None:
    """Validate, de-duplicate and split a training set; bad rows are reported by line and left out."""
    from ragtune.tune.prepare import write_prepared

    try:
        data = _load_data(source, _kind(data_format), split, seed, text_column, label_column, max_tokens, base, min_per_label)
        write_prepared(data, out)
    except (RagtuneError, OSError) as exc:
        raise _fail(str(exc)) from None
    manifest = data.manifest()
    if as_json:
        print(json.dumps(manifest, indent=2, ensure_ascii=False))
        return
    _print_excluded(data)
    rows = manifest["splits"]
    console.print(f"[bold]{data.kind}[/] data from {source}: "
                  + ", ".join(f"{name} {info['rows']}" for name, info in rows.items())
                  + f"; {data.duplicates} duplicate(s) removed, {len(data.errors)} row(s) excluded", highlight=False)
    if "tokens" in data.stats:
        t = data.stats["tokens"]
        console.print(f"tokens per example: min {t['min']}, median {t['median']:g}, p95 {t['p95']}, max {t['max']}")
    if data.labels:
        console.print(f"{len(data.labels)} labels")
    console.print(f"sha256 {manifest['sha256']}\nwritten to {out}", highlight=False)


def _training_output():  # type: ignore[no-untyped-def]
    """Trainers print their log lines to stdout; they belong on stderr, beside the progress bars,
    so stdout carries only the result (and --json stays parseable)."""
    import contextlib
    import sys

    return contextlib.redirect_stdout(sys.stderr)


def _print_entry(entry, header: str = "registered") -> None:  # type: ignore[no-untyped-def]
    console.print(f"[bold green]{header}[/] {entry.ref} ({entry.kind}, {entry.stage})", highlight=False)
    metrics = ", ".join(f"{k} {v}" for k, v in entry.metrics.items() if not isinstance(v, (list, dict)))
    if metrics:
        console.print(f"held-out: {metrics}", highlight=False)
    console.print(f"trained in {entry.training_seconds:.0f} s · data sha256 {entry.data.get('sha256', '')[:12]} · "
                  f"promote with: ragtune models promote {entry.ref}", highlight=False)


@tune_app.command("lora")
def lora_command(
    data: Annotated[Path, typer.Option("--data", "-d", help="A prepared folder or a chat/instruction JSONL file.")],
    name: NameOption,
    base: Annotated[str, typer.Option("--base", help="Bundled LLM, .gguf file or HF model folder.")] = "smollm2-135m",
    rank: Annotated[int, typer.Option("--rank", "-r", min=1)] = 16,
    alpha: Annotated[float, typer.Option("--alpha")] = 32.0,
    epochs: Annotated[float, typer.Option("--epochs")] = 3.0,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Stop after this many steps (-1: all epochs).")] = -1,
    learning_rate: Annotated[float, typer.Option("--lr")] = 5e-4,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 4,
    accumulation: Annotated[int, typer.Option("--grad-accum", min=1)] = 1,
    max_length: Annotated[int, typer.Option("--max-length", help="Tokens per example; longer ones are cut.")] = 512,
    precision: Annotated[str, typer.Option("--precision", help="auto, fp32 or bf16.")] = "auto",
    eval_steps: Annotated[int, typer.Option("--eval-steps", help="Validate and checkpoint every N steps.")] = 20,
    patience: Annotated[int, typer.Option("--patience", help="Early stopping: evaluations without improvement.")] = 3,
    merge: Annotated[bool, typer.Option("--merge", help="Also save the merged model as safetensors.")] = False,
    gguf: Annotated[bool, typer.Option("--gguf/--no-gguf", help="Also write a llama.cpp GGUF adapter.")] = True,
    resume: Annotated[bool, typer.Option("--resume/--restart", help="Continue from the last checkpoint of the same run.")] = True,
    split: SplitOption = "0.8,0.1,0.1",
    seed: SeedOption = 0,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """LoRA fine-tune of a causal LM (PEFT + TRL SFT, loss on the answers only); registers the adapter."""
    from ragtune.tune.api import tune_lora
    from ragtune.tune.lora_config import LoraTuneConfig

    try:
        config = LoraTuneConfig(base=base, rank=rank, alpha=alpha, epochs=epochs, max_steps=max_steps,
                                learning_rate=learning_rate, batch_size=batch_size, gradient_accumulation=accumulation,
                                max_length=max_length, precision=precision, eval_steps=eval_steps,  # type: ignore[arg-type]
                                early_stopping_patience=patience, merge=merge, gguf=gguf, seed=seed)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    try:
        prepared = _load_data(data, None, split, seed, "text", "label", max_length, base)
        if not as_json:
            _print_excluded(prepared)
        with _training_output():
            entry, result = tune_lora(_workspace(workspace), prepared, name, config, resume=resume,
                                      progress=not (quiet or as_json))
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(entry.to_dict(), indent=2, ensure_ascii=False))
        return
    losses = result.losses
    if losses:
        console.print(f"{result.steps} steps on {result.device} ({result.precision}) in {result.train_seconds:.0f} s; "
                      f"training loss {losses[0][1]:.3f} → {losses[-1][1]:.3f}", highlight=False)
    _print_entry(entry)


@tune_app.command("classifier")
def classifier_command(
    train: Annotated[Path, typer.Option("--train", help="A prepared folder, or a CSV/JSONL of text and label.")],
    name: NameOption,
    test: Annotated[Optional[Path], typer.Option("--test", help="Score on this file instead of the test split.")] = None,
    base: Annotated[str, typer.Option("--base", help="Bundled embedder or a local encoder folder.")] = "all-MiniLM-L6-v2",
    method: Annotated[str, typer.Option("--method", help="auto, finetune or setfit.")] = "auto",
    shots: Annotated[Optional[int], typer.Option("--shots", min=1, help="Few-shot: train on N examples per label.")] = None,
    epochs: Annotated[float, typer.Option("--epochs")] = 4.0,
    learning_rate: Annotated[float, typer.Option("--lr")] = 3e-4,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 32,
    baseline: Annotated[bool, typer.Option("--baseline/--no-baseline", help="Also score frozen embeddings.")] = True,
    text_column: TextColumnOption = "text",
    label_column: LabelColumnOption = "label",
    split: SplitOption = "0.8,0.1,0.1",
    seed: SeedOption = 0,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Fine-tune a text classifier (intents, ticket routing); reports accuracy, macro-F1, confusions."""
    from ragtune.tune.api import tune_classifier
    from ragtune.tune.classifier import top_confusions
    from ragtune.tune.classifier_config import ClassifierTuneConfig

    try:
        config = ClassifierTuneConfig(base=base, method=method, shots=shots, epochs=epochs,  # type: ignore[arg-type]
                                      learning_rate=learning_rate, batch_size=batch_size, seed=seed, baseline=baseline)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    try:
        fractions = split if test is None else _no_test_share(split)
        data = _load_data(train, "classification", fractions, seed, text_column, label_column)
        if test is not None:
            held = _load_data(test, "classification", "0,0,1", seed, text_column, label_column)
            data.splits["test"] = held.splits["test"]
            data.source = f"{data.source} + {held.source}"
        if not as_json:
            _print_excluded(data)
        with _training_output():
            entry, result = tune_classifier(_workspace(workspace), data, name, config, progress=not (quiet or as_json))
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(entry.to_dict(), indent=2, ensure_ascii=False))
        return
    console.print(f"{result.method} on {result.train_rows} rows, {len(result.labels)} labels", highlight=False)
    for truth, predicted, count in top_confusions(result.confusion, result.labels):
        console.print(f"  [dim]confused[/] {truth} → {predicted}: {count}", highlight=False)
    _print_entry(entry)


def _no_test_share(split: str) -> str:
    """With --test given, the test share of --split goes to training."""
    from ragtune.tune.prepare import parse_fractions

    train, validation, test = parse_fractions(split)
    return f"{train + test},{validation},0"


@tune_app.command("embedder")
def embedder_command(
    name: NameOption,
    beir: Annotated[Optional[Path], typer.Option("--beir", help="BEIR folder: pairs from its qrels.")] = None,
    beir_split: Annotated[str, typer.Option("--beir-split", help="Qrels split to train on.")] = "train",
    pairs_file: Annotated[Optional[Path], typer.Option("--pairs", help="JSONL of {query, positive} pairs.")] = None,
    generate: Annotated[Optional[int], typer.Option("--generate", min=1, help="Write N questions with the configured LLM.")] = None,
    corpus: Annotated[Optional[list[Path]], typer.Option("--corpus", help="Documents to generate questions from.")] = None,
    base: Annotated[str, typer.Option("--base")] = "all-MiniLM-L6-v2",
    epochs: Annotated[float, typer.Option("--epochs")] = 1.0,
    learning_rate: Annotated[float, typer.Option("--lr")] = 2e-5,
    batch_size: Annotated[int, typer.Option("--batch-size", min=2)] = 32,
    held_out: Annotated[float, typer.Option("--held-out", help="Share of queries scored before/after, not trained on.")] = 0.1,
    reindex: Annotated[Optional[list[Path]], typer.Option("--reindex", help="Re-index these paths with the new embedder.")] = None,
    groups: Annotated[Optional[list[str]], typer.Option("--groups", "-g", help="Groups for --reindex, as at ingest.")] = None,
    seed: SeedOption = 0,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Fine-tune the embedder on (query, passage) pairs with MultipleNegativesRankingLoss."""
    from ragtune.tune.api import reindex as rebuild
    from ragtune.tune.api import tune_embedder
    from ragtune.tune.embedder_config import EmbedderTuneConfig

    ws = _workspace(workspace)
    if sum(x is not None for x in (beir, pairs_file, generate)) != 1:
        raise _fail("give exactly one source of pairs: --beir, --pairs or --generate")
    try:
        config = EmbedderTuneConfig(base=base, epochs=epochs, learning_rate=learning_rate, batch_size=batch_size,
                                    held_out=held_out, seed=seed)
        pairs, source = _embedder_pairs(ws, beir, beir_split, pairs_file, generate, corpus, seed, quiet or as_json)
        with _training_output():
            entry = tune_embedder(ws, pairs, name, config, source=source, progress=not (quiet or as_json))
        report = rebuild(ws, entry.ref, reindex, groups=_split_names(groups)) if reindex else None
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps({**entry.to_dict(), "reindexed": report.to_dict() if report else None}, indent=2, ensure_ascii=False))
        return
    _print_entry(entry)
    if report is not None:
        console.print(f"index rebuilt with {entry.ref}: {report.documents} documents, {report.chunks} chunks; "
                      f"ragtune.toml now has embedder.model = \"{entry.ref}\"", highlight=False)


@tune_app.command("reader")
def reader_command(
    name: Annotated[Optional[str], typer.Argument(help="Registry name of the trained reader.")] = None,
    name_option: Annotated[Optional[str], typer.Option("--name", "-n", help="Same as NAME.")] = None,
    squad: Annotated[Optional[Path], typer.Option("--squad", help="SQuAD-layout JSON: questions, contexts, gold answers.")] = None,
    evalset: Annotated[Optional[Path], typer.Option("--evalset", help="Eval set JSONL with answers and relevant_doc_ids.")] = None,
    corpus: Annotated[Optional[list[Path]], typer.Option(
        "--corpus", help="The eval set's documents (without it: the workspace index, as each question's principal).")] = None,
    beir: Annotated[Optional[Path], typer.Option("--beir", help="BEIR folder: positives from its qrels, BM25 negatives.")] = None,
    beir_split: Annotated[str, typer.Option("--beir-split", help="Qrels split to train on.")] = "train",
    base: Annotated[str, typer.Option("--base", help="Bundled encoder or a local encoder folder.")] = "all-MiniLM-L6-v2",
    negatives: Annotated[int, typer.Option("--negatives", min=1, help="Hard negatives per question.")] = 4,
    negative_depth: Annotated[int, typer.Option(
        "--negative-depth", min=1, help="--beir: negatives come from this many top non-relevant BM25 hits.")] = 30,
    epochs: Annotated[float, typer.Option("--epochs")] = 1.0,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Stop after this many steps (-1: all epochs).")] = -1,
    learning_rate: Annotated[float, typer.Option("--lr")] = 1e-4,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 16,
    max_length: Annotated[int, typer.Option("--max-length", help="Tokens of question + candidate.")] = 256,
    validation: Annotated[float, typer.Option(
        "--validation", help="Share of questions scored before/after, not trained on.")] = 0.1,
    seed: SeedOption = 0,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Train a cross-encoder reader on the bundled MiniLM: it reranks chunks
    (retrieval.rerank_model) and picks the answering sentence (answer.scorer)."""
    from ragtune.tune.api import reader_data, tune_reader
    from ragtune.tune.reader_config import ReaderTuneConfig

    if name and name_option and name != name_option:
        raise _fail(f"two names given: {name!r} and --name {name_option!r}")
    name = name or name_option
    if not name:
        raise _fail("give the reader a name: ragtune tune reader NAME --squad FILE | --evalset FILE | --beir DIR")
    ws = _workspace(workspace)
    try:
        config = ReaderTuneConfig(base=base, negatives=negatives, negative_depth=negative_depth, epochs=epochs, max_steps=max_steps,
                                  learning_rate=learning_rate, batch_size=batch_size, max_length=max_length,
                                  validation=validation, seed=seed)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    try:
        with _status("building training examples", quiet or as_json):
            data = reader_data(ws, config, squad=squad, evalset=evalset, corpus=corpus or (), beir=beir,
                               beir_split=beir_split)
        if not as_json:
            for line in data.skipped[:10]:
                err_console.print(f"[yellow]skipped[/] {line}", highlight=False)
            if len(data.skipped) > 10:
                err_console.print(f"[yellow]… {len(data.skipped) - 10} more question(s) skipped[/]")
            err_console.print(f"{len(data.examples)} question(s) with a positive and up to {negatives} hard negatives",
                              highlight=False)
        with _training_output():
            entry, result = tune_reader(ws, data, name, config, progress=not (quiet or as_json))
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps({**entry.to_dict(), "skipped": data.skipped}, indent=2, ensure_ascii=False))
        return
    console.print(f"{result.train_pairs} pairs from {result.train_questions} questions, {result.steps} steps on "
                  f"{result.device} in {result.train_seconds:.0f} s", highlight=False)
    m = result.metrics
    if "accuracy@1" in m:
        console.print(f"validation ({result.validation_questions} questions): accuracy@1 {m['accuracy@1']:.3f} "
                      f"(untrained bi-encoder {m['accuracy@1_base']:.3f}), MRR {m['mrr']:.3f} ({m['mrr_base']:.3f})",
                      highlight=False)
    _print_entry(entry)
    console.print(f"use it: [retrieval] rerank_model = \"{entry.ref}\" or [answer] scorer = \"{entry.ref}\"",
                  highlight=False, markup=False)


def _embedder_pairs(ws, beir, beir_split, pairs_file, generate, corpus, seed, quiet):  # type: ignore[no-untyped-def]
    from ragtune.tune import embedder_pairs as source

    if beir is not None:
        return source.beir_pairs(beir, beir_split), {"path": str(beir), "split": beir_split}
    if pairs_file is not None:
        pairs, errors = source.jsonl_pairs(pairs_file)
        for error in errors[:20]:
            err_console.print(f"[yellow]excluded[/] {pairs_file}:{error.line}: {error.message}", highlight=False)
        return pairs, {"path": str(pairs_file)}
    if not corpus:
        raise _fail("--generate needs --corpus: the documents to write questions for")
    from ragtune.generate.base import GenerationOptions, Message, complete
    from ragtune.generate.factory import build_llm

    config = ws.load_config()
    passages = source.corpus_passages(corpus, config)
    llm = build_llm(config.llm)
    options = GenerationOptions(max_tokens=64, temperature=0.0)
    try:
        def ask(prompt: str) -> str:
            return complete(llm, [Message("user", prompt)], options).text

        with _status(f"writing {generate} questions with {llm.identity}", quiet):
            pairs = source.generated_pairs(passages, ask, generate, seed)
    finally:
        llm.close()
    return pairs, {"path": ", ".join(str(p) for p in corpus), "generated_by": llm.identity, "passages": len(passages)}


def _status(message: str, quiet: bool):  # type: ignore[no-untyped-def]
    from contextlib import nullcontext

    return nullcontext() if quiet else err_console.status(message)


@models_app.command("list")
def models_list(
    name: Annotated[Optional[str], typer.Argument(help="Only this model's versions.")] = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Registered models: version, kind, stage, base model, data hash and held-out scores."""
    from ragtune.tune.api import registry

    try:
        entries, problems = registry(_workspace(workspace)).list(name)
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    for problem in problems:
        err_console.print(f"[red]warning:[/] {problem}", highlight=False)
    if as_json:
        print(json.dumps([e.to_dict() for e in entries], indent=2, ensure_ascii=False))
    elif not entries:
        console.print("no models registered yet: train one with `ragtune tune lora|classifier|embedder|reader`")
    else:
        table = Table("model", "kind", "stage", "base", "data", "created", "held-out")
        for e in entries:
            scores = ", ".join(f"{k} {v}" for k, v in list(e.metrics.items())[:3] if not isinstance(v, (list, dict)))
            stage = f"[bold green]{e.stage}[/]" if e.stage == "production" else e.stage
            table.add_row(e.ref, e.kind, stage, e.base_model, e.data.get("sha256", "")[:12], e.created_at[:19], scores)
        console.print(table)
    if problems:
        raise typer.Exit(1)


@models_app.command("show")
def models_show(ref: Annotated[str, typer.Argument(help="name@v3, name@production, name@latest or name.")],
                workspace: WorkspaceOption = None) -> None:
    """Everything the registry knows about one version: lineage, metrics, artifacts, stage history."""
    from ragtune.tune.api import registry

    try:
        entry = registry(_workspace(workspace)).get(ref)
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    data = entry.to_dict()
    data["path"] = str(entry.path)
    print(json.dumps(data, indent=2, ensure_ascii=False))


@models_app.command("promote")
def models_promote(
    ref: Annotated[str, typer.Argument(help="The version to promote, e.g. name@v3.")],
    stage: Annotated[str, typer.Option("--stage", help="candidate, production or archived.")] = "production",
    workspace: WorkspaceOption = None,
) -> None:
    """Move a version to a stage; a new production version archives the previous one."""
    from ragtune.tune.api import registry

    try:
        entry, replaced = registry(_workspace(workspace)).promote(ref, stage)
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    console.print(f"{entry.ref} is now {entry.stage}" + (f"; {replaced.ref} archived" if replaced else ""), highlight=False)


@models_app.command("rollback")
def models_rollback(name: Annotated[str, typer.Argument(help="Model name.")], workspace: WorkspaceOption = None) -> None:
    """Put the previous production version back in production (the current one is archived)."""
    from ragtune.tune.api import registry

    try:
        restored, retired = registry(_workspace(workspace)).rollback(name)
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    console.print(f"{restored.ref} is production again; {retired.ref} archived", highlight=False)


@models_app.command("delete")
def models_delete(
    ref: Annotated[str, typer.Argument(help="The version to delete, e.g. name@v1.")],
    force: Annotated[bool, typer.Option("--force", help="Delete even a production version.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Delete a version and its files."""
    from ragtune.tune.api import registry

    try:
        entry = registry(_workspace(workspace)).delete(ref, force=force)
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    console.print(f"deleted {entry.ref}", highlight=False)


def classify_command(
    texts: Annotated[list[str], typer.Argument(help="Text(s) to classify.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Registry reference of a classifier.")],
    top: Annotated[int, typer.Option("--top", min=1, help="Show this many labels per text.")] = 1,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Label text with a fine-tuned classifier from the registry."""
    from ragtune.tune.api import classify

    try:
        entry, predictions = classify(_workspace(workspace), model, texts)
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    rows = []
    for text, prediction in zip(texts, predictions):
        ranked = sorted(prediction.scores.items(), key=lambda kv: -kv[1])[:top]
        rows.append({"text": text, "label": prediction.label, "score": round(prediction.score, 4),
                     "top": [{"label": k, "score": round(v, 4)} for k, v in ranked]})
    if as_json:
        print(json.dumps({"model": entry.ref, "predictions": rows}, indent=2, ensure_ascii=False))
        return
    for row in rows:
        shown = ", ".join(f"{t['label']} {t['score']:.2f}" for t in row["top"])
        console.print(f"[bold]{row['label']}[/]  {shown}  [dim]{row['text']}[/]", highlight=False)
