"""Risk commands: train and promote the models, list them, score releases, evaluate a CSV, monitor drift."""

from __future__ import annotations

from pathlib import Path

import typer

from releasepilot.cli import JsonOption, console, emit_json, progress_reporter, run_command

SHOWN_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "accuracy", "caught_at_10pct",
                 "caught_at_20pct")


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(models)
    app.command()(score)
    app.command()(evaluate)
    app.command()(monitor)


def _metrics_table(title: str, model: dict, baselines: dict):
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    columns = {"model": model, **baselines}
    for name in columns:
        table.add_column(name, justify="right")
    for metric in SHOWN_METRICS:
        table.add_row(metric, *(f"{values.get(metric, float('nan')):.3f}" for values in columns.values()))
    return table


def train(
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),
    models_dir: Path = typer.Option(None, help="Folder of model specs (default models/)."),
    ground_truth: Path = typer.Option(None, help="Simulator ground truth for the evaluation baseline "
                                                 "(default data/sim/ground_truth.parquet when present)."),
    as_json: bool = JsonOption,
) -> None:
    """Train the change and release risk models, log them to MLflow, register and promote on evidence."""

    def body() -> None:
        from releasepilot.config import get_settings
        from releasepilot.risk.pipeline import default_ground_truth, run_training

        settings = get_settings()
        with progress_reporter(not as_json) as on_progress:
            report = run_training(warehouse or settings.warehouse_path, models_dir=models_dir,
                                  ground_truth_path=ground_truth or default_ground_truth(),
                                  on_progress=on_progress)
        document = report.as_dict()
        if as_json:
            emit_json(document)
            return
        out = console()
        for entry in document["models"]:
            out.print(_metrics_table(f"{entry['model']} v{entry['version']} on the validation window "
                                     f"from {entry['validation_cutoff']:%Y-%m-%d} ({entry['sizes']['validation']} "
                                     "rows)", entry["metrics"], entry["baselines"]))
            verdict = "[green]promoted to champion[/]" if entry["promoted"] else "[yellow]kept as challenger[/]"
            out.print(f"{verdict}: {entry['reason']}\ncalibration: {entry['calibration']}\n")
        out.print(f"trained in {document['seconds']:.1f} s")

    run_command(body)


def models(as_json: bool = JsonOption) -> None:
    """List the registered risk models: versions, aliases, decisions and validation metrics."""

    def body() -> None:
        from releasepilot.risk.registry import list_models
        from releasepilot.risk.scoring import CHANGE_MODEL_NAME, RELEASE_MODEL_NAME

        rows = list_models([RELEASE_MODEL_NAME, CHANGE_MODEL_NAME])
        if as_json:
            emit_json({"versions": rows})
            return
        from rich.table import Table

        table = Table(title="Registered risk models")
        for column in ("model", "version", "aliases", "auc", "ece", "caught@10%", "decision"):
            table.add_column(column, no_wrap=column != "decision")
        for row in rows:
            m = row["metrics"]
            table.add_row(row["model"], row["version"], ",".join(row["aliases"]),
                          f"{m.get('roc_auc', float('nan')):.3f}", f"{m.get('ece', float('nan')):.3f}",
                          f"{m.get('caught_at_10pct', float('nan')):.0%}",
                          f"{row['decision'] or ''}: {row['reason'] or ''}")
        console().print(table if rows else "no risk model registered yet: run `releasepilot train`")

    run_command(body)


def score(
    deployment_ids: list[str] = typer.Argument(None, help="Deployments to score (default: every pending one)."),
    latest: int = typer.Option(0, min=0, help="Score the newest N deployments instead."),
    top: int = typer.Option(3, min=1, max=10, help="Reasons per score."),
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),
    as_json: bool = JsonOption,
) -> None:
    """Score deployments with models:/release-risk@champion, each with its top reasons."""

    def body() -> None:
        from releasepilot.config import get_settings
        from releasepilot.risk.scoring import latest_ids, score_in_warehouse

        path = warehouse or get_settings().warehouse_path
        ids = list(deployment_ids or []) or (latest_ids(path, latest) if latest else None)
        report = score_in_warehouse(path, ids, top=top)
        if as_json:
            emit_json(report.as_dict())
            return
        from rich.table import Table

        table = Table(title=f"Release risk ({report.models.get('release', '')}); "
                            f"scored {report.share_scored:.0%}")
        for column in ("deployment", "service", "p(fail)", "top reasons"):
            table.add_column(column)
        for s in sorted(report.scores, key=lambda s: -s.probability):
            table.add_row(s.deployment_id, s.service or "", f"{s.probability:.3f}",
                          "\n".join(r.text for r in s.reasons))
        out = console()
        out.print(table if report.scores else "nothing to score (no pending deployment)")
        for item in report.unscored:
            out.print(f"[yellow]not scored[/] {item['deployment_id']}: {item['why']}")

    run_command(body)


def evaluate(
    csv: Path = typer.Option(..., "--csv", help="Commit history with Kamei-style metrics."),
    time_col: str = typer.Option(..., help="Time column: unix seconds or ISO dates."),
    label_col: str = typer.Option(..., help="Label column: 0/1 or true/false (defect-inducing)."),
    ignore_unknown: bool = typer.Option(False, help="Skip columns that are not Kamei metrics."),
    as_json: bool = JsonOption,
) -> None:
    """Train the change model on the oldest 80% of your CSV and report it on the newest 20%."""

    def body() -> None:
        from releasepilot.risk.evaluate import evaluate_csv

        report = evaluate_csv(csv, time_col=time_col, label_col=label_col, ignore_unknown=ignore_unknown)
        if as_json:
            emit_json(report.as_dict())
            return
        out = console()
        out.print(_metrics_table(f"{csv}: trained on {report.train_rows} oldest rows, tested on "
                                 f"{report.test_rows} newest", report.model, report.baselines))
        out.print(f"metrics used: {', '.join(report.metrics_used)}\ncalibration: {report.calibration}")

    run_command(body)


def monitor(
    days: int = typer.Option(30, min=1, help="Recent window: releases of the last N days of history."),
    retrain: bool = typer.Option(False, help="Run training when drift or decay passes the spec's limits."),
    warehouse: Path = typer.Option(None, help="DuckDB file (default data/warehouse.duckdb)."),
    as_json: bool = JsonOption,
) -> None:
    """Evidently drift and decay of the release champion: training window vs recent releases."""

    def body() -> None:
        from releasepilot.config import get_settings
        from releasepilot.risk.monitor import monitor_warehouse

        path = warehouse or get_settings().warehouse_path
        report = monitor_warehouse(path, days=days)
        if retrain and report.verdict.retrain:
            from releasepilot.risk.pipeline import default_ground_truth, run_training

            report.retrained = run_training(path, ground_truth_path=default_ground_truth()).as_dict()
        if as_json:
            emit_json(report.as_dict())
            return
        out = console()
        verdict = "[red]retrain[/]" if report.verdict.retrain else "[green]ok[/]"
        out.print(f"reference {report.reference_rows} releases, current {report.current_rows} "
                  f"({report.labelled_current} with outcomes)")
        out.print(f"drifted features: {', '.join(report.drifted_features) or 'none'}")
        if report.prediction_drift:
            out.print(f"prediction drift: {report.prediction_drift['method']} "
                      f"{report.prediction_drift['value']:.3f} (drifted: {report.prediction_drift['drifted']})")
        if report.auc_drop is not None:
            out.print(f"ROC AUC {report.current_metrics['roc_auc']:.3f} now vs {report.reference_auc:.3f} "
                      f"at validation (drop {report.auc_drop:+.3f})")
        out.print(f"{verdict}: {'; '.join(report.verdict.reasons)}")
        out.print(f"reports: {', '.join(report.html)}")
        if report.retrained:
            for entry in report.retrained["models"]:
                out.print(f"retrained {entry['model']} v{entry['version']}: {entry['reason']}")

    run_command(body)
