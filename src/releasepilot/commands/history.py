"""History commands: simulate an organisation, ingest sources into DuckDB, build the feature marts."""

from __future__ import annotations

from pathlib import Path

import typer

from releasepilot.cli import JsonOption, console, emit_json, progress_reporter, run_command


def register(app: typer.Typer) -> None:
    app.command()(simulate)
    app.command()(ingest)
    app.command()(build)


def simulate(
    out: Path = typer.Option(None, help="Folder to write the history into (default data/sim)."),
    seed: int = typer.Option(7, help="Random seed: the same seed gives the same history."),
    services: int = typer.Option(40, min=4, help="Number of services."),
    teams: int = typer.Option(8, min=2, help="Number of teams."),
    days: int = typer.Option(730, min=30, help="Days of history."),
    scale: float = typer.Option(1.0, min=0.1, help="Multiplies release volume."),
    as_json: bool = JsonOption,
) -> None:
    """Generate a realistic organisation and its release history, with known ground truth."""

    def body() -> None:
        from releasepilot.config import get_settings
        from releasepilot.simulation import SimulationConfig, simulate as run_simulation

        target = out or get_settings().sim_path
        config = SimulationConfig(seed=seed, services=services, teams=teams, days=days, scale=scale)
        with progress_reporter(not as_json) as on_progress:
            summary = run_simulation(config, target, on_progress=on_progress)
        if as_json:
            emit_json(summary.as_dict())
            return
        from rich.table import Table

        table = Table(title=f"Simulated history in {target}")
        table.add_column("what")
        table.add_column("value", justify="right")
        for key, value in summary.as_dict().items():
            table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
        console().print(table)

    run_command(body)


def ingest(
    source: Path = typer.Option(None, help="History folder in the data-model formats (default data/sim)."),
    git_repo: list[Path] = typer.Option(None, "--git-repo", help="Local git repositories to read commits from."),
    catalog: Path = typer.Option(None, help="Folder of Backstage catalog files (default SOURCE/catalog)."),
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),
    as_json: bool = JsonOption,
) -> None:
    """Load release history into DuckDB raw tables, validated by Great Expectations; rows that fail go to raw.rejected."""

    def body() -> None:
        from releasepilot.config import get_settings
        from releasepilot.ingest import IngestRequest, run_ingest

        settings = get_settings()
        request = IngestRequest(
            source_dir=source or settings.sim_path,
            git_repos=list(git_repo or []),
            catalog_dir=catalog,
            warehouse=warehouse or settings.warehouse_path,
        )
        with progress_reporter(not as_json) as on_progress:
            report = run_ingest(request, on_progress=on_progress)
        if as_json:
            emit_json(report.as_dict())
            return
        from rich.table import Table

        table = Table(title=f"Ingested into {request.warehouse}")
        for column in ("table", "read", "inserted", "rejected"):
            table.add_column(column, justify="left" if column == "table" else "right")
        for row in report.tables:
            table.add_row(row.table_name, str(row.rows_read), str(row.rows_inserted), str(row.rows_rejected))
        console().print(table)

    run_command(body)


def build(
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),
    select: str = typer.Option(None, help="dbt selector, e.g. 'marts' (default: everything)."),
    as_json: bool = JsonOption,
) -> None:
    """Build the feature marts with dbt (staging -> intermediate -> marts), running every dbt test."""

    def body() -> None:
        from releasepilot.config import get_settings
        from releasepilot.features import build_features

        settings = get_settings()
        report = build_features(warehouse or settings.warehouse_path, settings.dbt_project_dir, select=select)
        if as_json:
            emit_json(report.as_dict())
            return
        from rich.table import Table

        table = Table(title=f"dbt build ({report.seconds:.1f} s)")
        for column in ("node", "kind", "status", "rows"):
            table.add_column(column)
        for node in report.nodes:
            table.add_row(node.name, node.kind, node.status, "" if node.rows is None else str(node.rows))
        console().print(table)

    run_command(body)
