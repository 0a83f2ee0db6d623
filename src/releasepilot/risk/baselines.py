"""Baselines that every model is shown next to, on the same validation window.

Majority class (a constant), the service's trailing failure rate, a logistic regression on the same
features, and on simulated data the ground truth probability (the best any model can do). The ground
truth file is read here and in the benchmark only: never by features or training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from releasepilot.risk.metrics import evaluate_probabilities
from releasepilot.risk.spec import ModelSpec

SERVICE_RATE_COLUMN = "svc_fail_rate_90d"
LOGREG_C = 1.0
LOGREG_MAX_ITER = 500


def majority_class(train_y: np.ndarray, n_valid: int) -> np.ndarray:
    """A constant at the training base rate: always predicts the majority class at a 0.5 threshold."""
    return np.full(n_valid, float(np.mean(train_y)) if len(train_y) else 0.0)


def service_trailing_rate(train: pl.DataFrame, valid: pl.DataFrame, spec: ModelSpec) -> np.ndarray:
    """The service's trailing failure rate: the mart's 90-day column when present, else the training rate."""
    base = float(train[spec.target].cast(pl.Float64).mean() or 0.0)
    if SERVICE_RATE_COLUMN in valid.columns:
        return valid[SERVICE_RATE_COLUMN].cast(pl.Float64).fill_null(base).fill_nan(base).to_numpy()
    if not spec.service_column or spec.service_column not in train.columns:
        return np.full(valid.height, base)
    rates = train.group_by(spec.service_column).agg(pl.col(spec.target).cast(pl.Float64).mean().alias("_rate"))
    joined = valid.select(spec.service_column).join(rates, on=spec.service_column, how="left",
                                                    maintain_order="left")
    return joined["_rate"].fill_null(base).to_numpy()


def _design(frame: pl.DataFrame, spec: ModelSpec):
    return frame.select(spec.features).to_pandas()


def logistic_regression(train: pl.DataFrame, valid: pl.DataFrame, spec: ModelSpec) -> np.ndarray:
    """Standardised numeric features plus one-hot categories, L2 logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric, categorical = spec.numeric_features, spec.categorical_features
    transformers = [("num", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()), numeric)]
    if categorical:
        transformers.append(("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                                                  OneHotEncoder(handle_unknown="ignore")), categorical))
    model = make_pipeline(ColumnTransformer(transformers),
                          LogisticRegression(C=LOGREG_C, max_iter=LOGREG_MAX_ITER))
    x_train = _design(train, spec)
    x_train[numeric] = x_train[numeric].astype(float)
    x_valid = _design(valid, spec)
    x_valid[numeric] = x_valid[numeric].astype(float)
    for col in categorical:
        x_train[col] = x_train[col].astype(str)
        x_valid[col] = x_valid[col].astype(str)
    y = train[spec.target].cast(pl.Int8).to_numpy()
    if len(np.unique(y)) < 2:
        return np.full(valid.height, float(y.mean()) if len(y) else 0.0)
    model.fit(x_train, y)
    return model.predict_proba(x_valid)[:, 1]


def ground_truth(valid: pl.DataFrame, path: Path | str, key: str = "deployment_id") -> np.ndarray | None:
    """The simulator's true failure probability for each validation row (evaluation only)."""
    path = Path(path)
    if not path.exists():
        return None
    truth = pl.read_parquet(path, columns=[key, "p_fail"])
    joined = valid.select(key).join(truth, on=key, how="left", maintain_order="left")
    if joined["p_fail"].null_count():   # a ground truth file from another history: no baseline
        return None
    return joined["p_fail"].to_numpy()


def baseline_metrics(train: pl.DataFrame, valid: pl.DataFrame, spec: ModelSpec,
                     ground_truth_path: Path | str | None = None) -> dict[str, dict[str, float]]:
    """Metrics of every available baseline on the validation window."""
    y_train = train[spec.target].cast(pl.Int8).to_numpy()
    y_valid = valid[spec.target].cast(pl.Int8).to_numpy()
    thr = spec.policy_threshold
    out = {"majority": evaluate_probabilities(y_valid, majority_class(y_train, valid.height), thr)}
    has_service = SERVICE_RATE_COLUMN in valid.columns or (spec.service_column in train.columns
                                                           if spec.service_column else False)
    if has_service:   # without a service there is no service rate (it would be the majority constant)
        out["service_rate"] = evaluate_probabilities(y_valid, service_trailing_rate(train, valid, spec), thr)
    out["logistic"] = evaluate_probabilities(y_valid, logistic_regression(train, valid, spec), thr)
    if ground_truth_path is not None and spec.key == "deployment_id":
        truth = ground_truth(valid, ground_truth_path)
        if truth is not None:
            out["ground_truth"] = evaluate_probabilities(y_valid, truth, thr)
    return out
