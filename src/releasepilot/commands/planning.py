"""Planning commands: `plan` a train, `schedule` the week's trains, `backtest` the policy on history,
build trains (`train-from-git`, `generate-train`) and `override` a stored recommendation (append-only).
"""

from __future__ import annotations

from pathlib import Path

import typer

from releasepilot.cli import JsonOption, console, emit_json, progress_reporter, run_command


def register(app: typer.Typer) -> None:
    app.command()(override)
    app.command()(plan)
    app.command()(schedule)
    app.command()(backtest)
    app.command("train-from-git")(train_from_git)
    app.command("generate-train")(generate_train)


WarehouseOption = typer.Option(None, "--warehouse", help="DuckDB file (default data/warehouse.duckdb).")
PolicyOption = typer.Option(None, "--policy", help="Policy file (default policy.yaml; missing = defaults).")


def _warehouse(path: Path | None) -> Path:
    from releasepilot.config import get_settings

    return path or get_settings().warehouse_path


def _now(text: str | None):
    if text is None:
        return None
    from releasepilot.planning.calendar import to_utc

    return to_utc(text, source="--now", row=None, field_name="now")


def plan(
    train: Path = typer.Option(..., "--train", help="Train file (YAML or JSON, see docs/train.md)."),
    warehouse: Path = WarehouseOption,
    policy: Path = PolicyOption,
    markdown: Path = typer.Option(None, "--markdown", help="Also write the plan as markdown to this file."),
    now: str = typer.Option(None, "--now", help="Plan as of this ISO time (default: now, or the history's end)."),
    store: bool = typer.Option(True, "--store/--no-store", help="Store the plan in the warehouse (app.plans)."),
    as_json: bool = JsonOption,
) -> None:
    """Plan a release train: risk, blast radius, windows, order, rollout, readiness, GO/NO-GO, notes."""

    def body() -> None:
        from releasepilot.config import get_settings
        from releasepilot.planning.assemble import build_plan, store_plan
        from releasepilot.policy import load_policy
        from releasepilot.train import load_train

        path = _warehouse(warehouse)
        built = build_plan(load_train(train), path, load_policy(policy), now=_now(now),
                           tracking_uri=get_settings().tracking_uri(), source_file=str(train))
        if store:
            store_plan(built, path)
        if markdown is not None:
            markdown.parent.mkdir(parents=True, exist_ok=True)
            markdown.write_text(built.to_markdown(), encoding="utf-8")
        if as_json:
            emit_json(built.as_dict())
            return
        _print_plan(built)

    run_command(body)


def _print_plan(built) -> None:
    from rich.table import Table

    from releasepilot.planning.render import summary_rows

    out = console()
    d = built.decision
    p = "unavailable" if d.failure_probability is None else f"{d.failure_probability:.1%}"
    out.print(f"[bold]{built.train}[/bold]: {d.decision.value} (train failure probability {p}); "
              f"plan id {built.plan_id or 'not stored'}")
    out.print(f"{built.risk_note}; {built.note}")
    table = Table(title="Releases")
    for column in ("service", "version", "decision", "p(fail)", "blast", "wave", "window", "rollout", "conditions"):
        table.add_column(column)
    for row in summary_rows(built):
        fp = row["failure_probability"]
        table.add_row(row["service"], row["version"], row["decision"], "n/a" if fp is None else f"{fp:.1%}",
                      str(row["blast_radius"]), str(row["wave"]), row["window"] or "-", row["rollout"],
                      str(row["conditions"]))
    out.print(table)
    if built.conflicts:
        conflicts = Table(title="Conflicts")
        conflicts.add_column("kind")
        conflicts.add_column("services")
        conflicts.add_column("evidence")
        for c in built.conflicts:
            conflicts.add_row(c.kind, ", ".join(c.services), c.text)
        out.print(conflicts)
    for r in built.releases:
        if r.decision.conditions:
            out.print(f"[bold]{r.service}[/bold] conditions: " + "; ".join(r.decision.conditions))


def schedule(
    trains: list[Path] = typer.Option(..., "--trains", help="Train files or folders of them (repeatable)."),
    warehouse: Path = WarehouseOption,
    policy: Path = PolicyOption,
    now: str = typer.Option(None, "--now", help="Schedule as of this ISO time."),
    as_json: bool = JsonOption,
) -> None:
    """Assign every release of the given trains a window (CP-SAT), against the requested windows."""

    def body() -> None:
        from releasepilot.config import get_settings
        from releasepilot.planning.portfolio import load_trains, schedule_trains
        from releasepilot.planning.risk_source import champion_risk
        from releasepilot.policy import load_policy

        result = schedule_trains(load_trains(trains), _warehouse(warehouse), load_policy(policy), now=_now(now),
                                 scorer=champion_risk(get_settings().tracking_uri()))
        if as_json:
            emit_json(result.as_dict())
            return
        from rich.table import Table

        r = result.result
        table = Table(title=f"Schedule ({r.status}, {r.seconds:.1f} s): expected impact {r.expected_impact:.3f}; "
                            f"requested windows {r.requested_impact:.3f} -> scheduled {r.scheduled_impact_of_requested:.3f}")
        for column in ("release", "team", "risk", "window", "impact", "requested", "requested impact"):
            table.add_column(column)
        for row in r.per_release:
            table.add_row(row["release_id"], row["team"], f"{row['risk']:.2f}", row["window"] or "unscheduled",
                          "-" if row["expected_impact"] is None else f"{row['expected_impact']:.3f}",
                          row["requested_window"] or "-",
                          "-" if row["requested_impact"] is None else f"{row['requested_impact']:.3f}")
        console().print(table)
        for rid, why in r.unscheduled.items():
            console().print(f"unscheduled {rid}: {why}")
        console().print("; ".join(sorted({p.risk_note for p in result.plans})))

    run_command(body)


def backtest(
    warehouse: Path = WarehouseOption,
    policy: Path = PolicyOption,
    folds: int = typer.Option(4, min=2, max=20, help="Time blocks for out-of-time scores."),
    iterations: int = typer.Option(None, min=10, help="CatBoost iterations (default: the model specs')."),
    window_sample: int = typer.Option(1500, min=1, help="Releases whose window impact is replayed (seeded sample)."),
    as_json: bool = JsonOption,
) -> None:
    """Replay the history under the policy: failures stopped or slowed, good releases delayed, impact moved."""

    def body() -> None:
        from releasepilot.planning.backtest import run_backtest
        from releasepilot.policy import load_policy

        with progress_reporter(not as_json) as on_progress:
            report = run_backtest(_warehouse(warehouse), load_policy(policy), folds=folds, iterations=iterations,
                                  window_sample=window_sample, on_progress=on_progress)
        if as_json:
            emit_json(report.as_dict())
            return
        from rich.table import Table

        table = Table(title=f"Backtest of the policy ({report.seconds:.1f} s)")
        table.add_column("measure")
        table.add_column("value", justify="right")
        for key, value in report.table():
            table.add_row(key, value)
        console().print(table)

    run_command(body)


def _write_and_show(train, out: Path, as_json: bool) -> None:
    from releasepilot.planning.from_git import train_document, write_train

    write_train(train, out)
    if as_json:
        emit_json({"file": str(out), "train": train_document(train)})
        return
    from rich.table import Table

    table = Table(title=f"Train {train.name} written to {out}")
    for column in ("service", "version", "team", "commits", "ci", "window"):
        table.add_column(column)
    for r in train.releases:
        table.add_row(r.service, r.version, r.team or "", str(len(r.commits)), r.ci_status,
                      r.window.start.isoformat() if r.window else "-")
    console().print(table)


def train_from_git(
    out: Path = typer.Option(..., "--out", help="Train file to write (YAML, or JSON for .json)."),
    warehouse: Path = WarehouseOption,
    name: str = typer.Option(None, "--name", help="Train name (default: from-history-<time>)."),
    service: list[str] = typer.Option(None, "--service", help="Only these services (repeatable)."),
    as_json: bool = JsonOption,
) -> None:
    """Build a train from history: for each service, the commits since its last production deployment."""

    def body() -> None:
        from releasepilot.planning.from_git import train_from_history

        _write_and_show(train_from_history(_warehouse(warehouse), name, list(service or []) or None), out, as_json)

    run_command(body)


def generate_train(
    out: Path = typer.Option(None, "--out", help="Train file to write (default data/trains/generated.yaml)."),
    warehouse: Path = WarehouseOption,
    teams: int = typer.Option(8, min=1, help="Teams whose releases join the train."),
    seed: int = typer.Option(7, help="Random seed: the same seed gives the same train."),
    name: str = typer.Option(None, "--name", help="Train name."),
    as_json: bool = JsonOption,
) -> None:
    """Generate a realistic demo train from the (simulated) history's most recent releases."""

    def body() -> None:
        from releasepilot.config import get_settings
        from releasepilot.planning.from_git import generate_train as make

        target = out or get_settings().home / "data" / "trains" / "generated.yaml"
        _write_and_show(make(_warehouse(warehouse), teams=teams, seed=seed, name=name), target, as_json)

    run_command(body)


def override(
    plan_id: str = typer.Argument(..., help="The stored plan's id (printed by `releasepilot plan`)."),
    decision: str = typer.Option(..., "--decision", help="GO, 'GO WITH CONDITIONS' or NO-GO."),
    by: str = typer.Option(..., "--by", help="Your name: who takes responsibility for this decision."),
    reason: str = typer.Option(..., "--reason", help="Why the recommendation is overridden."),
    release: str = typer.Option(None, "--release", help="The release's service (default: the whole train)."),
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),
    as_json: bool = JsonOption,
) -> None:
    """Override a plan's (or one release's) GO/NO-GO recommendation; recorded with your name and reason."""

    def body() -> None:
        from releasepilot.audit import record_override
        from releasepilot.config import get_settings
        from releasepilot.errors import NotReadyError
        from releasepilot.warehouse import connect

        path = warehouse or get_settings().warehouse_path
        if not Path(path).exists():
            raise NotReadyError(f"warehouse {path} does not exist: run `releasepilot ingest` and `plan` first")
        with connect(path) as con:
            recorded = record_override(con, plan_id, decision, by, reason, service=release)
            recommended = con.execute(
                "select recommended from app.overrides where override_id = ?", [recorded.override_id]
            ).fetchall()[0][0]
        document = {**recorded.as_dict(), "recommended": recommended}
        if as_json:
            emit_json(document)
            return
        from rich.table import Table

        table = Table(title=f"Override recorded for {plan_id}")
        table.add_column("what")
        table.add_column("value")
        for key in ("override_id", "service", "recommended", "decision", "by", "reason", "at"):
            value = document[key]
            table.add_row(key, "(whole train)" if key == "service" and value is None else str(value))
        console().print(table)

    run_command(body)
