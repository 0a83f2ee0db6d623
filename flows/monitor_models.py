"""Prefect flow `monitor_models`: Evidently drift and decay of the release champion (daily).

Thin: one task calls `releasepilot.risk.monitor.monitor_warehouse`; when drift or decay passes the
spec's limits the flow runs `train_models` as a subflow.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact


@task
def measure_drift(warehouse: Path, days: int) -> dict:
    from releasepilot.risk.monitor import monitor_warehouse

    return monitor_warehouse(warehouse, days=days).as_dict()


def _train_flow():
    """The `train_models` flow from the file next to this one (flows/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_models_flow", Path(__file__).with_name("train_models.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.train_models


@flow(name="monitor_models")
def monitor_models(warehouse: str | None = None, days: int = 30) -> dict:
    """Compare the training window with recent releases; retrain when the thresholds are crossed."""
    from releasepilot.config import get_settings

    path = Path(warehouse) if warehouse else get_settings().warehouse_path
    summary = measure_drift(path, days)
    lines = ["# Risk model monitoring", "", f"Drifted features: {', '.join(summary['drifted_features']) or 'none'}",
             f"AUC drop: {summary['auc_drop']}", f"Retrain: **{summary['retrain']}** ({'; '.join(summary['reasons'])})"]
    create_markdown_artifact(markdown="\n".join(lines), key="risk-monitoring")
    if summary["retrain"]:
        summary["retrained"] = _train_flow()(warehouse=str(path))
    return summary


if __name__ == "__main__":
    monitor_models()
