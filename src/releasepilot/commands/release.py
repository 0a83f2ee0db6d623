"""Release commands: `release` runs (or resumes) a stored plan in-process; `rollouts` lists rollouts and events."""

from __future__ import annotations

from pathlib import Path

import typer

from releasepilot.cli import JsonOption, console, emit_json, run_command


def register(app: typer.Typer) -> None:
    app.command()(release)
    app.command()(rollouts)


def release(
    plan: str = typer.Option(..., "--plan", help="Execution plan id (stored in app.execution_plans)."),
    fault: list[str] = typer.Option(None, "--fault", help="Inject a fault into the simulated fleet: "  # noqa: B008
                                    "service=shape:metric:size[:onset_min[:duration_min]] (repeatable)."),
    target: str = typer.Option("simulated", help="Deploy target: simulated, command or webhook."),
    health: str = typer.Option("simulated", help="Health source: simulated, prometheus or down (drill)."),
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),  # noqa: B008
    lock_timeout: float = typer.Option(0.0, help="Seconds to wait for another rollout of a service."),
    as_json: bool = JsonOption,
) -> None:
    """Carry out a stored plan: waves, steps, health gates, rollback; undecided gates roll back (no one to ask)."""

    def body() -> None:
        from releasepilot.rollout.fleet import parse_fault
        from releasepilot.rollout.runner import run_stored_plan

        faults = dict(parse_fault(text) for text in fault or [])
        result = run_stored_plan(plan, target=target, health=health, warehouse=warehouse, faults=faults,
                                 lock_timeout=lock_timeout)
        if as_json:
            emit_json(result.as_dict())
            return
        from rich.table import Table

        table = Table(title=f"Release {plan}: {result.status}" + (" (resumed)" if result.resumed else ""))
        for column in ("release", "service", "status", "detect (min)", "decided by", "reason"):
            table.add_column(column)
        for o in result.outcomes:
            ttd = "" if o.time_to_detect_minutes is None else f"{o.time_to_detect_minutes:.0f}"
            table.add_row(o.release_id, o.service, o.status, ttd, o.decided_by or "", o.reason[:100])
        console().print(table)

    run_command(body)


def rollouts(
    plan: str = typer.Option(None, "--plan", help="Show one plan's events (default: every rollout)."),
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),  # noqa: B008
    as_json: bool = JsonOption,
) -> None:
    """List rollouts (status, runs, releases) or one plan's event log."""

    def body() -> None:
        from releasepilot.rollout.events import list_rollouts, read_events
        from releasepilot.rollout.lock import current_locks
        from releasepilot.rollout.runner import resolve_warehouse

        path = resolve_warehouse(warehouse)
        if not path.exists():
            from releasepilot.errors import NotReadyError

            raise NotReadyError(f"warehouse {path} does not exist: run `releasepilot ingest` first")
        summaries = [s for s in list_rollouts(path) if plan is None or s["plan_id"] == plan]
        locks = [vars(lock) for lock in current_locks(path)]
        events = [e.as_dict() for e in read_events(path, plan)] if plan else []
        if as_json:
            emit_json({"rollouts": summaries, "locks": locks, "events": events})
            return
        from rich.table import Table

        table = Table(title="Rollouts")
        for column in ("plan", "status", "runs", "events", "last event", "releases"):
            table.add_column(column)
        for s in summaries:
            table.add_row(s["plan_id"], s["status"], str(len(s["runs"])), str(s["events"]), s["last_at"],
                          ", ".join(f"{k}={v}" for k, v in s["releases"].items()))
        console().print(table)
        if plan:
            log = Table(title=f"Events of {plan}")
            for column in ("seq", "at", "release", "step", "kind", "status"):
                log.add_column(column)
            for e in events:
                log.add_row(str(e["seq"]), e["at"], e["release_id"] or "", "" if e["step_index"] is None
                            else str(e["step_index"]), e["kind"], e["status"] or "")
            console().print(log)

    run_command(body)
