"""Drift and decay of the release-risk model, measured with Evidently.

Compares the champion's training window with recent releases: feature drift and prediction drift
(Evidently DataDriftPreset), and classification quality where outcomes have arrived (Evidently
ClassificationPreset, plus our metrics against the champion's validation AUC). Reports are saved as HTML
and logged to MLflow; `assess_drift` (a pure function) decides whether the model must be retrained.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from releasepilot.risk.metrics import evaluate_probabilities
from releasepilot.risk.spec import ModelSpec, MonitoringSpec

PREDICTION = "prediction"
DEFAULT_DAYS = 30
MIN_LABELLED = 50         # fewer labelled recent releases than this: quality is not judged


@dataclass(frozen=True)
class DriftVerdict:
    retrain: bool
    reasons: list[str]


def assess_drift(drifted: list[str], n_features: int, auc_drop: float | None,
                 rule: MonitoringSpec) -> DriftVerdict:
    """Retrain when the share of drifted features or the AUC drop passes the spec's limits (pure)."""
    share = len(drifted) / n_features if n_features else 0.0
    reasons = []
    if share > rule.drift_share:
        reasons.append(f"{len(drifted)}/{n_features} features drifted ({share:.0%} > {rule.drift_share:.0%})")
    if auc_drop is not None and auc_drop > rule.max_auc_drop:
        reasons.append(f"ROC AUC fell by {auc_drop:.3f} (> {rule.max_auc_drop})")
    if reasons:
        return DriftVerdict(True, reasons)
    drop = "not judged (too few outcomes)" if auc_drop is None else f"{auc_drop:+.3f}"
    summary = f"{len(drifted)}/{n_features} features drifted ({share:.0%} <= {rule.drift_share:.0%}); AUC drop {drop}"
    return DriftVerdict(False, [summary])


def column_drift(snapshot: dict) -> dict[str, dict]:
    """Per column: Evidently's method, value, threshold and whether it drifted."""
    out = {}
    for metric in snapshot.get("metrics", []):
        config = metric.get("config", {})
        if not str(config.get("type", "")).endswith("ValueDrift"):
            continue
        method, value, threshold = str(config.get("method", "")), metric.get("value"), config.get("threshold")
        if value is None or threshold is None:
            continue
        drifted = value < threshold if "p_value" in method else value >= threshold
        out[config["column"]] = {"method": method, "value": float(value), "threshold": float(threshold),
                                 "drifted": bool(drifted)}
    return out


@dataclass
class MonitorReport:
    reference_rows: int
    current_rows: int
    labelled_current: int
    drift: dict[str, dict]
    drifted_features: list[str]
    prediction_drift: dict | None
    reference_auc: float | None
    current_metrics: dict[str, float] | None
    verdict: DriftVerdict
    html: list[str] = field(default_factory=list)
    mlflow_run_id: str | None = None
    retrained: dict | None = None

    @property
    def auc_drop(self) -> float | None:
        if self.reference_auc is None or not self.current_metrics:
            return None
        return float(self.reference_auc - self.current_metrics["roc_auc"])

    def as_dict(self) -> dict:
        return {"reference_rows": self.reference_rows, "current_rows": self.current_rows,
                "labelled_current": self.labelled_current, "drifted_features": self.drifted_features,
                "prediction_drift": self.prediction_drift, "reference_auc": self.reference_auc,
                "current_metrics": self.current_metrics, "auc_drop": self.auc_drop,
                "retrain": self.verdict.retrain, "reasons": self.verdict.reasons, "html": self.html,
                "mlflow_run_id": self.mlflow_run_id, "retrained": self.retrained, "drift": self.drift}


def _pandas(frame: pl.DataFrame, spec: ModelSpec, prediction: np.ndarray | None):
    from releasepilot.risk.train import feature_frame

    values = feature_frame(frame, spec)
    if prediction is not None:
        values[PREDICTION] = prediction
    return values


def monitor_frames(reference: pl.DataFrame, current: pl.DataFrame, spec: ModelSpec, *, predict=None,
                   reference_auc: float | None = None, out_dir: Path | None = None) -> MonitorReport:
    """Drift of features and predictions, and quality where outcomes arrived, current vs reference."""
    from evidently import BinaryClassification, DataDefinition, Dataset, Report
    from evidently.presets import ClassificationPreset, DataDriftPreset

    ref_pred = predict(reference) if predict else None
    cur_pred = predict(current) if predict else None
    numeric = [*spec.numeric_features, *([PREDICTION] if predict else [])]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=spec.categorical_features)
    ref_ds = Dataset.from_pandas(_pandas(reference, spec, ref_pred), data_definition=definition)
    cur_ds = Dataset.from_pandas(_pandas(current, spec, cur_pred), data_definition=definition)
    with warnings.catch_warnings():   # evidently divides by zero on constant columns (correlations)
        warnings.simplefilter("ignore", RuntimeWarning)
        drift_snapshot = Report([DataDriftPreset()]).run(cur_ds, ref_ds)   # evidently: current first
    drift = column_drift(drift_snapshot.dict())
    drifted = sorted(c for c, d in drift.items() if d["drifted"] and c != PREDICTION)
    html = []
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        drift_snapshot.save_html(str(out_dir / "drift.html"))
        html.append(str(out_dir / "drift.html"))

    labelled = current.filter(pl.col(spec.target).is_not_null())
    current_metrics = None
    if predict and labelled.height >= MIN_LABELLED and labelled[spec.target].n_unique() == 2:
        y = labelled[spec.target].cast(pl.Int8).to_numpy()
        p = predict(labelled)
        current_metrics = evaluate_probabilities(y, p, spec.policy_threshold)
        if out_dir is not None:
            frame = labelled.select(pl.col(spec.target).cast(pl.Int8).alias("target")).to_pandas()
            frame["prediction"] = p
            frame["prediction_label"] = (p >= spec.policy_threshold).astype(int)
            quality_def = DataDefinition(classification=[BinaryClassification(
                target="target", prediction_labels="prediction_label", prediction_probas="prediction",
                pos_label=1)], numerical_columns=["prediction"], categorical_columns=["target", "prediction_label"])
            snapshot = Report([ClassificationPreset()]).run(Dataset.from_pandas(frame, data_definition=quality_def),
                                                            None)
            snapshot.save_html(str(out_dir / "quality.html"))
            html.append(str(out_dir / "quality.html"))
    report = MonitorReport(
        reference_rows=reference.height, current_rows=current.height, labelled_current=labelled.height,
        drift=drift, drifted_features=drifted, prediction_drift=drift.get(PREDICTION),
        reference_auc=reference_auc, current_metrics=current_metrics,
        verdict=DriftVerdict(False, []), html=html)
    report.verdict = assess_drift(drifted, len(spec.features), report.auc_drop, spec.monitoring)
    return report


def monitor_warehouse(warehouse: Path | str, *, days: int = DEFAULT_DAYS, out_dir: Path | None = None,
                      tracking_uri: str | None = None) -> MonitorReport:
    """Monitor the release champion: its training window against the last `days` days of releases."""
    import mlflow

    from releasepilot.config import get_settings
    from releasepilot.risk.pipeline import read_training_marts
    from releasepilot.risk.registry import configure_mlflow, ensure_experiment
    from releasepilot.risk.scoring import load_champions
    from releasepilot.risk.train import aggregate_change_scores, predict_raw, with_stacked_scores

    champions = load_champions(tracking_uri)
    uri = configure_mlflow(tracking_uri)
    client = mlflow.MlflowClient()
    version = client.get_model_version(champions.release.name, champions.release.version)
    cutoff = datetime.fromisoformat(version.tags["validation_cutoff"])
    reference_auc = client.get_run(champions.release.run_id).data.metrics.get("val_roc_auc")
    changes, releases = read_training_marts(warehouse)
    scored = changes.filter(pl.col("deployment_id").is_not_null())
    scored = scored.select("deployment_id").with_columns(
        pl.Series("change_risk", predict_raw(champions.change.model, scored, champions.change.spec)))
    releases = with_stacked_scores(releases, aggregate_change_scores(scored))
    spec = champions.release.spec
    latest = releases[spec.time_column].max()
    current = releases.filter(pl.col(spec.time_column) >= latest - timedelta(days=days))
    reference = releases.filter(pl.col(spec.time_column) < cutoff)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = out_dir or get_settings().home / "data" / "reports" / "monitoring" / stamp
    report = monitor_frames(reference, current, spec, predict=champions.release.predict,
                            reference_auc=reference_auc, out_dir=out_dir)
    (out_dir / "summary.json").write_text(json.dumps(report.as_dict(), indent=2, default=str))
    experiment = ensure_experiment(f"{get_settings().mlflow_experiment_prefix}-monitoring", uri)
    with mlflow.start_run(experiment_id=experiment, run_name=f"monitor-{stamp}") as run:
        mlflow.log_metrics({"drift_share": len(report.drifted_features) / len(spec.features),
                            **({"auc_drop": report.auc_drop} if report.auc_drop is not None else {})})
        mlflow.set_tags({"model_version": champions.release.version, "retrain": str(report.verdict.retrain),
                         "reasons": "; ".join(report.verdict.reasons)})
        for path in [*report.html, str(out_dir / "summary.json")]:
            mlflow.log_artifact(path, "monitoring")
        report.mlflow_run_id = run.info.run_id
    return report
