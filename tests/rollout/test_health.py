"""Health sources: the simulated one, and the gate going inconclusive when a source is down."""

from __future__ import annotations

from datetime import timedelta

import pytest

from releasepilot.rollout.gates import GateLimits, assess_gate_run, evaluate_gate
from releasepilot.rollout.health import HealthSourceUnavailable
from releasepilot.rollout.health.simulated import SimulatedHealthSource
from releasepilot.simulation.telemetry import FaultSpec, simulate_telemetry


@pytest.fixture()
def source():
    healthy = simulate_telemetry(60, seed=1, canary_weight=0.2)
    broken = simulate_telemetry(60, seed=2, canary_weight=0.2, fault=FaultSpec("step", "error_rate", 0, 4.0))
    return SimulatedHealthSource({"checkout-api": healthy, "payments-api": broken})


def test_simulated_source_slices_the_range(source):
    start = source.fleet["checkout-api"].start
    samples = source.fetch("checkout-api", start + timedelta(minutes=10), start + timedelta(minutes=25))
    assert len(samples.canary["error_rate"]) == 15 and len(samples.baseline["latency_p99"]) == 15


def test_gate_passes_healthy_and_fails_faulty(source):
    start = source.fleet["checkout-api"].start
    end = start + timedelta(minutes=20)
    assert evaluate_gate(source, "checkout-api", start, end).status == "pass"
    failed = evaluate_gate(source, "payments-api", start, end)
    assert failed.status == "fail"
    assert any(m.name == "error_rate" and m.failed for m in failed.metrics)


def test_source_down_never_passes(source):
    start = source.fleet["checkout-api"].start
    source.down = True
    with pytest.raises(HealthSourceUnavailable):
        source.fetch("checkout-api", start, start + timedelta(minutes=5))
    statuses = [evaluate_gate(source, "checkout-api", start, start + timedelta(minutes=10)).status
                for _ in range(3)]
    assert statuses == ["error"] * 3
    verdict = assess_gate_run(statuses, GateLimits(consecutive_error_limit=2))
    assert verdict.phase == "inconclusive"


def test_empty_range_and_unknown_service_are_unavailable(source):
    start = source.fleet["checkout-api"].start
    with pytest.raises(HealthSourceUnavailable, match="no samples"):
        source.fetch("checkout-api", start + timedelta(hours=5), start + timedelta(hours=6))
    assert evaluate_gate(source, "nobody", start, start + timedelta(minutes=5)).status == "error"
