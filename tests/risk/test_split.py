"""Time splits and out-of-time stacking: nothing from the future reaches training."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from releasepilot.errors import InputError
from releasepilot.risk.metrics import roc_auc
from releasepilot.risk.split import calibration_holdout, expanding_folds, time_split
from releasepilot.risk.train import fit_catboost, out_of_time_change_scores, predict_raw


def _frame(n=200, seed=1):
    rng = np.random.default_rng(seed)
    t0 = datetime(2024, 1, 1)
    times = [t0 + timedelta(hours=int(h)) for h in rng.permutation(n)]
    return pl.DataFrame({"t": times, "y": rng.random(n) < 0.3, "x": rng.random(n),
                         "known": [t + timedelta(hours=48) for t in times]})


def test_time_split_trains_only_on_the_past_with_labels_known_by_the_cutoff():
    frame = _frame()
    split = time_split(frame, time_col="t", target="y", validation_fraction=0.2, label_known_col="known")
    assert split.train["t"].max() < split.valid["t"].min()
    assert split.train["t"].max() < split.cutoff <= split.valid["t"].min()
    # rows whose label arrived after the cutoff are not trained on, though they happened before it
    assert (split.train["known"] <= split.cutoff).all()
    late = frame.filter((pl.col("t") < split.cutoff) & (pl.col("known") > split.cutoff))
    assert late.height > 0 and late.join(split.train, on="t", how="semi").height == 0
    assert split.valid.height == pytest.approx(40, abs=1)


def test_time_split_ignores_row_order_and_pending_rows():
    frame = _frame().with_columns(pl.when(pl.col("x") > 0.9).then(None).otherwise(pl.col("y")).alias("y"))
    a = time_split(frame, time_col="t", target="y", validation_fraction=0.25)
    b = time_split(frame.reverse(), time_col="t", target="y", validation_fraction=0.25)
    assert a.cutoff == b.cutoff and a.train.height == b.train.height
    assert a.train["y"].null_count() == 0 and a.valid["y"].null_count() == 0


def test_calibration_holdout_is_the_newest_slice():
    fit, calib = calibration_holdout(_frame(), time_col="t", fraction=0.15)
    assert fit["t"].max() < calib["t"].min()


def test_expanding_folds_cover_time_in_order():
    blocks = expanding_folds(_frame()["t"], 4)
    assert len(blocks) == 5 and blocks[0][0] is None and blocks[-1][1] is None
    edges = [b[1] for b in blocks[:-1]]
    assert edges == sorted(edges)


def test_split_errors_name_the_column():
    with pytest.raises(InputError, match="when"):
        time_split(_frame(), time_col="when", target="y", validation_fraction=0.2)


def test_stacked_scores_come_from_models_that_never_saw_the_release(history, specs):
    """Labels are pure noise and each release has its own value of `lt`: a change model that saw a release
    memorises it (in-sample AUC well above 0.5); out-of-time scores must stay near chance."""
    rng = np.random.default_rng(3)
    releases = history["releases"].filter(pl.col("is_failure").is_not_null())
    noise = releases.select("deployment_id").with_columns(
        pl.Series("noisy", rng.random(releases.height) < 0.3), pl.Series("uid", rng.random(releases.height) * 1e4))
    changes = (history["changes"].join(noise, on="deployment_id")
               .with_columns(pl.col("noisy").alias("is_defective"), pl.col("uid").alias("lt")))
    releases = releases.join(noise, on="deployment_id").with_columns(pl.col("noisy").alias("is_failure"))
    spec = specs["change_risk"].model_copy(deep=True)
    spec.catboost.update(iterations=150, depth=6)
    spec.monotone_constraints = {}

    scores = out_of_time_change_scores(changes, releases, spec, specs["release_risk"])
    joined = releases.join(scores, on="deployment_id")
    assert (joined["scored_after"] <= joined["started_at"]).all()
    oot_auc = roc_auc(joined["is_failure"].to_numpy(), joined["change_risk_max"].to_numpy())

    model = fit_catboost(changes, spec)  # a leaky model: trained on every release it scores
    leaky = changes.select("deployment_id").with_columns(pl.Series("s", predict_raw(model, changes, spec)))
    leaky = leaky.group_by("deployment_id").agg(pl.col("s").max()).join(releases, on="deployment_id")
    leaky_auc = roc_auc(leaky["is_failure"].to_numpy(), leaky["s"].to_numpy())
    assert leaky_auc > 0.7, "the test must be able to see a leak"
    assert abs(oot_auc - 0.5) < 0.08
