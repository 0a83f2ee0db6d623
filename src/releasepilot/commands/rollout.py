"""Rollout commands: `detect` runs the streaming anomaly detector over an exported metric series."""

from __future__ import annotations

from pathlib import Path

import typer

from releasepilot.cli import JsonOption, console, emit_json, run_command


def register(app: typer.Typer) -> None:
    app.command()(detect)


def detect(
    csv: Path = typer.Option(..., "--csv", help="Metric export: one row per timestamp, in time order."),
    time_col: str = typer.Option(..., "--time-col", help="Column holding the timestamp."),
    value_col: str = typer.Option(..., "--value-col", help="Column holding the metric value."),
    covariate_col: str = typer.Option(None, "--covariate-col",
                                      help="Optional load column (e.g. throughput) to normalise by."),
    elasticity: float = typer.Option(None, help="How the value scales with the load column (default 1 "
                                                "with --covariate-col, else 0)."),
    direction: str = typer.Option("up", help="Which way is bad: up, down or both."),
    out: Path = typer.Option(None, "--out", help="Write per-row scores (time, value, expected, z, cusum, "
                                                 "score, alarm) to this CSV."),
    as_json: bool = JsonOption,
) -> None:
    """Score every row of a metric series with the streaming detector (each row judged on earlier rows only)."""

    def body() -> None:
        from releasepilot.errors import InputError
        from releasepilot.rollout.detect_file import detect_csv, write_scores
        from releasepilot.rollout.detector import DIRECTIONS, DetectorConfig

        if direction not in DIRECTIONS:
            raise InputError(f"expected one of {', '.join(DIRECTIONS)}, got {direction!r}", field="--direction")
        slope = elasticity if elasticity is not None else (1.0 if covariate_col else 0.0)
        config = DetectorConfig(direction=direction, elasticity=slope)
        report = detect_csv(csv, time_col, value_col, covariate_col=covariate_col, config=config)
        if out is not None:
            write_scores(report, out)
        summary = report.summary() | {"out": str(out) if out else None}
        if as_json:
            emit_json({"summary": summary, "rows": report.rows})
            return
        from rich.table import Table

        table = Table(title=f"Anomaly detection on {csv} ({value_col})")
        table.add_column("what")
        table.add_column("value", justify="right")
        for key, value in summary.items():
            table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
        console().print(table)
        if report.alarms:
            alarms = Table(title="Alarms")
            for column in ("time", "value", "expected", "z", "reason"):
                alarms.add_column(column)
            for row in report.alarms[:50]:
                alarms.add_row(str(row["time"]), f"{row['value']:.4g}", f"{row['expected']:.4g}",
                               f"{row['z']:.1f}", row["reason"])
            console().print(alarms)

    run_command(body)
