"""Promotion: decided by a pure rule, applied in a real MLflow SQLite store."""

from __future__ import annotations

import polars as pl
import pytest

from releasepilot.errors import NotReadyError
from releasepilot.risk.registry import decide_promotion, list_models, load_by_alias, log_and_register
from releasepilot.risk.scoring import load_champions
from releasepilot.risk.spec import PromotionSpec
from releasepilot.risk.train import train_model

RULE = PromotionSpec(metric="roc_auc", margin=0.01, max_ece=0.03)


def test_rule_promotes_only_a_calibrated_challenger_that_beats_the_champion_by_the_margin():
    assert decide_promotion({"roc_auc": 0.80, "ece": 0.02}, None, RULE).promote
    assert decide_promotion({"roc_auc": 0.82, "ece": 0.02}, {"roc_auc": 0.80, "ece": 0.01}, RULE).promote
    small = decide_promotion({"roc_auc": 0.805, "ece": 0.02}, {"roc_auc": 0.80, "ece": 0.01}, RULE)
    assert not small.promote and "margin" in small.reason
    uncalibrated = decide_promotion({"roc_auc": 0.95, "ece": 0.08}, {"roc_auc": 0.80, "ece": 0.01}, RULE)
    assert not uncalibrated.promote and "not calibrated" in uncalibrated.reason


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One real SQLite store for the module (creating one costs seconds); tests run in file order."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db"


def test_no_champion_gives_a_clear_error(store):
    with pytest.raises(NotReadyError, match="releasepilot train"):
        load_champions(store)


def test_better_challenger_is_promoted_and_worse_one_kept_with_its_reason(history, specs, store):
    # the small synthetic window makes ECE noisy; this test is about the margin, so calibration is relaxed
    spec = specs["change_risk"].model_copy(deep=True)
    spec.promotion.max_ece = 1.0
    weak_spec = spec.with_features(["ndev", "age"])          # noise features only
    changes = history["changes"]
    weak, strong = train_model(changes, weak_spec), train_model(changes, spec)
    assert strong.metrics["roc_auc"] > weak.metrics["roc_auc"] + spec.promotion.margin

    first = log_and_register(weak, tracking_uri=store)
    assert first.promoted and "no champion" in first.reason
    second = log_and_register(strong, tracking_uri=store)
    assert second.promoted and "beats champion" in second.reason
    third = log_and_register(weak, tracking_uri=store)
    assert not third.promoted and "does not beat champion" in third.reason
    # the champion was measured on the challenger's own window: the same numbers as when it was trained
    assert third.champion_metrics["roc_auc"] == pytest.approx(strong.metrics["roc_auc"])

    assert load_by_alias(spec.registered_model, "champion", store).version == second.version
    assert load_by_alias(spec.registered_model, "challenger", store).version == third.version
    rows = {r["version"]: r for r in list_models([spec.registered_model], store)}
    assert rows[third.version]["decision"] == "kept_challenger"
    assert rows[third.version]["reason"] == third.reason
    assert rows[second.version]["aliases"] == ["champion"]

    import mlflow

    run = mlflow.MlflowClient().get_run(third.run_id)
    assert run.data.tags["promotion_decision"] == "kept_challenger"
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(third.run_id, "plots")}
    assert artifacts == {"plots/calibration.png", "plots/feature_importance.png", "plots/shap_summary.png"}
    loaded = load_by_alias(spec.registered_model, "champion", store)
    sample = changes.head(20)
    assert loaded.predict(sample) == pytest.approx(strong.predict(sample))
    assert pl.Series(loaded.predict(sample)).is_between(0, 1).all()
