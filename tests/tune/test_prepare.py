"""Training-data preparation: formats, line-numbered errors, de-duplication, seeded stratified
splits and content hashes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ragtune.errors import LoadError
from ragtune.tune.dataset_formats import detect_kind, read_examples
from ragtune.tune.prepare import load_prepared, load_training_data, parse_fractions, prepare, write_prepared
from tests.test_cli import run


def write_lines(path: Path, lines: list[object]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def chat(question: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}


def test_each_format_is_detected_and_read(tmp_path: Path) -> None:
    chats = write_lines(tmp_path / "c.jsonl", [chat("hi", "hello")])
    instructions = write_lines(tmp_path / "i.jsonl", [{"prompt": "p", "completion": "c"},
                                                      {"instruction": "Translate", "input": "Hallo", "output": "Hello"}])
    labelled = tmp_path / "l.csv"
    labelled.write_text('text,label\n"a, quoted text",x\nother,y\n', encoding="utf-8")
    assert [detect_kind(p) for p in (chats, instructions, labelled)] == ["chat", "instruction", "classification"]
    read = read_examples(instructions)
    assert read.examples[1].data == {"prompt": "Translate\n\nHallo", "completion": "Hello"}
    prompt, completion = read.examples[1].conversation()
    assert prompt == [{"role": "user", "content": "Translate\n\nHallo"}] and completion[0]["role"] == "assistant"
    rows = read_examples(labelled).examples
    assert [(e.data["text"], e.label, e.line) for e in rows] == [("a, quoted text", "x", 2), ("other", "y", 3)]


def test_bad_rows_are_reported_by_line_and_the_rest_is_kept(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "chat.jsonl", [
        chat("What is the refund window?", "30 days."),
        "{not json",
        {"messages": [{"role": "user", "content": "no answer"}]},
        {"messages": [{"role": "wizard", "content": "x"}, {"role": "assistant", "content": "y"}]},
        {"messages": [{"role": "user", "content": "  "}, {"role": "assistant", "content": "y"}]},
        [1, 2],
        chat("Do you ship abroad?", "Yes, to the EU."),
    ])
    result = read_examples(path)
    assert len(result.examples) == 2
    messages = {e.line: e.message for e in result.errors}
    assert set(messages) == {2, 3, 4, 5, 6}
    assert "malformed JSON" in messages[2]
    assert "last message must be the assistant" in messages[3]
    assert "messages[0].role" in messages[4] and "wizard" in messages[4]
    assert "messages[0].content' is empty" in messages[5]
    assert "expected a JSON object" in messages[6]


def test_csv_errors_name_the_column_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("text,category\nfine,a\n,b\ntoo,many,fields\n", encoding="utf-8")
    with pytest.raises(LoadError, match="no column 'label'"):
        read_examples(path)
    result = read_examples(path, label_column="category")
    assert [e.data["text"] for e in result.examples] == ["fine"]
    assert {e.line: e.message for e in result.errors} == {3: "field 'text' is empty", 4: "3 fields, the header has 2"}
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,label\ncaf\xe9,a\n".encode("latin-1"))
    with pytest.raises(LoadError, match="not UTF-8"):
        read_examples(latin)


def test_duplicates_are_removed_and_label_conflicts_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("text,label\nMy card is lost,lost\nmy  card is LOST,lost\nMy card is lost,stolen\nwhere is it,track\n")
    data = prepare(path, fractions=(1, 0, 0))
    assert data.duplicates == 1
    assert [e.line for e in data.errors] == [4] and "different label" in data.errors[0].message
    assert sorted(e.data["text"] for e in data.splits["train"]) == ["My card is lost", "where is it"]


def labelled_file(path: Path, counts: dict[str, int], order: int = 1) -> Path:
    rows = [f"text {label} {i},{label}" for label, n in counts.items() for i in range(n)][::order]
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_split_is_stratified_seeded_and_independent_of_row_order(tmp_path: Path) -> None:
    counts = {"a": 50, "b": 30, "c": 10, "d": 3}
    forward = prepare(labelled_file(tmp_path / "f.csv", counts), fractions=(0.8, 0.1, 0.1), seed=7)
    backward = prepare(labelled_file(tmp_path / "b.csv", counts, order=-1), fractions=(0.8, 0.1, 0.1), seed=7)
    assert forward.content_hash == backward.content_hash
    for name in ("train", "validation", "test"):
        assert [e.data for e in forward.splits[name]] == [e.data for e in backward.splits[name]]
    per_split = {name: Counter(e.label for e in rows) for name, rows in forward.splits.items()}
    assert per_split["train"] == {"a": 40, "b": 24, "c": 8, "d": 1}
    assert per_split["validation"] == {"a": 5, "b": 3, "c": 1, "d": 1}  # a 3-row label still reaches every split
    assert per_split["test"] == {"a": 5, "b": 3, "c": 1, "d": 1}
    other_seed = prepare(labelled_file(tmp_path / "f.csv", counts), fractions=(0.8, 0.1, 0.1), seed=8)
    assert other_seed.content_hash != forward.content_hash
    assert forward.stats["labels"]["d"] == {"train": 1, "validation": 1, "test": 1}


def test_over_long_rows_and_rare_labels_are_excluded(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "i.jsonl", [{"prompt": "short", "completion": "ok"},
                                              {"prompt": "long " * 50, "completion": "ok"}])
    data = prepare(path, count_tokens=lambda e: len(e.data["prompt"].split()), max_tokens=10, fractions=(1, 0, 0))
    assert len(data.splits["train"]) == 1
    assert data.errors[0].line == 2 and "50 tokens, longer than the 10-token limit" in data.errors[0].message
    assert data.stats["tokens"]["max"] == 1
    rare = prepare(labelled_file(tmp_path / "r.csv", {"a": 5, "b": 1}), min_per_label=2, fractions=(1, 0, 0))
    assert rare.labels == ["a"] and "fewer than 2" in rare.errors[0].message


def test_nothing_usable_is_an_error_naming_the_reasons(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", [{"prompt": "", "completion": "x"}])
    with pytest.raises(LoadError, match=r"no usable rows: line 1: field 'prompt' is empty"):
        prepare(path)
    with pytest.raises(LoadError, match="three"):
        parse_fractions("0.8,0.2")


def test_prepared_folder_round_trips_and_detects_edits(tmp_path: Path) -> None:
    data = prepare(labelled_file(tmp_path / "t.csv", {"a": 20, "b": 20}), seed=3)
    folder = write_prepared(data, tmp_path / "prepared")
    again = load_prepared(folder)
    assert again.content_hash == data.content_hash and again.kind == "classification"
    assert load_training_data(folder).content_hash == data.content_hash
    with pytest.raises(LoadError, match="holds classification data"):
        load_training_data(folder, "chat")
    with (folder / "train.jsonl").open("a") as handle:
        handle.write(json.dumps({"text": "sneaked in", "label": "a"}) + "\n")
    with pytest.raises(LoadError, match="do not match the sha256"):
        load_prepared(folder)
    with pytest.raises(LoadError, match="not a prepared data set"):
        load_prepared(tmp_path)


def test_data_prepare_command(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "tickets.jsonl", [
        *({"prompt": f"Ticket {i}: my card was declined", "completion": '{"category": "card"}'} for i in range(12)),
        "oops",
    ])
    done = run("data", "prepare", str(path), "--out", str(tmp_path / "out"), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    assert manifest["kind"] == "instruction" and manifest["excluded"][0]["line"] == 13
    assert sum(s["rows"] for s in manifest["splits"].values()) == 12
    assert manifest["stats"]["tokens"]["min"] > 10  # counted with SmolLM2's chat template, system prompt included
    assert json.loads((tmp_path / "out" / "dataset.json").read_text())["sha256"] == manifest["sha256"]
    missing = run("data", "prepare", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "x"), cwd=tmp_path)
    assert missing.returncode == 2 and "nope.jsonl: no such file" in missing.stderr
