"""Stack commands: `up` starts the local Prefect server, worker, MLflow UI and dashboard; `down` stops them.

Ports and folders come from RELEASEPILOT_* environment variables (see docs/operations.md) or the options.
"""

from __future__ import annotations

import typer

from releasepilot.cli import JsonOption, console, emit_json, run_command


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(services)


def _config(prefect_port: int | None = None, mlflow_port: int | None = None, dashboard_port: int | None = None,
            dashboard: bool = True):
    from releasepilot.stack import StackConfig

    return StackConfig.from_env(prefect_port=prefect_port, mlflow_port=mlflow_port,
                                dashboard_port=dashboard_port, dashboard=dashboard)


def up(
    prefect_port: int = typer.Option(None, help="Prefect server port (default 4200 or RELEASEPILOT_PREFECT_PORT)."),
    mlflow_port: int = typer.Option(None, help="MLflow UI port (default 5000 or RELEASEPILOT_MLFLOW_PORT)."),
    dashboard_port: int = typer.Option(None, help="Dashboard port (default 8000 or RELEASEPILOT_DASHBOARD_PORT)."),
    dashboard: bool = typer.Option(True, help="Start the dashboard (`releasepilot serve`) when installed."),
    as_json: bool = JsonOption,
) -> None:
    """Start the Prefect server, a process worker, the MLflow UI and the dashboard; register the deployments."""

    def body() -> None:
        from releasepilot.stack import start_stack

        config = _config(prefect_port, mlflow_port, dashboard_port, dashboard)
        say = (lambda message: None) if as_json else (lambda message: console().print(f"[dim]{message}[/dim]"))
        report = start_stack(config, on_event=say)
        if as_json:
            emit_json(report.as_dict())
            return
        from rich.table import Table

        table = Table(title=f"ReleasePilot stack is up ({report.seconds['total']:.0f} s)")
        table.add_column("service")
        table.add_column("address")
        for name, url in report.addresses.items():
            table.add_row(name, url)
        console().print(table)
        console().print(f"Logs and pid files: {config.run_dir}")
        console().print(f"Deployments ({len(report.deployments)}): {', '.join(report.deployments)}")
        for name, reason in report.skipped_deployments.items():
            console().print(f"[yellow]skipped {name}: {reason}[/yellow]")
        console().print(f"Run one: PREFECT_API_URL={config.prefect_api_url} .venv/bin/prefect deployment run "
                        "build_features/build-features    Stop: make down")

    run_command(body)


def down(as_json: bool = JsonOption) -> None:
    """Stop what `up` started (by the recorded pids); nothing running is not an error."""

    def body() -> None:
        from releasepilot.stack import stop_stack

        outcome = stop_stack(_config())
        if as_json:
            emit_json(outcome)
            return
        for name, what in outcome.items():
            console().print(f"{name}: {what}")

    run_command(body)


def services(as_json: bool = JsonOption) -> None:
    """Show which stack services are running, with their pids and log files."""

    def body() -> None:
        from releasepilot.stack import stack_status

        status = stack_status(_config())
        if as_json:
            emit_json(status)
            return
        from rich.table import Table

        table = Table(title="ReleasePilot stack")
        for column in ("service", "running", "pid", "log"):
            table.add_column(column)
        for name, row in status.items():
            table.add_row(name, "yes" if row["running"] else "no", str(row["pid"] or ""), row["log"])
        console().print(table)

    run_command(body)
