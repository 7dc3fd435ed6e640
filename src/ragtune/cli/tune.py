"""``ragtune tune retrieval|lora|classifier|embedder|reader``: tune retrieval per corpus, fine-tune
models and register them. Thin wrappers over ``ragtune.evaluate.tuning`` and ``ragtune.tune``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ragtune.cli.common import (
    BeirOption,
    EvalLimitOption,
    EvalsetOption,
    JsonOption,
    LabelColumnOption,
    QuietOption,
    SampleSeedOption,
    SplitFractionsOption,
    SplitSeedOption,
    TextColumnOption,
    WorkspaceOption,
    build_config,
    console,
    err_console,
    eval_dataset,
    fail,
    load_training_set,
    resolve_workspace,
    split_names,
)
from ragtune.cli.render import print_excluded, progress_display, training_output
from ragtune.errors import RagtuneError
from ragtune.tune.classifier_config import ClassifierTuneConfig
from ragtune.tune.embedder_config import EmbedderTuneConfig
from ragtune.tune.lora_config import LoraTuneConfig
from ragtune.tune.reader_config import ReaderTuneConfig

# Option defaults are the settings models' defaults, stated once there.
LORA = LoraTuneConfig()
CLASSIFIER = ClassifierTuneConfig()
EMBEDDER = EmbedderTuneConfig()
READER = ReaderTuneConfig()

tune_app = typer.Typer(help="Tune ragtune to your data.", no_args_is_help=True)

NameOption = Annotated[str, typer.Option("--name", "-n", help="Registry name of the trained model.")]


def _ints(values: list[str] | None, option: str) -> list[int]:
    try:
        return [int(v) for v in split_names(values)]
    except ValueError:
        raise fail(f"{option} takes whole numbers, e.g. 128,254") from None


@tune_app.command("retrieval")
def tune_retrieval_command(
    beir: BeirOption = None,
    evalset: EvalsetOption = None,
    split: Annotated[str, typer.Option("--split", help="Held-out BEIR split the result is reported on.")] = "test",
    dev_split: Annotated[
        Optional[str], typer.Option("--dev-split", help="BEIR split to tune on; default: half of --split's queries.")
    ] = None,
    metric: Annotated[str, typer.Option("--metric", help="What to maximise.")] = "ndcg@10",
    chunk_tokens: Annotated[
        Optional[list[str]], typer.Option("--chunk-tokens", help="Chunk sizes to try, e.g. 128,254 (re-indexes each).")
    ] = None,
    rerank_depths: Annotated[
        Optional[list[str]],
        typer.Option("--rerank-depths", help="rerank_top_n values to try (needs retrieval.rerank_model)."),
    ] = None,
    search: Annotated[
        Optional[list[str]],
        typer.Option("--search", help="Also search a setting: retrieval.expand (off,hyde,multi; calls [llm] once per "
                                      "question and way), chunking.context_header (false,true; one index per value, "
                                      "--beir only), or retrieval.expand=off,hyde for some values."),
    ] = None,
    limit: EvalLimitOption = None,
    seed: SampleSeedOption = 0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report the winner, leave ragtune.toml alone.")] = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Search fusion mode/weights, chunk size, rerank depth and --search settings (query expansion)
    on a dev split, report the held-out score and write the winner to ragtune.toml."""
    from ragtune.evaluate.data import from_beir
    from ragtune.evaluate.retrieval_metrics import parse_metric
    from ragtune.evaluate.tuning import searched_settings, split_items, tune_retrieval, write_settings

    ws = resolve_workspace(workspace)
    try:
        parse_metric(metric)
        settings = searched_settings(search or [])
        if beir is not None and dev_split:
            dev, test = from_beir(beir, dev_split, limit, seed), from_beir(beir, split, None, seed)
        else:
            dev, test = split_items(eval_dataset(beir, None, evalset, split, limit, seed, ws, "--beir,--evalset"), 0.5, seed)
        with progress_display(not as_json) as (track, on_embedded):
            result = tune_retrieval(ws, dev, test, metric=metric, chunk_sizes=_ints(chunk_tokens, "--chunk-tokens"),
                                    rerank_depths=_ints(rerank_depths, "--rerank-depths"), settings=settings, track=track,
                                    on_embedded=on_embedded)
        if not dry_run:
            write_settings(ws.config_path, dict(result.best.overrides))
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps({"metric": metric, "best": dict(result.best.overrides), "dev": result.dev_scores,
                          "test_configured": result.test_configured, "test_tuned": result.test_tuned,
                          "dev_run": result.dev_run.id, "test_run": result.test_run.id, "written": not dry_run}, indent=2))
        return
    table = Table(title=f"{metric} on the dev queries ({result.dev_run.dataset.get('items')})", title_justify="left")
    table.add_column("setting")
    table.add_column(metric, justify="right")
    for name, value in sorted(result.dev_scores.items(), key=lambda kv: -kv[1]):
        table.add_row(name, f"{value:.4f}", style="bold" if name == result.best.name else None)
    console.print(table)
    console.print(
        f"held-out {metric} ({result.test_run.dataset.get('items')} queries): configured {result.test_configured:.4f} "
        f"→ tuned {result.test_tuned:.4f}; runs {result.dev_run.id}, {result.test_run.id}", highlight=False,
    )
    if dry_run:
        console.print("dry run: ragtune.toml left as it was")
    else:
        written = ", ".join(f"{k} = {v!r}" for k, v in result.best.overrides.items())
        console.print(f"wrote {written} to {ws.config_path}", highlight=False)
        if any(k.startswith("chunking.") for k in result.best.overrides):
            console.print("chunk size changed: re-ingest your documents to apply it (ragtune sync PATH)")


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
    base: Annotated[str, typer.Option("--base", help="Bundled LLM, .gguf file or HF model folder.")] = LORA.base,
    rank: Annotated[int, typer.Option("--rank", "-r", min=1)] = LORA.rank,
    alpha: Annotated[float, typer.Option("--alpha")] = LORA.alpha,
    epochs: Annotated[float, typer.Option("--epochs")] = LORA.epochs,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Stop after this many steps (-1: all epochs).")] = LORA.max_steps,
    learning_rate: Annotated[float, typer.Option("--lr")] = LORA.learning_rate,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = LORA.batch_size,
    accumulation: Annotated[int, typer.Option("--grad-accum", min=1)] = LORA.gradient_accumulation,
    max_length: Annotated[int, typer.Option("--max-length", help="Tokens per example; longer ones are cut.")] = LORA.max_length,
    precision: Annotated[str, typer.Option("--precision", help="auto, fp32 or bf16.")] = LORA.precision,
    eval_steps: Annotated[int, typer.Option("--eval-steps", help="Validate and checkpoint every N steps.")] = LORA.eval_steps,
    patience: Annotated[
        int, typer.Option("--patience", help="Early stopping: evaluations without improvement.")
    ] = LORA.early_stopping_patience,
    merge: Annotated[bool, typer.Option("--merge", help="Also save the merged model as safetensors.")] = LORA.merge,
    gguf: Annotated[bool, typer.Option("--gguf/--no-gguf", help="Also write a llama.cpp GGUF adapter.")] = LORA.gguf,
    resume: Annotated[bool, typer.Option("--resume/--restart", help="Continue from the last checkpoint of the same run.")] = True,
    split: SplitFractionsOption = "0.8,0.1,0.1",
    seed: SplitSeedOption = 0,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """LoRA fine-tune of a causal LM (PEFT + TRL SFT, loss on the answers only); registers the adapter."""
    from ragtune.tune.api import tune_lora

    config = build_config(LoraTuneConfig, "tune lora options", base=base, rank=rank, alpha=alpha, epochs=epochs,
                          max_steps=max_steps, learning_rate=learning_rate, batch_size=batch_size,
                          gradient_accumulation=accumulation, max_length=max_length, precision=precision,
                          eval_steps=eval_steps, early_stopping_patience=patience, merge=merge, gguf=gguf, seed=seed)
    try:
        prepared = load_training_set(data, None, split, seed, "text", "label", max_length, base)
        if not as_json:
            print_excluded(prepared)
        with training_output():
            entry, result = tune_lora(resolve_workspace(workspace), prepared, name, config, resume=resume,
                                      progress=not (quiet or as_json))
    except RagtuneError as exc:
        raise fail(str(exc)) from None
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
    base: Annotated[str, typer.Option("--base", help="Bundled embedder or a local encoder folder.")] = CLASSIFIER.base,
    method: Annotated[str, typer.Option("--method", help="auto, finetune or setfit.")] = CLASSIFIER.method,
    shots: Annotated[
        Optional[int], typer.Option("--shots", min=1, help="Few-shot: train on N examples per label.")
    ] = CLASSIFIER.shots,
    epochs: Annotated[float, typer.Option("--epochs")] = CLASSIFIER.epochs,
    learning_rate: Annotated[float, typer.Option("--lr")] = CLASSIFIER.learning_rate,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = CLASSIFIER.batch_size,
    baseline: Annotated[bool, typer.Option("--baseline/--no-baseline", help="Also score frozen embeddings.")] = CLASSIFIER.baseline,
    text_column: TextColumnOption = "text",
    label_column: LabelColumnOption = "label",
    split: SplitFractionsOption = "0.8,0.1,0.1",
    seed: SplitSeedOption = 0,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Fine-tune a text classifier (intents, ticket routing); reports accuracy, macro-F1, confusions."""
    from ragtune.tune.api import tune_classifier
    from ragtune.tune.classifier import top_confusions

    config = build_config(ClassifierTuneConfig, "tune classifier options", base=base, method=method, shots=shots,
                          epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, seed=seed, baseline=baseline)
    try:
        fractions = split if test is None else _no_test_share(split)
        data = load_training_set(train, "classification", fractions, seed, text_column, label_column)
        if test is not None:
            held = load_training_set(test, "classification", "0,0,1", seed, text_column, label_column)
            data.splits["test"] = held.splits["test"]
            data.source = f"{data.source} + {held.source}"
        if not as_json:
            print_excluded(data)
        with training_output():
            entry, result = tune_classifier(resolve_workspace(workspace), data, name, config, progress=not (quiet or as_json))
    except RagtuneError as exc:
        raise fail(str(exc)) from None
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
    base: Annotated[str, typer.Option("--base")] = EMBEDDER.base,
    epochs: Annotated[float, typer.Option("--epochs")] = EMBEDDER.epochs,
    learning_rate: Annotated[float, typer.Option("--lr")] = EMBEDDER.learning_rate,
    batch_size: Annotated[int, typer.Option("--batch-size", min=2)] = EMBEDDER.batch_size,
    held_out: Annotated[
        float, typer.Option("--held-out", help="Share of queries scored before/after, not trained on.")
    ] = EMBEDDER.held_out,
    reindex: Annotated[Optional[list[Path]], typer.Option("--reindex", help="Re-index these paths with the new embedder.")] = None,
    groups: Annotated[Optional[list[str]], typer.Option("--groups", "-g", help="Groups for --reindex, as at ingest.")] = None,
    seed: SplitSeedOption = 0,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Fine-tune the embedder on (query, passage) pairs with MultipleNegativesRankingLoss."""
    from ragtune.tune.api import reindex as rebuild
    from ragtune.tune.api import tune_embedder

    ws = resolve_workspace(workspace)
    if sum(x is not None for x in (beir, pairs_file, generate)) != 1:
        raise fail("give exactly one source of pairs: --beir, --pairs or --generate")
    config = build_config(EmbedderTuneConfig, "tune embedder options", base=base, epochs=epochs,
                          learning_rate=learning_rate, batch_size=batch_size, held_out=held_out, seed=seed)
    try:
        pairs, source = _embedder_pairs(ws, beir, beir_split, pairs_file, generate, corpus, seed, quiet or as_json)
        with training_output():
            entry = tune_embedder(ws, pairs, name, config, source=source, progress=not (quiet or as_json))
        report = rebuild(ws, entry.ref, reindex, groups=split_names(groups)) if reindex else None
    except RagtuneError as exc:
        raise fail(str(exc)) from None
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
    base: Annotated[str, typer.Option("--base", help="Bundled encoder or a local encoder folder.")] = READER.base,
    negatives: Annotated[int, typer.Option("--negatives", min=1, help="Hard negatives per question.")] = READER.negatives,
    negative_depth: Annotated[int, typer.Option(
        "--negative-depth", min=1, help="--beir: negatives come from this many top non-relevant BM25 hits.")
    ] = READER.negative_depth,
    epochs: Annotated[float, typer.Option("--epochs")] = READER.epochs,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Stop after this many steps (-1: all epochs).")] = READER.max_steps,
    learning_rate: Annotated[float, typer.Option("--lr")] = READER.learning_rate,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = READER.batch_size,
    max_length: Annotated[int, typer.Option("--max-length", help="Tokens of question + candidate.")] = READER.max_length,
    validation: Annotated[float, typer.Option(
        "--validation", help="Share of questions scored before/after, not trained on.")] = READER.validation,
    seed: SplitSeedOption = 0,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Train a cross-encoder reader on the bundled MiniLM: it reranks chunks
    (retrieval.rerank_model) and picks the answering sentence (answer.scorer)."""
    from ragtune.tune.api import reader_data, tune_reader

    if name and name_option and name != name_option:
        raise fail(f"two names given: {name!r} and --name {name_option!r}")
    name = name or name_option
    if not name:
        raise fail("give the reader a name: ragtune tune reader NAME --squad FILE | --evalset FILE | --beir DIR")
    ws = resolve_workspace(workspace)
    config = build_config(ReaderTuneConfig, "tune reader options", base=base, negatives=negatives,
                          negative_depth=negative_depth, epochs=epochs, max_steps=max_steps, learning_rate=learning_rate,
                          batch_size=batch_size, max_length=max_length, validation=validation, seed=seed)
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
        with training_output():
            entry, result = tune_reader(ws, data, name, config, progress=not (quiet or as_json))
    except RagtuneError as exc:
        raise fail(str(exc)) from None
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
        raise fail("--generate needs --corpus: the documents to write questions for")
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
