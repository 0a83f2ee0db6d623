"""MLflow tracking and the model registry: log every training run, register it, promote on evidence.

One experiment per model. Every new version is registered and gets the alias `challenger`; it becomes
`champion` only when it beats the current champion on the same validation window by the spec's margin
and is calibrated. The decision and its reason are tags on the model version and on the run.
Models are always loaded by alias, never by version number.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from releasepilot.risk.calibration import Calibrator
from releasepilot.risk.metrics import evaluate_probabilities
from releasepilot.risk.spec import ModelSpec, PromotionSpec
from releasepilot.risk.train import TrainedModel, feature_frame, predict_raw

CHAMPION = "champion"
CHALLENGER = "challenger"
CALIBRATOR_ARTIFACT = "calibrator.json"
SPEC_ARTIFACT = "spec.json"
PIP_REQUIREMENTS_PACKAGES = ("catboost", "pandas", "numpy")
EXAMPLE_ROWS = 5
SHAP_SAMPLE = 2000
QUIET_MLFLOW = {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}


def configure_mlflow(tracking_uri: str | None = None) -> str:
    """Point MLflow at the configured store (called inside functions, never at import)."""
    import os

    import mlflow

    from releasepilot.config import get_settings

    for key, value in QUIET_MLFLOW.items():   # mlflow.env values that mlflow reads from the environment
        os.environ.setdefault(key, value)
    settings = get_settings()
    uri = tracking_uri or settings.tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(settings.mlflow_registry_uri if (settings.mlflow_registry_uri and not tracking_uri)
                            else uri)
    return uri


def artifact_root(tracking_uri: str) -> str | None:
    """Artifacts next to a SQLite store (`<folder>/mlartifacts`); the server decides otherwise."""
    prefix = "sqlite:///"
    if tracking_uri.startswith(prefix):
        return (Path(tracking_uri[len(prefix):]).parent / "mlartifacts").resolve().as_uri()
    return None


def ensure_experiment(name: str, tracking_uri: str) -> str:
    """The experiment id for `name`, created with its artifacts beside the SQLite store if new."""
    import mlflow

    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    return mlflow.create_experiment(name, artifact_location=artifact_root(tracking_uri))


def experiment_name(spec: ModelSpec) -> str:
    from releasepilot.config import get_settings

    return f"{get_settings().mlflow_experiment_prefix}-{spec.name}"


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str
    challenger_value: float
    champion_value: float | None


def decide_promotion(challenger: dict[str, float], champion: dict[str, float] | None,
                     rule: PromotionSpec) -> PromotionDecision:
    """Promote only a calibrated challenger that beats the champion by the margin (pure function)."""
    value = float(challenger[rule.metric])
    ece = float(challenger["ece"])
    if not ece <= rule.max_ece:
        return PromotionDecision(False, f"not calibrated: ECE {ece:.4f} > {rule.max_ece}", value,
                                 None if champion is None else float(champion[rule.metric]))
    if champion is None:
        return PromotionDecision(True, f"no champion yet; calibrated (ECE {ece:.4f}), "
                                       f"{rule.metric} {value:.4f}", value, None)
    best = float(champion[rule.metric])
    gain = value - best if rule.higher_is_better else best - value
    if np.isnan(best) or gain >= rule.margin:
        return PromotionDecision(True, f"{rule.metric} {value:.4f} beats champion {best:.4f} by "
                                       f"{gain:+.4f} (margin {rule.margin}) on the same window; "
                                       f"ECE {ece:.4f}", value, best)
    return PromotionDecision(False, f"{rule.metric} {value:.4f} does not beat champion {best:.4f} by the "
                                    f"margin {rule.margin} (gain {gain:+.4f}) on the same window", value, best)


@dataclass
class LoadedModel:
    """A registered model loaded by alias, with its calibrator and the spec it was trained with."""

    name: str
    alias: str
    version: str
    run_id: str
    model: object
    calibrator: Calibrator
    spec: ModelSpec

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        return self.calibrator.apply(predict_raw(self.model, frame, self.spec))


def load_by_alias(name: str, alias: str = CHAMPION, tracking_uri: str | None = None) -> LoadedModel | None:
    """Load `models:/name@alias` with its calibrator; None when the alias does not exist."""
    import mlflow
    from mlflow.exceptions import MlflowException

    configure_mlflow(tracking_uri)
    client = mlflow.MlflowClient()
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None
    model = mlflow.catboost.load_model(f"models:/{name}@{alias}")
    calibrator = Calibrator.from_json(mlflow.artifacts.load_text(f"runs:/{version.run_id}/{CALIBRATOR_ARTIFACT}"))
    spec = ModelSpec.model_validate(mlflow.artifacts.load_dict(f"runs:/{version.run_id}/{SPEC_ARTIFACT}"))
    return LoadedModel(name, alias, str(version.version), version.run_id, model, calibrator, spec)


def champion_metrics_on(trained: TrainedModel, tracking_uri: str | None = None) -> dict[str, float] | None:
    """The current champion's metrics on the challenger's validation window (None if no champion)."""
    champion = load_by_alias(trained.spec.registered_model, CHAMPION, tracking_uri)
    if champion is None:
        return None
    valid = trained.valid
    missing = [f for f in champion.spec.features if f not in valid.columns]
    if missing:
        return {trained.spec.promotion.metric: float("nan"), "ece": float("nan"),
                "note": f"champion needs columns {missing}"}  # type: ignore[dict-item]
    y = valid[trained.spec.target].cast(pl.Int8).to_numpy()
    return evaluate_probabilities(y, champion.predict(valid), trained.spec.policy_threshold)


def _pip_requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in PIP_REQUIREMENTS_PACKAGES]


def _log_plots(trained: TrainedModel, folder: Path) -> list[Path]:
    from catboost import Pool

    from releasepilot.risk.plots import calibration_plot, importance_plot, shap_summary_plot

    spec, valid = trained.spec, trained.valid
    y = valid[spec.target].cast(pl.Int8).to_numpy()
    raw = predict_raw(trained.model, valid, spec)
    paths = [calibration_plot(y, raw, trained.calibrator.apply(raw), folder / "calibration.png",
                              f"{spec.name}: calibration on the validation window"),
             importance_plot(trained.importance, folder / "feature_importance.png", f"{spec.name}: importance")]
    sample = valid.sample(min(SHAP_SAMPLE, valid.height), seed=0) if valid.height > SHAP_SAMPLE else valid
    values = feature_frame(sample, spec)
    shap = trained.model.get_feature_importance(Pool(values, cat_features=spec.categorical_features or None),
                                                type="ShapValues")
    paths.append(shap_summary_plot(shap, spec.features, values, folder / "shap_summary.png",
                                   f"{spec.name}: SHAP summary (validation window)"))
    return paths


def _flat_metrics(trained: TrainedModel) -> dict[str, float]:
    out = {f"val_{k}": v for k, v in trained.metrics.items()}
    out.update({f"raw_{k}": v for k, v in trained.raw_metrics.items()})
    for name, metrics in trained.baselines.items():
        out.update({f"baseline_{name}_{k}": v for k, v in metrics.items() if k not in ("n", "positive_rate")})
    out.update(calibration_ece_before=trained.calibration.ece_before,
               calibration_ece_after=trained.calibration.ece_after, training_seconds=trained.seconds)
    return {k: float(v) for k, v in out.items() if v is not None and np.isfinite(v)}


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str
    run_id: str
    promoted: bool
    reason: str
    metrics: dict[str, float]
    champion_metrics: dict[str, float] | None


def log_and_register(trained: TrainedModel, *, tracking_uri: str | None = None,
                     extra_tags: dict[str, str] | None = None) -> RegisteredVersion:
    """Log the run, register a new version as `challenger`, and promote it to `champion` if it earns it."""
    import mlflow
    from mlflow.models import infer_signature

    uri = configure_mlflow(tracking_uri)
    spec = trained.spec
    champion = champion_metrics_on(trained, tracking_uri)
    decision = decide_promotion(trained.metrics, champion, spec.promotion)
    experiment_id = ensure_experiment(experiment_name(spec), uri)
    client = mlflow.MlflowClient()
    tags = {"model": spec.name, "calibrated": str(trained.calibration.applied).lower(),
            "calibration_reason": trained.calibration.reason,
            "promotion_decision": "promoted" if decision.promote else "kept_challenger",
            "promotion_reason": decision.reason, "validation_cutoff": trained.cutoff.isoformat(),
            **(extra_tags or {})}
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"{spec.name}-{trained.cutoff:%Y%m%d}") as run:
        params = {f"cb_{k}": v for k, v in spec.catboost_params().items() if k != "monotone_constraints"}
        params.update({f"n_{k}": v for k, v in trained.sizes.items()},
                      n_features=len(spec.features), policy_threshold=spec.policy_threshold,
                      calibration_method=trained.calibrator.method, promotion_metric=spec.promotion.metric,
                      promotion_margin=spec.promotion.margin,
                      monotone=json.dumps(spec.monotone_constraints))
        mlflow.log_params(params)
        mlflow.log_metrics(_flat_metrics(trained))
        if champion:
            mlflow.log_metrics({f"champion_{k}": float(v) for k, v in champion.items()
                                if isinstance(v, float) and np.isfinite(v)})
        mlflow.set_tags(tags)
        mlflow.log_dict({"features": spec.features, "categorical": spec.categorical_features}, "features.json")
        mlflow.log_dict(spec.model_dump(mode="json"), SPEC_ARTIFACT)
        mlflow.log_text(trained.calibrator.to_json(), CALIBRATOR_ARTIFACT)
        mlflow.log_dict({"model": trained.metrics, "baselines": trained.baselines}, "metrics.json")
        with tempfile.TemporaryDirectory() as tmp:
            for path in _log_plots(trained, Path(tmp)):
                mlflow.log_artifact(str(path), "plots")
        example = feature_frame(trained.valid.head(EXAMPLE_ROWS), spec)
        signature = infer_signature(example, trained.model.predict_proba(example)[:, 1])
        info = mlflow.catboost.log_model(trained.model, name="model", signature=signature, input_example=example,
                                         pip_requirements=_pip_requirements(),
                                         registered_model_name=spec.registered_model)
        version = str(info.registered_model_version)
        run_id = run.info.run_id
    client.set_registered_model_alias(spec.registered_model, CHALLENGER, version)
    if decision.promote:
        client.set_registered_model_alias(spec.registered_model, CHAMPION, version)
    for key in ("promotion_decision", "promotion_reason", "calibrated", "validation_cutoff"):
        client.set_model_version_tag(spec.registered_model, version, key, tags[key])
    return RegisteredVersion(spec.registered_model, version, run_id, decision.promote, decision.reason,
                             trained.metrics, champion)


LISTED_METRICS = ("val_roc_auc", "val_pr_auc", "val_ece", "val_brier", "val_accuracy", "val_caught_at_10pct")


def list_models(names: list[str], tracking_uri: str | None = None) -> list[dict]:
    """Every version of the named models with its aliases, decision and validation metrics."""
    import mlflow
    from mlflow.exceptions import MlflowException

    configure_mlflow(tracking_uri)
    client = mlflow.MlflowClient()
    rows = []
    for name in names:
        try:
            registered = client.get_registered_model(name)
        except MlflowException:
            continue
        aliases: dict[str, list[str]] = {}
        for alias, version in (registered.aliases or {}).items():
            aliases.setdefault(str(version), []).append(alias)
        for mv in client.search_model_versions(f"name='{name}'"):
            run = client.get_run(mv.run_id)
            rows.append({
                "model": name, "version": str(mv.version), "aliases": sorted(aliases.get(str(mv.version), [])),
                "created": mv.creation_timestamp, "run_id": mv.run_id,
                "decision": mv.tags.get("promotion_decision"), "reason": mv.tags.get("promotion_reason"),
                "metrics": {k[4:]: run.data.metrics[k] for k in LISTED_METRICS if k in run.data.metrics},
            })
    return sorted(rows, key=lambda r: (r["model"], -int(r["version"])))
