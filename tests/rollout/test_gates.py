"""The canary judge and the argo-style limits, on hand-made samples."""

from __future__ import annotations

import numpy as np
import pytest

from releasepilot.rollout.gates import (
    GateLimits,
    MetricSpec,
    assess_gate_run,
    classify_metric,
    judge_canary,
    source_error,
)

RNG = np.random.default_rng(11)
BASE = RNG.normal(100.0, 2.0, 30)


def test_same_distribution_passes():
    verdict = classify_metric(RNG.normal(100.0, 2.0, 30), BASE, MetricSpec("latency_p99"))
    assert verdict.classification == "pass" and not verdict.failed
    assert verdict.p_value > 0.01 and verdict.n_canary == 30


def test_clear_rise_is_high_and_fails_an_up_metric():
    verdict = classify_metric(BASE + 25.0, BASE, MetricSpec("latency_p99", "up"))
    assert verdict.classification == "high" and verdict.failed
    assert verdict.p_value < 0.001 and verdict.shift == pytest.approx(25.0, abs=0.5)
    assert "margin" in verdict.reason


def test_drop_is_low_and_fails_only_a_down_metric():
    up = classify_metric(BASE - 25.0, BASE, MetricSpec("latency_p99", "up"))
    down = classify_metric(BASE - 25.0, BASE, MetricSpec("throughput", "down"))
    assert up.classification == down.classification == "low"
    assert not up.failed and down.failed


def test_significant_but_small_shift_is_within_margin():
    # 3% higher with tiny noise: Mann-Whitney is certain, but the 10% margin says it does not matter
    base = RNG.normal(100.0, 0.2, 40)
    verdict = classify_metric(base + 3.0, base, MetricSpec("latency_p99", rel_margin=0.10))
    assert verdict.p_value < 1e-6
    assert verdict.classification == "pass"
    assert verdict.margin == pytest.approx(10.0, rel=0.05)


def test_too_few_samples_is_nodata():
    verdict = classify_metric([1.0, 2.0], BASE, MetricSpec("x"), min_samples=5)
    assert verdict.classification == "nodata"


SPECS = (
    MetricSpec("errors", "up", critical=True, weight=1.0),
    MetricSpec("latency", "up", weight=1.0),
    MetricSpec("cpu", "up", weight=1.0),
    MetricSpec("rps", "down", weight=17.0),
)


def _groups(**shift):
    baseline = {s.name: BASE.copy() for s in SPECS}
    canary = {s.name: BASE + shift.get(s.name, 0.0) + RNG.normal(0, 0.5, len(BASE)) for s in SPECS}
    return canary, baseline


def test_all_metrics_pass():
    judgement = judge_canary(*_groups(), SPECS)
    assert judgement.status == "pass" and judgement.score == 100.0


def test_critical_metric_vetoes_despite_high_score():
    judgement = judge_canary(*_groups(errors=30.0), SPECS)
    assert judgement.score == pytest.approx(95.0)          # only 1 of 20 weight failed
    assert judgement.status == "fail"
    assert "critical metric failed: errors" in judgement.reasons[0]


def test_non_critical_failure_gives_marginal():
    judgement = judge_canary(*_groups(latency=30.0, cpu=30.0), SPECS)
    assert judgement.score == pytest.approx(90.0)
    assert judgement.status == "marginal"


def test_many_failures_fail_on_score():
    judgement = judge_canary(*_groups(rps=-30.0), SPECS)
    assert judgement.score == pytest.approx(15.0)
    assert judgement.status == "fail"


def test_missing_critical_metric_is_inconclusive_never_pass():
    canary, baseline = _groups()
    canary["errors"] = np.array([])
    judgement = judge_canary(canary, baseline, SPECS)
    assert judgement.status == "inconclusive" and "errors" in judgement.reasons[0]


def test_limits_first_failure_fails_by_default():
    assert assess_gate_run(["pass", "fail"]).phase == "failed"
    assert assess_gate_run(["pass", "fail"], GateLimits(failure_limit=1)).phase == "running"
    assert assess_gate_run(["fail", "pass", "fail"], GateLimits(failure_limit=1)).phase == "failed"


def test_limits_consecutive_errors_go_inconclusive_not_pass():
    limits = GateLimits(consecutive_error_limit=2)
    assert assess_gate_run(["error", "error"], limits).phase == "running"
    verdict = assess_gate_run(["error", "error", "error"], limits)
    assert verdict.phase == "inconclusive" and verdict.consecutive_errors == 3
    # errors separated by a pass do not add up
    assert assess_gate_run(["error", "error", "pass", "error", "error"], limits).phase == "running"
    # a finished run that only ever saw errors is never successful
    assert assess_gate_run(["error"], limits, finished=True).phase == "inconclusive"


def test_limits_marginal_pauses_and_inconclusive_limit():
    assert assess_gate_run(["pass", "marginal"]).phase == "inconclusive"
    assert assess_gate_run(["pass", "marginal"], GateLimits(inconclusive_limit=1)).phase == "running"
    assert assess_gate_run(["pass", "pass"], finished=True).phase == "successful"
    assert assess_gate_run(["pass"], GateLimits(required_passes=2), finished=True).phase == "inconclusive"


def test_unknown_status_is_rejected():
    with pytest.raises(ValueError, match="status 'ok'"):
        assess_gate_run(["ok"])


def test_source_error_verdict_carries_reason():
    verdict = source_error("connection refused")
    assert verdict.status == "error" and "connection refused" in verdict.reasons[0]
