"""One self-contained HTML file per evaluation: summary tables and matplotlib plots embedded as
PNG (no network, no JavaScript), plus the worst queries with the chunks they retrieved."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragtune.evaluate.runs import EvalRun

PRIMARY = {"retrieval": "ndcg@10", "qa": "f1", "compare": "f1"}
WORST_SHOWN = 10

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right;vertical-align:top}
th:first-child,td:first-child,td.text{text-align:left}
img.plot{max-width:100%;border:1px solid #eee;margin:.5em 0}
.hit{font-size:.85em;color:#555}.relevant{color:#0a6b2d;font-weight:600}
.meta{color:#666;font-size:.9em}
"""


def figure(width: float, height: float) -> tuple[Any, Any]:
    """A figure without pyplot: no GUI backend, no global state, safe in a server thread."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def figure_png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def img_tag(png: str, name: str, alt: str) -> str:
    return f'<img class="plot" id="plot-{name}" alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'


def _variants(runs: Sequence[EvalRun]) -> list[tuple[str, EvalRun, str]]:
    """(label, run, variant) for every variant of every run; labels carry the run id when
    several runs are reported together."""
    many = len(runs) > 1
    return [(f"{run.id}: {v}" if many else v, run, v) for run in runs for v in run.variants]


def _metric_bars(entries: list[tuple[str, EvalRun, str]]) -> str:
    import numpy as np

    names = list(dict.fromkeys(m for _, run, v in entries for m, x in run.summary[v]["metrics"].items() if x is not None))
    fig, ax = figure(max(6, 1.2 * len(names) + 2), 4)
    width = 0.8 / max(len(entries), 1)
    for i, (label, run, v) in enumerate(entries):
        values = [run.summary[v]["metrics"].get(m) or 0.0 for m in names]
        ax.bar(np.arange(len(names)) + i * width, values, width, label=label)
    ax.set_xticks(np.arange(len(names)) + width * (len(entries) - 1) / 2, names, rotation=20)
    ax.set_ylim(0, 1)
    ax.set_ylabel("mean over queries")
    ax.legend(fontsize=8)
    ax.set_title("Metrics per variant")
    return figure_png(fig)


def latency_plot(entries: list[tuple[str, EvalRun, str]]) -> str:
    fig, ax = figure(max(6, 1.5 * len(entries) + 2), 4)
    data = [[r["timings_ms"].get("total", 0.0) for r in run.rows_of(v)] for _, run, v in entries]
    ax.boxplot(data, showfliers=True)
    ax.set_xticks(range(1, len(entries) + 1), [label for label, _, _ in entries], rotation=20)
    ax.set_ylabel("end-to-end latency per query (ms)")
    ax.set_title("Latency distribution")
    return figure_png(fig)


def _recall_curve(entries: list[tuple[str, EvalRun, str]]) -> str | None:
    curves = [(label, run.summary[v].get("recall_curve")) for label, run, v in entries]
    curves = [(label, c) for label, c in curves if c]
    if not curves:
        return None
    fig, ax = figure(6, 4)
    for label, curve in curves:
        ks = [int(k) for k in curve]
        ax.plot(ks, [curve[str(k)] for k in ks], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("k (retrieved documents)")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("Recall at k")
    return figure_png(fig)


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return html.escape(str(value))


def _summary_table(entries: list[tuple[str, EvalRun, str]]) -> str:
    names = list(dict.fromkeys(m for _, run, v in entries for m in run.summary[v]["metrics"]))
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for label, run, v in entries:
        s = run.summary[v]
        total = s["latency_ms"].get("total", {})
        cells = "".join(f"<td>{fmt(s['metrics'].get(n))}</td>" for n in names)
        tokens = f"{fmt(s.get('prompt_tokens'))} / {fmt(s.get('completion_tokens'))}" if "prompt_tokens" in s else "–"
        rows.append(
            f"<tr><td>{html.escape(label)}</td><td>{s['queries']}</td>{cells}<td>{fmt(total.get('p50'))}</td>"
            f"<td>{fmt(total.get('p95'))}</td><td>{tokens}</td><td>{s['cost_per_1k_queries_usd']:.4f}</td></tr>"
        )
    return (
        f"<table id='summary'><tr><th>variant</th><th>queries</th>{head}<th>p50 ms</th><th>p95 ms</th>"
        f"<th>tokens in / out</th><th>$ / 1k queries</th></tr>{''.join(rows)}</table>"
    )


def _worst_queries(run: EvalRun, variant: str) -> str:
    metric = PRIMARY.get(run.kind, "")
    scored = [r for r in run.rows_of(variant) if r["metrics"].get(metric) is not None]
    worst = sorted(scored, key=lambda r: (r["metrics"][metric], r["query_id"]))[:WORST_SHOWN]
    parts = [f"<h3>{html.escape(variant)}: lowest {html.escape(metric)}</h3><table class='worst'>"
             f"<tr><th>query</th><th>{html.escape(metric)}</th><th>relevant</th><th>top retrieved chunks</th></tr>"]
    for row in worst:
        hits = "".join(
            f"<div class='hit{' relevant' if h['relevant'] else ''}'>{html.escape(h['document'])} "
            f"({h['score']}): {html.escape(h['text'][:200])}</div>"
            for h in row.get("top", [])
        )
        answer = f"<div class='hit'>answer: {html.escape(row['answer'])}</div>" if "answer" in row else ""
        parts.append(
            f"<tr><td class='text'>{html.escape(row['question'])}{answer}</td><td>{row['metrics'][metric]:.3f}</td>"
            f"<td class='text'>{html.escape(', '.join(row.get('relevant', [])))}</td><td class='text'>{hits}</td></tr>"
        )
    parts.append("</table>")
    return "".join(parts)


def render_report(runs: Sequence[EvalRun], path: Path) -> Path:
    entries = _variants(runs)
    first = runs[0]
    meta = "".join(
        f"<p class='meta'>run <b>{html.escape(r.id)}</b> ({html.escape(r.kind)}) · {html.escape(r.created)} · "
        f"{html.escape(r.code)} · data {html.escape(str(r.dataset.get('path')))} "
        f"(sha256 {html.escape(str(r.dataset.get('sha256', ''))[:12])}, {r.dataset.get('items')} questions)</p>"
        for r in runs
    )
    plots = [img_tag(_metric_bars(entries), "metrics", "mean metric per variant"),
             img_tag(latency_plot(entries), "latency", "latency distribution per variant")]
    curve = _recall_curve(entries)
    if curve:
        plots.append(img_tag(curve, "recall", "recall at k per variant"))
    worst = "".join(_worst_queries(run, v) for _, run, v in entries)
    body = (
        f"<h1>ragtune evaluation: {html.escape(first.dataset.get('path', '').rsplit('/', 1)[-1])}</h1>{meta}"
        f"<h2>Summary</h2>{_summary_table(entries)}<h2>Plots</h2>{''.join(plots)}<h2>Worst queries</h2>{worst}"
    )
    head = f"<meta charset='utf-8'><title>ragtune evaluation</title><style>{STYLE}</style>"
    page = f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
