"""The training job: read the marts, train both models, log, register and promote them in MLflow.

This is what `releasepilot train` and the Prefect flow `train_models` run. Each run reads the marts as
they are now, so retraining uses every outcome recorded since the last run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from releasepilot.risk.registry import RegisteredVersion, log_and_register
from releasepilot.risk.spec import load_specs
from releasepilot.risk.train import ProgressFn, TrainedModel, _noop, train_all

GROUND_TRUTH_FILE = "ground_truth.parquet"


def read_training_marts(warehouse: Path | str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(marts.change_features, marts.release_features) as polars frames."""
    from releasepilot.warehouse import connect_marts

    with connect_marts(warehouse) as con:
        return (con.sql("select * from marts.change_features").pl(),
                con.sql("select * from marts.release_features").pl())


@dataclass
class TrainingReport:
    models: list[tuple[TrainedModel, RegisteredVersion]]
    seconds: float
    stacked_releases: int

    def as_dict(self) -> dict:
        return {"seconds": round(self.seconds, 2), "stacked_releases": self.stacked_releases, "models": [{
            "model": version.name, "version": version.version, "run_id": version.run_id,
            "promoted": version.promoted, "reason": version.reason,
            "calibration": trained.calibration.reason, "validation_cutoff": trained.cutoff,
            "sizes": trained.sizes, "training_seconds": round(trained.seconds, 2),
            "metrics": trained.metrics, "baselines": trained.baselines,
            "champion_on_same_window": version.champion_metrics,
        } for trained, version in self.models]}


def run_training(warehouse: Path | str, *, models_dir: Path | str | None = None,
                 tracking_uri: str | None = None, ground_truth_path: Path | str | None = None,
                 on_progress: ProgressFn = _noop) -> TrainingReport:
    """Train, log, register and (on evidence) promote the change and release models."""
    import time

    started = time.perf_counter()
    specs = load_specs(models_dir)
    changes, releases = read_training_marts(warehouse)
    result = train_all(changes, releases, specs, ground_truth_path=ground_truth_path, on_progress=on_progress)
    registered = []
    for index, trained in enumerate((result.change, result.release)):
        on_progress("log and register in MLflow", index, 2)
        registered.append((trained, log_and_register(trained, tracking_uri=tracking_uri)))
    on_progress("log and register in MLflow", 2, 2)
    return TrainingReport(registered, time.perf_counter() - started, result.stacked_releases)


def default_ground_truth() -> Path | None:
    """The simulator's ground truth file, when the configured history has one (evaluation only)."""
    from releasepilot.config import get_settings

    path = get_settings().sim_path / GROUND_TRUTH_FILE
    return path if path.exists() else None
