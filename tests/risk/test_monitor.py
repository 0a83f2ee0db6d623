"""Drift and decay: a shifted process is flagged and triggers retraining, an unchanged one is not."""

from __future__ import annotations

from synthetic import make_history

from releasepilot.risk.monitor import assess_drift, monitor_frames
from releasepilot.risk.spec import MonitoringSpec

RULE = MonitoringSpec(drift_share=0.1, max_auc_drop=0.05)


def test_assess_drift_is_a_pure_threshold_rule():
    assert not assess_drift(["la"], 20, 0.01, RULE).retrain
    assert assess_drift(["la", "ld", "nf"], 20, None, RULE).retrain
    verdict = assess_drift([], 20, 0.2, RULE)
    assert verdict.retrain and "AUC fell by 0.200" in verdict.reasons[0]


def test_monitor_flags_the_shifted_history_and_not_the_stable_one(trained, history, tmp_path):
    model = trained.change
    spec = model.spec.model_copy(update={"monitoring": RULE})
    reference = history["changes"]
    stable = make_history(n_releases=400, seed=11)["changes"]
    shifted = make_history(n_releases=400, seed=11, shift=1.5)["changes"]

    calm = monitor_frames(reference, stable, spec, predict=model.predict,
                          reference_auc=model.metrics["roc_auc"], out_dir=tmp_path / "stable")
    moved = monitor_frames(reference, shifted, spec, predict=model.predict,
                           reference_auc=model.metrics["roc_auc"], out_dir=tmp_path / "shifted")
    assert {"la", "ld"} <= set(moved.drifted_features)
    assert not {"la", "ld"} & set(calm.drifted_features)
    assert moved.verdict.retrain and not calm.verdict.retrain, (moved.verdict, calm.verdict)
    assert moved.prediction_drift["drifted"] and not calm.prediction_drift["drifted"]
    assert calm.current_metrics is not None and calm.labelled_current > 0
    assert (tmp_path / "shifted" / "drift.html").stat().st_size > 10_000
    assert (tmp_path / "stable" / "quality.html").exists()
