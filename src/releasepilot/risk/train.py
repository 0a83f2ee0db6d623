"""Train the change-risk and release-risk CatBoost models on time-ordered splits.

Steps for one model: split by time (the newest window validates), hold out the newest slice of the
training part for calibration, fit CatBoost on the rest, calibrate when the held-out ECE is too high,
then measure the model and its baselines on the validation window. The release model is stacked on
change-risk scores produced out-of-time (expanding-window folds): a release's change scores come from a
change model fitted only on releases that started before it, with labels known by then.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from releasepilot.errors import InputError
from releasepilot.risk.baselines import baseline_metrics
from releasepilot.risk.calibration import CalibrationDecision, Calibrator, calibrate_if_needed
from releasepilot.risk.metrics import evaluate_probabilities
from releasepilot.risk.spec import STACKED_FEATURES, ModelSpec
from releasepilot.risk.split import calibration_holdout, expanding_folds, in_block, known_before, time_split

MISSING_CATEGORY = "unknown"
MIN_ROWS_PER_CLASS = 2
ProgressFn = Callable[[str, int, int], None]


def _noop(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class TrainedModel:
    """A fitted model with its calibrator, validation window and measurements."""

    spec: ModelSpec
    model: object                      # catboost.CatBoostClassifier
    calibrator: Calibrator
    calibration: CalibrationDecision
    cutoff: datetime
    valid: pl.DataFrame
    metrics: dict[str, float]
    raw_metrics: dict[str, float]
    baselines: dict[str, dict[str, float]]
    sizes: dict[str, int]
    seconds: float
    importance: dict[str, float] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return list(self.spec.features)

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Calibrated failure probabilities for `frame` (which must hold the spec's features)."""
        return self.calibrator.apply(predict_raw(self.model, frame, self.spec))


def check_columns(frame: pl.DataFrame, needed: list[str], what: str) -> None:
    """Raise InputError naming the missing columns and those found."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(f"missing columns {missing}; found {sorted(frame.columns)}", source=what)


def feature_frame(frame: pl.DataFrame, spec: ModelSpec):
    """The spec's features as a pandas frame: numbers as float, categories as strings."""
    check_columns(frame, spec.features, spec.table)
    exprs = []
    for name in spec.features:
        if name in spec.categorical_features:
            exprs.append(pl.col(name).cast(pl.Utf8).fill_null(MISSING_CATEGORY).alias(name))
        else:
            exprs.append(pl.col(name).cast(pl.Float64).alias(name))
    return frame.select(exprs).to_pandas()


def make_pool(frame: pl.DataFrame, spec: ModelSpec, with_label: bool = False):
    """A CatBoost Pool (build once, predict many times)."""
    from catboost import Pool

    label = frame[spec.target].cast(pl.Int8).to_numpy() if with_label else None
    return Pool(feature_frame(frame, spec), label=label, cat_features=spec.categorical_features or None)


def fit_catboost(frame: pl.DataFrame, spec: ModelSpec):
    """Fit a CatBoost classifier with the spec's parameters."""
    from catboost import CatBoostClassifier

    y = frame[spec.target].cast(pl.Int8)
    counts = y.value_counts()
    if counts.height < 2 or int(counts["count"].min()) < MIN_ROWS_PER_CLASS:
        raise InputError(f"training needs both outcomes (at least {MIN_ROWS_PER_CLASS} each); "
                         f"got {dict(zip(counts[spec.target].to_list(), counts['count'].to_list()))}",
                         source=spec.table, field=spec.target)
    model = CatBoostClassifier(**spec.catboost_params())
    model.fit(make_pool(frame, spec, with_label=True))
    return model


def predict_raw(model, frame: pl.DataFrame, spec: ModelSpec) -> np.ndarray:
    """Uncalibrated probabilities of failure."""
    if frame.height == 0:
        return np.zeros(0)
    return model.predict_proba(make_pool(frame, spec))[:, 1]


def train_model(frame: pl.DataFrame, spec: ModelSpec, *, ground_truth_path: Path | str | None = None,
                on_progress: ProgressFn = _noop) -> TrainedModel:
    """Split by time, fit, calibrate if needed, and measure on the validation window."""
    started = time.perf_counter()
    check_columns(frame, [*spec.features, spec.target, spec.time_column], spec.table)
    split = time_split(frame, time_col=spec.time_column, target=spec.target,
                       validation_fraction=spec.split.validation_fraction,
                       label_known_col=spec.label_known_column)
    fit_rows, calib_rows = calibration_holdout(split.train, time_col=spec.time_column,
                                               fraction=spec.split.calibration_fraction,
                                               label_known_col=spec.label_known_column)
    on_progress(f"fit {spec.name}", 0, 3)
    model = fit_catboost(fit_rows, spec)
    on_progress(f"fit {spec.name}", 1, 3)
    decision = calibrate_if_needed(calib_rows[spec.target].cast(pl.Int8).to_numpy(),
                                   predict_raw(model, calib_rows, spec),
                                   max_ece=spec.calibration.max_ece, method=spec.calibration.method)
    y_valid = split.valid[spec.target].cast(pl.Int8).to_numpy()
    raw = predict_raw(model, split.valid, spec)
    metrics = evaluate_probabilities(y_valid, decision.calibrator.apply(raw), spec.policy_threshold)
    raw_metrics = evaluate_probabilities(y_valid, raw, spec.policy_threshold)
    on_progress(f"fit {spec.name}", 2, 3)
    baselines = baseline_metrics(split.train, split.valid, spec, ground_truth_path)
    importance = dict(zip(spec.features, (float(v) for v in model.get_feature_importance()), strict=True))
    on_progress(f"fit {spec.name}", 3, 3)
    return TrainedModel(
        spec=spec, model=model, calibrator=decision.calibrator, calibration=decision, cutoff=split.cutoff,
        valid=split.valid, metrics=metrics, raw_metrics=raw_metrics, baselines=baselines,
        sizes={"train": fit_rows.height, "calibration": calib_rows.height, "validation": split.valid.height},
        seconds=time.perf_counter() - started, importance=importance)


def aggregate_change_scores(changes: pl.DataFrame, score_col: str = "change_risk",
                            key: str = "deployment_id") -> pl.DataFrame:
    """Per release: the max, mean and sum of its changes' risk scores."""
    return changes.group_by(key).agg(
        pl.col(score_col).max().alias(STACKED_FEATURES[0]),
        pl.col(score_col).mean().alias(STACKED_FEATURES[1]),
        pl.col(score_col).sum().alias(STACKED_FEATURES[2]),
    )


def out_of_time_change_scores(changes: pl.DataFrame, releases: pl.DataFrame, change_spec: ModelSpec,
                              release_spec: ModelSpec, *, on_progress: ProgressFn = _noop) -> pl.DataFrame:
    """Stacked change scores per release, each from a change model that never saw that release.

    Releases are cut into `stacking_folds + 1` time blocks; block k >= 1 is scored by a change model
    fitted on commits deployed before the block starts whose labels were known by then. Releases of
    block 0 get no score (nothing earlier to learn from) and are left out of the release model's training.
    Returns deployment_id, the block start it was scored at, and the three aggregates.
    """
    key = "deployment_id"
    check_columns(changes, [key, change_spec.time_column, change_spec.target], change_spec.table)
    blocks = expanding_folds(releases[release_spec.time_column], change_spec.split.stacking_folds)
    pieces = []
    labelled = changes.filter(pl.col(change_spec.target).is_not_null())
    for index, (start, end) in enumerate(blocks[1:], start=1):
        on_progress("out-of-time change scores", index - 1, len(blocks) - 1)
        history = known_before(labelled, change_spec.time_column, start, change_spec.label_known_column)
        block_ids = in_block(releases, release_spec.time_column, start, end).select(key)
        block_changes = changes.join(block_ids, on=key, how="semi")
        if block_changes.height == 0:
            continue
        model = fit_catboost(history, change_spec)
        scored = block_changes.select(key).with_columns(
            pl.Series("change_risk", predict_raw(model, block_changes, change_spec)))
        pieces.append(aggregate_change_scores(scored).with_columns(pl.lit(start).alias("scored_after")))
    on_progress("out-of-time change scores", len(blocks) - 1, len(blocks) - 1)
    if not pieces:
        raise InputError("no release could get out-of-time change scores", source=release_spec.table)
    return pl.concat(pieces)


def with_stacked_scores(releases: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """Releases joined to their stacked change scores (null where a release has no scored change)."""
    drop = [c for c in (*STACKED_FEATURES, "scored_after") if c in releases.columns]
    return releases.drop(drop).join(scores, on="deployment_id", how="left", maintain_order="left")


@dataclass
class TrainingResult:
    change: TrainedModel
    release: TrainedModel
    stacked_releases: int
    seconds: float


def train_all(changes: pl.DataFrame, releases: pl.DataFrame, specs: dict[str, ModelSpec], *,
              ground_truth_path: Path | str | None = None, on_progress: ProgressFn = _noop) -> TrainingResult:
    """Train the change model, the out-of-time stacked scores, then the release model."""
    started = time.perf_counter()
    change_spec, release_spec = specs["change_risk"], specs["release_risk"]
    change = train_model(changes, change_spec, on_progress=on_progress)
    scores = out_of_time_change_scores(changes, releases, change_spec, release_spec, on_progress=on_progress)
    first_scored = scores["scored_after"].min()
    stacked = with_stacked_scores(releases, scores).filter(pl.col(release_spec.time_column) >= first_scored)
    release = train_model(stacked, release_spec, ground_truth_path=ground_truth_path, on_progress=on_progress)
    return TrainingResult(change=change, release=release, stacked_releases=stacked.height,
                          seconds=time.perf_counter() - started)
