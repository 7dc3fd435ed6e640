"""FinanceBench (development half): ingest every filing into ONE shared workspace per setting, then
score retrieval by whether the question's evidence page comes back; optionally the answers.

    .venv/bin/python bench/financebench.py --setting pypdf --setting layout --out /tmp/fb.json
    .venv/bin/python bench/financebench.py --setting pypdf --limit-pdfs 3          # quick
    .venv/bin/python bench/financebench.py --setting layout --answers extract,generate
    .venv/bin/python bench/financebench.py --setting 'mine:ingest.pdf.parser=pypdf,retrieval.mode=bm25'
    .venv/bin/python bench/financebench.py --setting pypdf --filings 3M_2018_10K,AMCOR_2023Q4_EARNINGS

A setting is a named set of ragtune.toml overrides (:data:`SETTINGS`; add lines there, or give
``NAME:key=value,key=value`` on the command line). Settings whose index-side overrides
(``ingest``, ``chunking``, ``embedder``, ``index``) agree share one ingest. Each ingest goes into a
fresh workspace under a temporary folder (removed at the end) with the default embedder (bundled
MiniLM, built and warmed before the clock starts) and SQLite, through ``ragtune.ingest.api.ingest``
as ``ragtune ingest`` calls it. Then every question is searched with k=10 in the setting's
``[retrieval]`` configuration.

Scores (a hit's filing is its file name's stem, compared with ``doc_name``):

- ``filing@5``: a top-5 chunk comes from the gold filing;
- ``page@5``, ``page@10``, ``MRR``: a top-k chunk of the gold filing *lies mostly inside* one of the
  question's ``evidence_text_full_page`` texts, and the reciprocal rank of the first such chunk
  (0 beyond 10). Page numbers are never used for this, so loaders that number or cut pages
  differently compare fairly; the calibration printed for every setting checks the measure
  against page numbers (chunks cut from the evidence page should match, chunks of the filing's
  other pages mostly not).

"Lies mostly inside" (:class:`Evidence`): both texts are folded to lower-case letters and digits;
the chunk's distinct words (>= 3 letters) must be found as substrings of the page with every space
removed (so "Cash Flow s", "Cash Flowsfrom" and "Cash Flows" agree), its distinct numbers (>= 2
digits, separators dropped: "1,577" = "1577") among the page's numbers, each side at a share of
at least :data:`MATCH_AT` (0.6 and 0.9 are reported too); and the chunk must not lie as mostly
inside more than :data:`RARE_PAGES` pages of the filing, so boilerplate that lies inside every
statement page does not count.

``--answers`` also runs ``ragtune eval qa``'s scoring (``evaluate_answers``) over the questions
with the extractive reader (``extract``) and/or the bundled generator (``generate``, slow on a
CPU: minutes per question is possible), reporting numeric_match (on the numeric gold answers),
answer_hit, F1 and the seconds per question.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "financebench-dev"

_PYPDF = {"ingest.pdf.parser": "pypdf", "chunking.context_header": False}
_LAYOUT = {"ingest.pdf.parser": "layout", "chunking.context_header": False}
_HEADERS = {"chunking.context_header": True}
SETTINGS: dict[str, dict[str, Any]] = {
    "pypdf": _PYPDF,
    "pypdf+headers": {**_PYPDF, **_HEADERS},
    "layout": _LAYOUT,
    "layout+headers": {**_LAYOUT, **_HEADERS},
    "default": {},  # ragtune.toml's defaults as they are now
    "pypdf-bm25": {**_PYPDF, "retrieval.mode": "bm25"},
    "pypdf-dense": {**_PYPDF, "retrieval.mode": "dense"},
    "layout+headers-bm25": {**_LAYOUT, **_HEADERS, "retrieval.mode": "bm25"},
    "layout+headers-dense": {**_LAYOUT, **_HEADERS, "retrieval.mode": "dense"},
    "layout+headers+hyde": {**_LAYOUT, **_HEADERS, "retrieval.expand": "hyde"},
    "layout+headers+multi": {**_LAYOUT, **_HEADERS, "retrieval.expand": "multi"},
}
"""Setting name -> dotted ragtune.toml overrides (``section.field`` or ``section.sub.field``); what a
setting leaves out is the default (``effective`` in the JSON output records what was used)."""
INDEX_SECTIONS = ("ingest.", "chunking.", "embedder.", "index.")
"""Overrides under these change what is indexed: settings that differ only elsewhere share an ingest."""

K = 10
MATCH_AT = 0.8
"""A chunk lies "mostly inside" a page when this share of its distinct tokens occurs in the page."""
SENSITIVITY = (0.6, 0.9)
"""Other thresholds the page hits are also reported at."""
THRESHOLDS = (SENSITIVITY[0], MATCH_AT, SENSITIVITY[1])
MIN_TOKEN = 3
"""Words shorter than this say nothing about where a chunk comes from."""
MIN_NUMBER = 2
"""Numbers match exactly (not as substrings), so two digits already say something: a table row
"Pension settlements | EBITDA: 8 | EBIT: 8 | Net income: 37" is told from the same row of the next
quarter's table by its numbers alone."""
MIN_TOKENS = 5
"""A chunk with fewer distinct tokens than this (a page number, a lone heading) never matches."""
MIN_SIDE = 3
"""Words or numbers: fewer of them than this in a chunk and that side is not scored on its own."""
RARE_PAGES = 3
"""A chunk lying mostly inside more than this many pages of its filing (pdfium's text layer) is
boilerplate and never counts as evidence: "The accompanying Notes ... are an integral part of this
statement.", a statement's column header "Years ended December 31 (Millions) 2018 2017 2016", a
running header. Three, because a statement's figures legitimately recur (the statement, the MD&A
summary, a note). Judged per chunk: a specific sentence made of common words still counts."""
PRINCIPAL_USER = "bench"
ANSWER_MODES = ("extract", "generate")


# -- the evidence-page measure ----------------------------------------------------------------------

_JOINED_DIGITS = re.compile(r"(?<=\d)[,.](?=\d)")
_ALNUM = re.compile(r"[a-z0-9]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_NUMBER = re.compile(r"(?<![a-z0-9])\d+(?![a-z0-9])")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


class Page:
    """An evidence page as the measure reads it: its letters and digits as one string with every
    space and sign removed, so words a parser broke ("Cash Flow s") or glued are whole again, and
    its numbers as a set (``1,577.00`` -> ``157700``), kept apart so that neighbouring numbers
    glued together ("42 42 2.7" -> "42422.7") cannot contain a chunk's number by accident."""

    __slots__ = ("text", "numbers")

    def __init__(self, text: str) -> None:
        folded = _JOINED_DIGITS.sub("", _fold(text))
        self.text = _NOT_ALNUM.sub("", folded)
        self.numbers = set(_NUMBER.findall(folded))

    def __contains__(self, token: str) -> bool:
        return token in self.numbers if token.isdigit() else token in self.text


def page_key(text: str) -> Page:
    return Page(text)


def chunk_tokens(text: str) -> set[str]:
    """A chunk's distinct words of at least :data:`MIN_TOKEN` characters and numbers of at least
    :data:`MIN_NUMBER` digits, lower case;
    a number's thousands separators and decimal point are dropped (``1,577.00`` -> ``157700``),
    as they are from the page. Distinct, so a table's column years repeated on every row
    (``Net sales | 2022: 34,229 | 2021: 35,355``) count once."""
    return {t for t in _ALNUM.findall(_JOINED_DIGITS.sub("", _fold(text)))
            if len(t) >= (MIN_NUMBER if t.isdigit() else MIN_TOKEN)}


def containment(tokens: set[str], page: Page) -> float:
    """How much of a chunk lies inside ``page``: the share of its words (tokens with a letter)
    found as substrings of the page's text and the share of its numbers among the page's
    numbers, the smaller of the two; a side with fewer than :data:`MIN_SIDE` tokens is left out
    (prose has few numbers). Both count because pages of one filing share most of their words
    (a quarter's and a year's reconciliation table have the same row labels) and differ in their
    numbers. 0 for a chunk with fewer than :data:`MIN_TOKENS` tokens."""
    if len(tokens) < MIN_TOKENS:
        return 0.0
    numbers = [t for t in tokens if t.isdigit()]
    words = [t for t in tokens if not t.isdigit()]
    shares = [sum(1 for t in side if t in page) / len(side) for side in (words, numbers) if len(side) >= MIN_SIDE]
    return min(shares) if shares else sum(1 for t in tokens if t in page) / len(tokens)


def filing_pages(path: Path) -> list[Page]:
    """Every page of a PDF as pdfium reads its text layer: only to tell boilerplate from evidence."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return [Page(page.get_textpage().get_text_range()) for page in pdf]
    finally:
        pdf.close()


class Evidence:
    """Scores chunks of one filing against a question's evidence pages: the chunk's containment in
    the best of them, or 0 when the chunk shares no rare token (:data:`RARE_PAGES`) with that page
    (boilerplate). The filing's pages are only used to count on how many pages a token is."""

    def __init__(self, all_pages: Sequence[Page]) -> None:
        self.all_pages = all_pages
        self._pages_with: dict[str, int] = {}

    def pages_with(self, token: str) -> int:
        if token not in self._pages_with:
            self._pages_with[token] = sum(1 for page in self.all_pages if token in page)
        return self._pages_with[token]

    def boilerplate(self, tokens: set[str]) -> bool:
        """The chunk lies mostly inside more than :data:`RARE_PAGES` pages of its filing: a
        statement's column headers, "The accompanying Notes ... are an integral part", a running
        header. Judged per chunk, not per token: a specific sentence of common words is evidence."""
        if not self.all_pages:
            return False
        inside = 0
        for page in self.all_pages:
            if containment(tokens, page) >= MATCH_AT:
                inside += 1
                if inside > RARE_PAGES:
                    return True
        return False

    def score(self, text: str, evidence_pages: Sequence[Page]) -> tuple[float, float]:
        """(containment, with boilerplate scored 0; raw containment)."""
        tokens = chunk_tokens(text)
        raw = max((containment(tokens, page) for page in evidence_pages), default=0.0)
        best = 0.0 if raw >= THRESHOLDS[0] and self.boilerplate(tokens) else raw
        return best, raw


# -- data ---------------------------------------------------------------------------------------------

def filing_of(source: str) -> str:
    """``/x/y/3M_2018_10K.pdf`` (or a file:// URI) -> ``3M_2018_10K``."""
    name = re.split(r"[/\\]", source.split("#", 1)[0])[-1]
    return name[:-4] if name.lower().endswith(".pdf") else name


def load_questions(data: Path, filings: set[str]) -> list[dict[str, Any]]:
    questions = []
    for line in (data / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q["doc_name"] in filings:
            q["_pages"] = [page_key(e["evidence_text_full_page"]) for e in q["evidence"]
                           if e.get("doc_name", q["doc_name"]) == q["doc_name"]]
            questions.append(q)
    return questions


def parse_setting(spec: str) -> tuple[str, dict[str, Any]]:
    if spec in SETTINGS:
        return spec, dict(SETTINGS[spec])
    if ":" not in spec:
        sys.exit(f"unknown setting {spec!r}: one of {', '.join(SETTINGS)}, or NAME:key=value,key=value")
    name, _, body = spec.partition(":")
    overrides: dict[str, Any] = {}
    for pair in filter(None, body.split(",")):
        key, _, raw = pair.partition("=")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        overrides[key.strip()] = value
    return name, overrides


def index_key(overrides: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in sorted(overrides.items()) if k.startswith(INDEX_SECTIONS)}, sort_keys=True)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# -- one ingest ----------------------------------------------------------------------------------------

def run_ingest(workspace_root: Path, pdfs: list[Path], config: Any, embedder: Any) -> tuple[dict[str, Any], dict[str, list]]:
    """Ingest ``pdfs``; return the timing row and every stored chunk per filing (text, page, page_end)."""
    from ragtune.index.factory import build_store
    from ragtune.ingest.api import ingest
    from ragtune.workspace import Workspace

    workspace = Workspace(workspace_root)
    workspace.init()
    started = time.perf_counter()
    report = ingest(workspace, pdfs, config=config, embedder=embedder)
    seconds = time.perf_counter() - started
    failed = [(s.source, s.reason) for s in report.sources if s.status in ("failed", "partial")]
    chunks: dict[str, list] = {}
    pages = 0
    store = build_store(workspace, config, embedder)
    try:
        for batch in store.writes():
            for write in batch:
                pages += int(write.document.metadata.get("pages") or 0)
                chunks.setdefault(filing_of(write.document.source), []).extend(
                    (c.text, c.page, c.page_end) for c in write.chunks)
    finally:
        store.close()
    n_chunks = sum(len(v) for v in chunks.values())
    row = {
        "files": len(pdfs), "files_failed": failed, "documents": report.documents, "pages": pages, "chunks": n_chunks,
        "seconds": round(seconds, 1), "pages_per_s": round(pages / seconds, 2), "chunks_per_s": round(n_chunks / seconds, 1),
        "mean_chunk_words": round(sum(len(t.split()) for v in chunks.values() for t, _, _ in v) / max(n_chunks, 1), 1),
    }
    return row, chunks


def calibrate(questions: list[dict[str, Any]], chunks: Mapping[str, list], evidence: Mapping[str, Evidence]) -> dict[str, Any]:
    """Match rates of stored chunks against each evidence page, by where the loader says the
    chunk is: on that page (``page == evidence_page_num + 1``, one page only), on a page next to
    it, or on another page of the same filing; with boilerplate scored 0 (as retrieval is scored)
    and, beside it, raw containment."""
    seen: set[tuple[str, int]] = set()
    groups: dict[str, list[tuple[float, float]]] = {"evidence page": [], "adjacent page": [], "other pages": []}
    for q in questions:
        evidence_pages = {e["evidence_page_num"] + 1 for e in q["evidence"]}
        scorer = evidence.get(q["doc_name"]) or Evidence([])
        for e in q["evidence"]:
            key = (q["doc_name"], e["evidence_page_num"])
            if key in seen:
                continue
            seen.add(key)
            page = [page_key(e["evidence_text_full_page"])]
            target = e["evidence_page_num"] + 1
            for text, first, last in chunks.get(q["doc_name"], []):
                if first is None:
                    continue
                last = last or first
                if first == last == target:
                    group = "evidence page"
                elif first <= target <= last:
                    continue  # straddles the evidence page: partly inside, neither group
                elif min(abs(first - target), abs(last - target)) == 1:
                    group = "adjacent page"
                elif not any(first <= p <= last for p in evidence_pages):
                    group = "other pages"
                else:
                    continue
                groups[group].append(scorer.score(text, page))
    out: dict[str, Any] = {"pages": len(seen)}
    for group, values in groups.items():
        row: dict[str, Any] = {"chunks": len(values)}
        for t in THRESHOLDS:
            row[f"match@{t}"] = round(sum(v[0] >= t for v in values) / len(values), 4) if values else None
        row[f"raw match@{MATCH_AT}"] = round(sum(v[1] >= MATCH_AT for v in values) / len(values), 4) if values else None
        row["boilerplate"] = round(sum(v[1] >= MATCH_AT > v[0] for v in values) / len(values), 4) if values else None
        out[group] = row
    return out


# -- retrieval -------------------------------------------------------------------------------------------

def run_retrieval(workspace_root: Path, config: Any, embedder: Any, questions: list[dict[str, Any]],
                  evidence: Mapping[str, Evidence]) -> dict[str, Any]:
    from ragtune.retrieve.api import open_retriever
    from ragtune.types import Principal
    from ragtune.workspace import Workspace

    workspace = Workspace(workspace_root)
    retriever = open_retriever(workspace, config, embedder)
    if getattr(config.retrieval, "expand", "off") != "off":
        from ragtune.generate.expand import attach_expander

        attach_expander(retriever, config.llm)
    principal = Principal(PRINCIPAL_USER)
    thresholds = THRESHOLDS
    rows = []
    try:
        for q in questions:
            begun = time.perf_counter()
            hits = retriever.search(q["question"], principal, k=K).hits
            seconds = time.perf_counter() - begun
            ranked = []
            scorer = evidence.get(q["doc_name"]) or Evidence([])
            for hit in hits[:K]:
                gold = filing_of(hit.source) == q["doc_name"]
                scored, raw = scorer.score(hit.text, q["_pages"]) if gold else (0.0, 0.0)
                ranked.append({"filing": filing_of(hit.source), "page": hit.page, "gold_filing": gold,
                               "containment": round(scored, 3), "raw_containment": round(raw, 3)})
            row: dict[str, Any] = {"id": q["financebench_id"], "doc_name": q["doc_name"],
                                   "evidence_pages": [e["evidence_page_num"] + 1 for e in q["evidence"]],
                                   "ms": round(seconds * 1000, 1), "top": ranked}
            row["filing@5"] = float(any(r["gold_filing"] for r in ranked[:5]))
            for t in thresholds:
                first = next((i for i, r in enumerate(ranked) if r["containment"] >= t), None)
                row[f"rank@{t}"] = None if first is None else first + 1
            rows.append(row)
    finally:
        retriever.close()
        expander = getattr(retriever, "expander", None)
        if expander is not None and hasattr(expander, "close"):
            expander.close()
    n = len(rows)
    summary: dict[str, Any] = {"questions": n, "filing@5": sum(r["filing@5"] for r in rows) / n}
    for t in thresholds:
        ranks = [r[f"rank@{t}"] for r in rows]
        suffix = "" if t == MATCH_AT else f" (≥{t})"
        summary[f"page@5{suffix}"] = sum(1 for x in ranks if x is not None and x <= 5) / n
        summary[f"page@10{suffix}"] = sum(1 for x in ranks if x is not None) / n
        summary[f"MRR{suffix}"] = sum(1 / x for x in ranks if x is not None) / n
    # What scoring boilerplate 0 changed: page@10 with raw containment.
    summary["page@10 raw"] = sum(1 for r in rows if any(h["raw_containment"] >= MATCH_AT for h in r["top"])) / n
    latencies = [r["ms"] for r in rows]
    summary["p50_ms"] = round(statistics.median(latencies), 1)
    summary["p95_ms"] = round(_percentile(latencies, 0.95), 1)
    return {"summary": summary, "rows": rows}


# -- answers ---------------------------------------------------------------------------------------------

def run_answers(workspace_root: Path, config: Any, questions: list[dict[str, Any]], mode: str, threads: int,
                max_tokens: int) -> dict[str, Any]:
    from ragtune.evaluate.answer_metrics import numeric_answer
    from ragtune.evaluate.items import EvalItem
    from ragtune.evaluate.qa_eval import evaluate_answers
    from ragtune.generate.api import close_assistant, open_assistant
    from ragtune.types import Principal
    from ragtune.workspace import Workspace

    config = config.model_copy(deep=True)
    config.answer.mode = mode
    config.llm.threads = threads
    config.llm.max_tokens = max_tokens
    items = [EvalItem(q["financebench_id"], q["question"], (q["answer"],), {f"{q['doc_name']}.pdf": 1}) for q in questions]
    assistant = open_assistant(Workspace(workspace_root), config)
    started = time.perf_counter()
    try:
        rows = evaluate_answers(assistant, items, mode, config, Principal(PRINCIPAL_USER))
    finally:
        close_assistant(assistant)
    wall = time.perf_counter() - started
    per_question = [r["timings_ms"].get("total", 0.0) / 1000 for r in rows]

    def mean(name: str, subset: Iterable[dict[str, Any]] = rows) -> tuple[float | None, int]:
        values = [r["metrics"].get(name) for r in subset if r["metrics"].get(name) is not None]
        return (sum(values) / len(values) if values else None), len(values)

    numeric, n_numeric = mean("numeric_match")
    summary = {
        "mode": mode, "questions": len(rows), "numeric_questions": n_numeric, "numeric_match": numeric,
        "answer_hit": mean("answer_hit")[0], "f1": mean("f1")[0], "context_hit": mean("context_hit")[0],
        "refused": mean("refused")[0], "s_per_question_mean": round(sum(per_question) / len(rows), 2),
        "s_per_question_p50": round(statistics.median(per_question), 2),
        "s_per_question_p95": round(_percentile(per_question, 0.95), 2), "wall_s": round(wall, 1),
    }
    out_rows = [{"id": r["query_id"], "gold": r["gold"][0], "answer": r["answer"],
                 "numeric_gold": numeric_answer(r["gold"][0]) is not None, "metrics": r["metrics"],
                 "s": round(r["timings_ms"].get("total", 0.0) / 1000, 2)} for r in rows]
    return {"summary": summary, "rows": out_rows}


# -- output ----------------------------------------------------------------------------------------------

def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print(f"\n{title}")
    print("| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths))) + " |")


def print_misses(name: str, result: dict[str, Any]) -> None:
    misses = [r for r in result["rows"] if r[f"rank@{MATCH_AT}"] is None]
    print(f"\n{name}: evidence page not in the top {K} for {len(misses)} of {len(result['rows'])} questions")
    for r in misses:
        gold_ranks = [i + 1 for i, h in enumerate(r["top"]) if h["gold_filing"]]
        best = max((h["containment"] for h in r["top"] if h["gold_filing"]), default=None)
        top1 = r["top"][0]["filing"] if r["top"] else "-"
        print(f"  {r['id']:<22} {r['doc_name']:<34} gold-filing ranks {gold_ranks or '-'}; best containment "
              f"{_fmt(best)}; top-1 {top1}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--setting", action="append", dest="settings", metavar="NAME",
                        help=f"repeatable: {', '.join(SETTINGS)}, or NAME:key=value,key=value (default: pypdf)")
    parser.add_argument("--limit-pdfs", type=int, default=None, help="only the first N filings (by name) and their questions")
    parser.add_argument("--filings", default=None, metavar="STEMS", help="only these filings (comma-separated file stems)")
    parser.add_argument("--answers", default=None, metavar="MODES", help="also answer: extract, generate or extract,generate")
    parser.add_argument("--answer-limit", type=int, default=None, help="answer only the first N questions")
    parser.add_argument("--threads", type=int, default=2, help="LLM threads for --answers generate")
    parser.add_argument("--max-tokens", type=int, default=128, help="LLM answer tokens for --answers generate")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--show-misses", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    if not (args.data / "questions.jsonl").is_file():
        print(f"skipped: FinanceBench not found at {args.data} (the shared data sets live beside the repository)")
        return 0
    settings = dict(parse_setting(s) for s in (args.settings or ["pypdf"]))
    answer_modes = [m.strip() for m in (args.answers or "").split(",") if m.strip()]
    if any(m not in ANSWER_MODES for m in answer_modes):
        sys.exit(f"--answers: one or more of {', '.join(ANSWER_MODES)}")

    from ragtune.config import RagtuneConfig
    from ragtune.embed.factory import build_embedder
    from ragtune.evaluate.variants import apply_overrides

    pdfs = sorted((args.data / "pdfs").glob("*.pdf"))
    if args.filings:
        wanted = {f.strip() for f in args.filings.split(",")}
        pdfs = [p for p in pdfs if p.stem in wanted]
    pdfs = pdfs[: args.limit_pdfs]
    questions = load_questions(args.data, {p.stem for p in pdfs})
    print(f"{len(pdfs)} filings, {len(questions)} questions; settings: "
          + "; ".join(f"{n} {o}" for n, o in settings.items()), flush=True)
    configs = {name: apply_overrides(RagtuneConfig(), overrides) for name, overrides in settings.items()}
    evidence = {p.stem: Evidence(filing_pages(p)) for p in pdfs if any(q["doc_name"] == p.stem for q in questions)}
    embedder = build_embedder(RagtuneConfig().embedder)  # loads (and if needed exports) before any clock starts
    embedder.embed(["warm up"])
    results: dict[str, Any] = {}

    def write_out() -> None:  # after every setting, so a long run that is stopped keeps what it measured
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({
                "data": str(args.data), "filings": len(pdfs), "questions": len(questions), "k": K, "match_at": MATCH_AT,
                "command": " ".join(sys.argv), "settings": results}, indent=1), encoding="utf-8")

    tmp = Path(tempfile.mkdtemp(prefix="ragtune-financebench-"))
    try:
        groups: dict[str, list[str]] = {}
        for name, overrides in settings.items():
            groups.setdefault(index_key(overrides), []).append(name)
        for number, names in enumerate(groups.values()):
            config = configs[names[0]]
            setting_embedder = embedder
            if config.embedder != RagtuneConfig().embedder:  # a setting with its own embedder: warm it too
                setting_embedder = build_embedder(config.embedder)
                setting_embedder.embed(["warm up"])
            root = tmp / f"ws{number}"
            print(f"\ningest for {', '.join(names)} ...", flush=True)
            ingest_row, chunks = run_ingest(root, pdfs, config, setting_embedder)
            print(f"  {json.dumps(ingest_row)}", flush=True)
            calibration = calibrate(questions, chunks, evidence)
            print(f"  calibration (containment of stored chunks in the evidence page text, by the chunk's page): "
                  f"{json.dumps(calibration)}", flush=True)
            for name in names:
                retrieval = run_retrieval(root, configs[name], setting_embedder, questions, evidence)
                effective = configs[name].model_dump(mode="json", by_alias=True)
                results[name] = {"overrides": settings[name], "effective": {
                    "ingest.pdf": effective["ingest"].get("pdf"), "chunking": effective["chunking"],
                    "retrieval": effective["retrieval"], "embedder": effective["embedder"]["model"]},
                                 "ingest": ingest_row, "calibration": calibration,
                                 "retrieval": retrieval["summary"], "questions": retrieval["rows"]}
                shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in retrieval["summary"].items()}
                print(f"  {name}: {json.dumps(shown, ensure_ascii=False)}", flush=True)
                write_out()
                if args.show_misses:
                    print_misses(name, retrieval)
                for mode in answer_modes:
                    print(f"  answering ({mode}) ...", flush=True)
                    answered = run_answers(root, configs[name], questions[: args.answer_limit], mode, args.threads,
                                           args.max_tokens)
                    results[name].setdefault("answers", {})[mode] = answered
                    write_out()
                    print(f"  {name} {mode}: {json.dumps(answered['summary'])}", flush=True)
                    for r in answered["rows"]:
                        if r["numeric_gold"]:
                            mark = "✓" if r["metrics"].get("numeric_match") else "✗"
                            print(f"    {mark} {r['id']:<22} gold {r['gold']!r:<12} {r['s']:>6.1f} s  got {r['answer'][:90]!r}")
            shutil.rmtree(root, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    cal_cols = ["setting", "chunks on ev. page", f"match@{MATCH_AT}", "raw", "chunks other pages", f"false@{MATCH_AT}",
                "raw", f"adjacent false@{MATCH_AT}", "raw"]
    print_table(f"calibration: stored chunks whose page is the evidence page (should match) or another page of the "
                f"filing (should not), match = containment ≥ {MATCH_AT}; raw = boilerplate not excluded; page numbers "
                f"are used here only", cal_cols, [
        [n, c["evidence page"]["chunks"], c["evidence page"][f"match@{MATCH_AT}"], c["evidence page"][f"raw match@{MATCH_AT}"],
         c["other pages"]["chunks"], c["other pages"][f"match@{MATCH_AT}"], c["other pages"][f"raw match@{MATCH_AT}"],
         c["adjacent page"][f"match@{MATCH_AT}"], c["adjacent page"][f"raw match@{MATCH_AT}"]]
        for n, c in ((n, r["calibration"]) for n, r in results.items())])
    columns = ["setting", "ingest s", "pages/s", "chunks", "chunks/s", "filing@5", "page@5", "page@10", "MRR",
               "page@10 raw", "p50 ms", "p95 ms"]
    print_table(f"FinanceBench dev: {len(pdfs)} filings in one workspace, {len(questions)} questions, k={K}, "
                f"evidence match at containment ≥ {MATCH_AT}", columns, [
        [n, r["ingest"]["seconds"], r["ingest"]["pages_per_s"], r["ingest"]["chunks"], r["ingest"]["chunks_per_s"],
         r["retrieval"]["filing@5"], r["retrieval"]["page@5"], r["retrieval"]["page@10"], r["retrieval"]["MRR"],
         r["retrieval"]["page@10 raw"], r["retrieval"]["p50_ms"], r["retrieval"]["p95_ms"]] for n, r in results.items()])
    sens = [f"page@{k} (≥{t})" for t in SENSITIVITY for k in (5, 10)]
    print_table("sensitivity of the evidence-page hits to the containment threshold", ["setting", *sens],
                [[n, *(r["retrieval"][c] for c in sens)] for n, r in results.items()])
    if answer_modes:
        acols = ["setting", "mode", "numeric_match", "numeric n", "answer_hit", "f1", "context_hit", "refused",
                 "s/q mean", "s/q p95"]
        print_table("answers", acols, [
            [n, m, a["summary"]["numeric_match"], a["summary"]["numeric_questions"], a["summary"]["answer_hit"],
             a["summary"]["f1"], a["summary"]["context_hit"], a["summary"]["refused"],
             a["summary"]["s_per_question_mean"], a["summary"]["s_per_question_p95"]]
            for n, r in results.items() for m, a in r.get("answers", {}).items()])
    if args.out:
        write_out()
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
