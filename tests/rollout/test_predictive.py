"""Predictive rollback: a damped-trend forecast rolls back before a ramp crosses its SLO."""

from __future__ import annotations

import numpy as np
import pytest

from releasepilot.rollout.predictive import assess_breach, holt_fit, holt_forecast, lead_time
from releasepilot.simulation.telemetry import FaultSpec, simulate_telemetry

SLO_MS = 400.0


def _first(indices) -> int | None:
    return int(indices[0]) if len(indices) else None


def test_rollback_before_a_latency_ramp_breaches_with_lead_time():
    onset = 60
    t = simulate_telemetry(240, seed=4, canary_weight=0.3, fault=FaultSpec("ramp", "latency_p99", onset, 1.5, 90))
    values = t.canary["latency_p99"]
    breach = _first(np.nonzero(t.canary_mean["latency_p99"] >= SLO_MS)[0])
    decided = None
    for minute in range(20, len(values)):
        window = values[max(0, minute - 60): minute + 1]
        if assess_breach(window, SLO_MS, reference=float(np.median(values[:onset])), horizon=30).rollback:
            decided = minute
            break
    assert breach is not None and decided is not None
    gained = lead_time(decided, breach)
    assert gained is not None and 5 <= gained <= 45
    assert decided > onset


def test_no_rollback_on_healthy_noise():
    t = simulate_telemetry(240, seed=8, canary_weight=0.3)
    values = t.canary["latency_p99"]
    for minute in range(20, len(values), 5):
        prediction = assess_breach(values[max(0, minute - 60): minute + 1], SLO_MS, horizon=30)
        assert not prediction.rollback, prediction.reason


def test_forecast_of_a_clean_line_and_evidence():
    line = 100 + 2.0 * np.arange(40)
    state = holt_fit(line, phi=1.0)
    assert state.trend == pytest.approx(2.0, rel=0.05)
    assert holt_forecast(state, 5, phi=1.0)[-1] == pytest.approx(line[-1] + 10, rel=0.01)
    prediction = assess_breach(line, 150.0, horizon=20, reference=100.0)
    assert prediction.rollback and prediction.minutes_to_breach is not None
    assert "trend" in prediction.reason and prediction.threshold == 150.0


def test_too_few_points_and_direction_down():
    assert not assess_breach([1.0, 2.0, 3.0], 10.0).rollback
    falling = 1000 - 20.0 * np.arange(30)
    assert assess_breach(falling, 300.0, direction="down", reference=1000.0, horizon=30).rollback
    assert lead_time(None, 10) is None and lead_time(3, 10) == 7.0


def test_no_rollback_when_the_healthy_reference_is_already_beyond_the_slo():
    """At peak load the baseline itself breaches: that is the service's breach, not the release's."""
    rng = np.random.default_rng(5)
    at_peak = 260 + rng.normal(0, 3, 30)                       # canary level like the baseline's
    verdict = assess_breach(at_peak, threshold=250, reference=262)
    assert not verdict.rollback and "reference" in verdict.reason
    rising = 150 + 4 * np.arange(30) + rng.normal(0, 2, 30)   # the release's own ramp still rolls back
    assert assess_breach(rising, threshold=250, reference=150).rollback
