"""Planning commands: `override` a stored plan's recommendation (append-only, audited).

`plan` and `schedule` join this module when the plan assembler is written.
"""

from __future__ import annotations

from pathlib import Path

import typer

from releasepilot.cli import JsonOption, console, emit_json, run_command


def register(app: typer.Typer) -> None:
    app.command()(override)


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
