"""``ragtune advise``: recommend prompting, RAG, extractive answers, fine-tuning or both from a
questionnaire, with a 12-month cost projection of each. A thin wrapper over ``ragtune.decide.advisor``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional, get_args

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from ragtune.cli.common import JsonOption, WorkspaceOption, console, err_console, fail, resolve_workspace
from ragtune.config import RagtuneConfig
from ragtune.decide.advisor import Advice, Measured, advise, latest_compare_run, measured_from_run
from ragtune.decide.advisor_config import Questionnaire, load_questionnaire, workspace_cost_model
from ragtune.decide.sensitivity import Sensitivity, ratio_text
from ragtune.decide.tco import num, usd
from ragtune.errors import ConfigError, RagtuneError
from ragtune.evaluate.runs import RunStore
from ragtune.workspace import Workspace

AnswersOption = Annotated[Optional[Path], typer.Option(
    "--answers", help="TOML file with the questionnaire's answers (see examples/advise.toml). Without it the questions "
                      "are asked when run in a terminal, else the defaults are used.")]
CostsOption = Annotated[Optional[Path], typer.Option(
    "--costs", help="TOML file overriding prices and assumptions of the cost model (any CostModel field).")]
CompareOption = Annotated[Optional[str], typer.Option(
    "--compare", help="A saved compare run (id, unique prefix or 'latest') whose measurements replace the assumptions. "
                      "[default: the latest compare run, if there is one]")]
NoMeasuredOption = Annotated[bool, typer.Option(
    "--no-measured", help="Ignore saved compare runs: use the cost model's assumptions only.")]


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def _ask_one(name: str) -> Any:
    """Ask one question (its text is the field's docstring) until the answer is valid."""
    info = Questionnaire.model_fields[name]
    question, default, kind = info.description or name, info.default, info.annotation
    while True:
        if kind is bool:
            value: Any = typer.confirm(question, default=default)
        elif type(None) in get_args(kind):  # optional number: empty means none
            raw = typer.prompt(question, default="", show_default=False)
            value = raw.strip() or None
        else:  # a number, or a Literal: typer offers its choices
            value = typer.prompt(question, default=default, type=kind)
        try:
            return getattr(Questionnaire(**{name: value}), name)
        except ValidationError as exc:
            err_console.print(f"  {escape(exc.errors()[0]['msg'])}", highlight=False)


def _relevant(name: str, given: dict[str, Any]) -> bool:
    """Whether a question matters after the answers so far: ``quotable_answers`` only when quoting
    could serve (free-text output, no style or classification to learn)."""
    if name == "quotable_answers":
        return given.get("output_format") == "free" and not given.get("style") and not given.get("classification")
    return True


def _ask_all() -> Questionnaire:
    given: dict[str, Any] = {}
    for name in Questionnaire.model_fields:
        if _relevant(name, given):
            given[name] = _ask_one(name)
    return Questionnaire(**given)


def _questionnaire(answers: Path | None) -> Questionnaire:
    if answers is not None:
        return load_questionnaire(answers)
    if _stdin_is_tty():
        return _ask_all()
    err_console.print("no --answers and no terminal to ask on: using the default answers (see examples/advise.toml)",
                      highlight=False)
    return Questionnaire()


def _measured(ws: Workspace, compare: str | None, no_measured: bool) -> Measured | None:
    if no_measured:
        if compare is not None:
            raise ConfigError("give --compare or --no-measured, not both")
        return None
    if compare is None or compare == "latest":
        run = latest_compare_run(ws)
        if run is None:
            if compare == "latest":
                raise RagtuneError(f"no compare run saved in {RunStore(ws).root}: run a comparison first, or drop --compare")
            return None
        err_console.print(f"using the latest compare run {run.id} (--no-measured to ignore it)", highlight=False)
    else:
        run = RunStore(ws).load(compare)
    return measured_from_run(run)


def advise_command(
    answers: AnswersOption = None,
    costs: CostsOption = None,
    compare: CompareOption = None,
    no_measured: NoMeasuredOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Recommend prompt engineering, RAG, extractive answers (extract), fine-tuning or both (hybrid), with reasons and a
    12-month cost projection.

    Measurements of the latest compare run, when there is one, replace the cost model's assumptions.
    """
    ws = resolve_workspace(workspace)
    try:
        questionnaire = _questionnaire(answers)
        costs_model = workspace_cost_model(RagtuneConfig.load(ws.config_path), costs)
        advice = advise(questionnaire, costs_model, _measured(ws, compare, no_measured))
    except RagtuneError as exc:
        raise fail(escape(str(exc))) from None
    if as_json:
        print(json.dumps({**advice.to_dict(), "answers": questionnaire.model_dump()}, indent=2, ensure_ascii=False))
        return
    _print_advice(advice)


def _print_advice(advice: Advice) -> None:
    say = console.print
    say(f"[bold]recommendation: {advice.recommendation}[/]")
    for reason in advice.reasons:
        say(f"  • {escape(reason)}", highlight=False)
    for warning in advice.warnings:
        say(f"  [yellow]! {escape(warning)}[/]", highlight=False)

    months = next(iter(advice.projections.values())).months
    table = Table(title=f"{months}-month cost of ownership", title_justify="left")
    for column in ("approach", "meets hard constraints", "month 1", "monthly average", f"{months}-month total", "p95 ms"):
        table.add_column(column, justify="left" if column == "approach" else "right")
    for approach, p in advice.projections.items():
        mark = " ◀" if approach == advice.recommendation else ""
        table.add_row(f"{approach}{mark}", "yes" if approach in advice.allowed else "no", usd(p.monthly_totals[0]),
                      usd(p.monthly_average), usd(p.total), num(round(p.p95_ms)))
    say(table)

    chosen = advice.projections[advice.recommendation]
    items = Table(title=f"{advice.recommendation}: line items", title_justify="left")
    for column in ("item", "when", "USD", "formula"):
        items.add_column(column, justify="right" if column == "USD" else "left")
    for item in chosen.items:
        items.add_row(item.name, "month 1" if item.once else "monthly", usd(item.usd), escape(item.formula))
    say(items)
    people = {a: sum(i.usd for i in p.items if i.people) for a, p in advice.projections.items()
              if any(i.people for i in p.items)}
    if people:
        say("people time per month (reviews, curation, deployment; \\[people] in --costs): "
            + " · ".join(f"{a} {usd(v)}" for a, v in people.items()), highlight=False)
    if advice.sensitivity is not None:
        _print_sensitivity(advice.sensitivity)
    say(f"evidence: {escape(advice.evidence)}", highlight=False)


def _print_sensitivity(s: Sensitivity) -> None:
    """Rows: update cadence (knowledge_changes); columns: people's hourly rate; cells: ft ÷ rag and the cheapest."""
    table = Table(title=f"{s.months}-month sensitivity: ft ÷ rag, cheapest", title_justify="left")
    table.add_column("knowledge_changes")
    for rate in s.hourly_rates:
        mark = " ◀" if rate == s.hourly_rate_usd else ""
        table.add_column(f"${num(rate)}/h{mark}", justify="right")
    for cadence in s.cadences:
        mark = " ◀" if cadence == s.cadence else ""
        table.add_row(f"{cadence}{mark}", *(f"{ratio_text(c.ratio)} {c.cheapest}" for c in s.row(cadence)))
    console.print(table)
    console.print(f"finding: {escape(s.finding)}", highlight=False)
