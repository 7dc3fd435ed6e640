"""The comparison report: one self-contained HTML file (plots as embedded PNG, no network) with
the arms side by side, the paired differences, quality against cost, latency distributions, the
freshness test, the 12-month cost curves and the advisor's recommendation."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ragtune.evaluate.report import STYLE, figure, figure_png, fmt, img_tag, latency_plot
from ragtune.evaluate.runs import EvalRun

COLUMNS = (("exact_match", "EM"), ("f1", "F1"), ("answer_hit", "answer hit"), ("faithfulness", "faithfulness"),
           ("citation_precision", "citation precision"), ("refused", "refusal rate"))


def _summary_table(run: EvalRun) -> str:
    head = "".join(f"<th>{label}</th>" for _, label in COLUMNS)
    rows = []
    for arm, summary in run.summary.items():
        metrics = summary.get("metrics", {})
        total = summary.get("latency_ms", {}).get("total", {})
        training = run.variants[arm].get("training")
        trained = f"{training['seconds']:.0f} s, {training['examples']} examples" if training else "–"
        rows.append(
            f"<tr><td>{html.escape(arm)}</td><td class='text'>{html.escape(str(run.variants[arm].get('model')))}</td>"
            + "".join(f"<td>{fmt(metrics.get(m))}</td>" for m, _ in COLUMNS)
            + f"<td>{fmt(total.get('p50'))}</td><td>{fmt(total.get('p95'))}</td>"
            f"<td>{fmt(summary.get('prompt_tokens'))} / {fmt(summary.get('completion_tokens'))}</td>"
            f"<td>{summary.get('cost_per_1k_queries_usd', 0.0):.4f}</td><td>{trained}</td></tr>"
        )
    return (f"<table id='arms'><tr><th>arm</th><th>model</th>{head}<th>p50 ms</th><th>p95 ms</th>"
            f"<th>tokens in / out</th><th>$ / 1k queries</th><th>training</th></tr>{''.join(rows)}</table>")


BEHAVIOUR_COLUMNS = (("format_valid", "format valid"), ("json_valid", "JSON valid"), ("allowed_values", "allowed values"),
                     ("sections_present", "sections"), ("length_ok", "length ok"), ("style", "style"),
                     ("words", "words"), ("reading_grade", "reading grade"))


def _behaviour_table(run: EvalRun) -> str | None:
    """Format, style and label per arm, with the style score's interval; None when not measured."""
    measured = [(m, label) for m, label in BEHAVIOUR_COLUMNS
                if any(s.get("metrics", {}).get(m) is not None for s in run.summary.values())]
    labelled = any("labels" in s for s in run.summary.values())
    if not measured and not labelled:
        return None
    head = "".join(f"<th>{label}</th>" for _, label in measured)
    head += "<th>label accuracy</th><th>label macro-F1</th>" if labelled else ""
    rows = []
    for arm, summary in run.summary.items():
        metrics, intervals = summary.get("metrics", {}), summary.get("intervals", {})
        cells = []
        for m, _ in measured:
            ci = intervals.get(m)
            cells.append(f"<td>{fmt(metrics.get(m))}" + (f"<br><small>[{ci['low']:.2f}, {ci['high']:.2f}]</small>" if ci else "")
                         + "</td>")
        if labelled:
            labels = summary.get("labels", {})
            cells.append(f"<td>{fmt(labels.get('label_accuracy'))}</td><td>{fmt(labels.get('label_macro_f1'))}</td>")
        rows.append(f"<tr><td>{html.escape(arm)}</td>{''.join(cells)}</tr>")
    style = run.dataset.get("behaviour", {}).get("style")
    note = (f"<p>Style: {html.escape(style['method'])}, {style['house_examples']} house-style and "
            f"{style['neutral_examples']} neutral examples, held-out accuracy {style['held_out_accuracy']:.2f} "
            f"({style['folds']}-fold); 95% bootstrap intervals under the means.</p>" if style else "")
    return f"<table id='behaviour'><tr><th>arm</th>{head}</tr>{''.join(rows)}</table>{note}"


def _paired_table(run: EvalRun) -> str:
    rows = []
    for b, summary in run.summary.items():
        for a, metrics in summary.get("vs", {}).items():
            for metric, d in metrics.items():
                verdict = "differs" if d["low"] > 0 or d["high"] < 0 else "no clear difference"
                rows.append(
                    f"<tr><td>{html.escape(b)} − {html.escape(a)}</td><td>{html.escape(metric)}</td><td>{d['n']}</td>"
                    f"<td>{d['difference']:+.4f}</td><td>[{d['low']:+.4f}, {d['high']:+.4f}]</td>"
                    f"<td>{d['p_value']:.4f}</td><td class='text'>{verdict}</td></tr>"
                )
    if not rows:
        return "<p>One arm only: nothing to pair.</p>"
    return ("<table id='paired'><tr><th>arms</th><th>metric</th><th>questions</th><th>mean difference</th>"
            "<th>95% CI (bootstrap)</th><th>p (randomisation)</th><th></th></tr>" + "".join(rows) + "</table>")


def _quality_cost(run: EvalRun) -> str:
    fig, ax = figure(6, 4)
    for arm, summary in run.summary.items():
        x, y = summary.get("cost_per_1k_queries_usd", 0.0), summary.get("metrics", {}).get("f1") or 0.0
        ax.scatter([x], [y], s=60)
        ax.annotate(arm, (x, y), textcoords="offset points", xytext=(6, 4))
    ax.set_xlabel("$ per 1,000 queries")
    ax.set_ylabel("answer F1")
    ax.set_ylim(0, 1)
    ax.set_title("Quality against cost")
    return figure_png(fig)


def _freshness(run: EvalRun) -> tuple[str, str] | None:
    info = run.dataset.get("freshness")
    if not info:
        return None
    arms = [a for a in run.summary if "freshness" in run.summary[a]]
    fig, ax = figure(max(6, 1.3 * len(arms) + 2), 4)
    import numpy as np

    x = np.arange(len(arms))
    ax.bar(x - 0.2, [run.summary[a]["freshness"]["answered"] for a in arms], 0.4, label="states the new fact")
    ax.bar(x + 0.2, [run.summary[a]["freshness"].get("stale") or 0.0 for a in arms], 0.4, label="states the old fact")
    ax.set_xticks(x, arms)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of changed facts")
    ax.legend(fontsize=8)
    ax.set_title("Freshness: after a document change")
    text = (f"<p>{info['changed_documents']} document(s) changed after training ({html.escape(str(info.get('source', '')))}); "
            f"re-indexing them took <b>{info['reindex_seconds']:.1f} s</b>. {info['questions']} question(s) ask for the "
            "changed facts. A fine-tune only learns them by training again.</p>")
    return text, figure_png(fig)


def _tco(advice: Any) -> str:
    fig, ax = figure(6.5, 4)
    for projection in advice.projections.values():
        months = range(1, len(projection.cumulative) + 1)
        ax.plot(months, projection.cumulative, marker="o", label=projection.approach)
    ax.set_xlabel("month")
    ax.set_ylabel("cumulative cost ($)")
    ax.set_title("12-month total cost of ownership")
    ax.legend(fontsize=8)
    return figure_png(fig)


def _tco_table(advice: Any) -> str:
    """Every approach side by side (extract among them): the projection's totals, p95 and tokens."""
    from ragtune.decide.tco import num, usd

    months = next(iter(advice.projections.values())).months
    rows = []
    for approach, p in advice.projections.items():
        mark = " ◀" if approach == advice.recommendation else ""
        rows.append(f"<tr><td>{html.escape(approach)}{mark}</td><td>{'yes' if approach in advice.allowed else 'no'}</td>"
                    f"<td>{usd(p.monthly_totals[0])}</td><td>{usd(p.monthly_average)}</td><td>{usd(p.total)}</td>"
                    f"<td>{num(round(p.p95_ms))}</td><td>{num(p.prompt_tokens)} / {num(p.completion_tokens)}</td></tr>")
    return (f"<table id='tco'><tr><th>approach</th><th>meets hard constraints</th><th>month 1</th><th>monthly average</th>"
            f"<th>{months}-month total</th><th>p95 ms</th><th>tokens in / out per question</th></tr>{''.join(rows)}</table>")


def _sensitivity_table(advice: Any) -> str:
    """Rows: update cadence (``knowledge_changes``); columns: people's hourly rate; cells: the
    fine-tuning ÷ RAG ratio of the 12-month totals and the cheapest approach; then the finding."""
    s = getattr(advice, "sensitivity", None)
    if s is None:
        return ""
    from ragtune.decide.sensitivity import ratio_text
    from ragtune.decide.tco import num

    head = "".join(f"<th>${num(r)}/h{' ◀' if r == s.hourly_rate_usd else ''}</th>" for r in s.hourly_rates)
    rows = "".join(
        f"<tr><td>{html.escape(c)}{' ◀' if c == s.cadence else ''}</td>"
        + "".join(f"<td>{html.escape(ratio_text(cell.ratio))} {html.escape(cell.cheapest)}</td>" for cell in s.row(c))
        + "</tr>" for c in s.cadences)
    return (f"<p>Sensitivity: fine-tuning ÷ RAG {s.months}-month cost (above 1: fine-tuning costs more) and the "
            f"cheapest of {html.escape(', '.join(s.approaches))}, by update cadence (knowledge_changes) and people's "
            f"hourly rate.</p><table id='sensitivity'><tr><th>knowledge_changes</th>{head}</tr>{rows}</table>"
            f"<p id='finding'>{html.escape(s.finding)}</p>")


def _recommendation(advice: Any) -> str:
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in advice.reasons)
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in advice.warnings)
    return (f"<p id='recommendation'>Recommendation: <b>{html.escape(advice.recommendation)}</b> "
            f"(evidence: {html.escape(advice.evidence)})</p><ul>{reasons}</ul>"
            + (f"<p>Warnings:</p><ul>{warnings}</ul>" if warnings else ""))


def _answers(run: EvalRun, limit: int = 5) -> str:
    arms = list(run.summary)
    first = run.rows_of(arms[0])[:limit]
    header = "".join(f"<th>{html.escape(a)}</th>" for a in arms)
    parts = [f"<table id='answers'><tr><th>question</th><th>gold</th>{header}</tr>"]
    by_arm = {a: {r["query_id"]: r for r in run.rows_of(a)} for a in arms}
    for row in first:
        cells = "".join(f"<td class='text'>{html.escape(by_arm[a].get(row['query_id'], {}).get('answer', ''))}</td>" for a in arms)
        parts.append(f"<tr><td class='text'>{html.escape(row['question'])}</td>"
                     f"<td class='text'>{html.escape(' | '.join(row.get('gold', [])))}</td>{cells}</tr>")
    return "".join(parts) + "</table>"


def render_compare_report(run: EvalRun, path: Path, advice: Any = None) -> Path:
    """``advice``: the advisor's result on this run's measurements (TCO curves, recommendation)."""
    sections = [
        f"<h1>ragtune comparison: {html.escape(str(run.dataset.get('path', '')).rsplit('/', 1)[-1])}</h1>",
        f"<p class='meta'>run <b>{html.escape(run.id)}</b> · {html.escape(run.created)} · {html.escape(run.code)} · "
        f"{run.dataset.get('items')} test questions, {run.dataset.get('train_items', 0)} training questions "
        f"({html.escape(str(run.dataset.get('split', '')))})</p>",
        "<h2>Arms</h2>", _summary_table(run),
    ]
    behaviour = _behaviour_table(run)
    if behaviour is not None:
        sections += ["<h2>Behaviour: format, style, routing</h2>", behaviour]
    sections += [
        "<h2>Paired differences</h2>", _paired_table(run),
        "<h2>Quality against cost</h2>", img_tag(_quality_cost(run), "quality-cost", "F1 against $ per 1,000 queries"),
        "<h2>Latency</h2>", img_tag(latency_plot([(a, run, a) for a in run.summary]), "latency", "latency per arm"),
    ]
    fresh = _freshness(run)
    sections.append("<h2>Freshness</h2>")
    if fresh:
        sections += [fresh[0], img_tag(fresh[1], "freshness", "share of changed facts answered per arm")]
    else:
        sections.append("<p>Not run: give --update-docs (or --freshness N with a SQuAD set).</p>")
    if advice is not None:
        sections += ["<h2>Recommendation</h2>", _recommendation(advice),
                     "<h2>12-month cost</h2>", _tco_table(advice),
                     img_tag(_tco(advice), "tco", "cumulative cost per approach over 12 months"),
                     _sensitivity_table(advice)]
    sections += ["<h2>Sample answers</h2>", _answers(run)]
    head = f"<meta charset='utf-8'><title>ragtune comparison</title><style>{STYLE}</style>"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!doctype html><html><head>{head}</head><body>{''.join(sections)}</body></html>", encoding="utf-8")
    return path
