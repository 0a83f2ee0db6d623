"""Metrics, calibration and reason texts on inputs with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from releasepilot.risk.calibration import Calibrator, calibrate_if_needed, fit_calibrator
from releasepilot.risk.explain import describe, probability_effects, reasons_for
from releasepilot.risk.metrics import (
    caught_when_held,
    evaluate_probabilities,
    expected_calibration_error,
    roc_auc,
)


def test_auc_matches_sklearn_and_handles_one_class():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.2
    p = np.round(rng.random(500) * 0.5 + y * 0.3, 2)   # ties on purpose
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert np.isnan(roc_auc(np.zeros(5), np.linspace(0, 1, 5)))


def test_ece_is_small_for_calibrated_and_large_for_overconfident_probabilities():
    rng = np.random.default_rng(1)
    p = rng.random(20000)
    y = rng.random(20000) < p
    assert expected_calibration_error(y, p) < 0.02
    assert expected_calibration_error(y, np.clip(p * 1.6, 0, 1)) > 0.1


def test_caught_when_riskiest_share_is_held():
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    p = np.array([0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05])
    assert caught_when_held(y, p, 0.10) == 0.5
    metrics = evaluate_probabilities(y, p, 0.5)
    assert metrics["accuracy"] == 0.9 and metrics["caught_at_20pct"] == 0.5


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibration_fixes_overconfidence_on_fresh_data(method):
    rng = np.random.default_rng(2)

    def sample(n):
        true = rng.beta(1, 8, n)
        return rng.random(n) < true, np.clip(true ** 0.6, 0, 1)   # raw scores overstate the risk

    y_fit, raw_fit = sample(5000)
    decision = calibrate_if_needed(y_fit, raw_fit, max_ece=0.03, method=method)
    assert decision.applied and decision.ece_before > 0.03
    y_new, raw_new = sample(5000)
    assert expected_calibration_error(y_new, decision.calibrator.apply(raw_new)) < 0.03
    restored = Calibrator.from_json(decision.calibrator.to_json())
    assert np.allclose(restored.apply(raw_new), decision.calibrator.apply(raw_new))


def test_calibrated_scores_are_kept():
    rng = np.random.default_rng(3)
    p = rng.random(5000)
    decision = calibrate_if_needed(rng.random(5000) < p, p, max_ece=0.03, method="isotonic")
    assert not decision.applied and decision.calibrator.method == "identity"


def test_isotonic_calibrator_is_monotone():
    rng = np.random.default_rng(4)
    p = rng.random(2000)
    cal = fit_calibrator(rng.random(2000) < p ** 2, p, "isotonic")
    grid = cal.apply(np.linspace(0, 1, 101))
    assert np.all(np.diff(grid) >= 0)


def test_reasons_read_like_a_release_manager_would_say_them():
    assert describe("churn_ratio_service_median", 3.14) == "churn is 3.1x this service's median"
    assert describe("oncall_present", False) == "nobody is on call"
    assert describe("deploy_hour", 20) == "deploys at 20:00 UTC"
    assert describe("mystery", None) == "mystery unknown"
    shap_row = np.array([1.2, -0.1, 0.0, -2.0])   # three features + base value
    effects = probability_effects(shap_row, Calibrator())
    assert effects[0] > 0 and effects[1] < 0 and effects[2] == 0
    reasons = reasons_for(shap_row, ["churn_ratio_service_median", "oncall_present", "tier"],
                          [3.14, True, 2], Calibrator(), top=3)
    assert reasons[0].text.startswith("churn is 3.1x this service's median: +0.")
    assert [r.feature for r in reasons] == ["churn_ratio_service_median", "oncall_present"]
