"""The telemetry model: deterministic, seasonal, surges on both pools, faults on the canary only."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from releasepilot.simulation.telemetry import METRICS, FaultSpec, Surge, simulate_telemetry


def test_same_seed_same_series_other_seed_differs():
    a = simulate_telemetry(120, seed=4, fault=FaultSpec("ramp", "latency_p99", 30, 1.0, 20))
    b = simulate_telemetry(120, seed=4, fault=FaultSpec("ramp", "latency_p99", 30, 1.0, 20))
    c = simulate_telemetry(120, seed=5, fault=FaultSpec("ramp", "latency_p99", 30, 1.0, 20))
    for metric in METRICS:
        assert np.array_equal(a.canary[metric], b.canary[metric])
    assert not np.array_equal(a.canary["latency_p99"], c.canary["latency_p99"])


def test_daily_cycle_peaks_in_the_afternoon():
    t = simulate_telemetry(24 * 60, start=datetime(2025, 1, 6, tzinfo=UTC), seed=1)
    hourly = t.baseline["throughput"].reshape(24, 60).mean(axis=1)
    assert 12 <= int(np.argmax(hourly)) <= 16 and int(np.argmin(hourly)) in (0, 1, 2, 3, 4)


@pytest.mark.parametrize(("shape", "duration", "after_end"), [("step", 0, 1.0), ("spike", 5, 0.0),
                                                              ("ramp", 30, 1.0)])
def test_fault_shapes_hit_only_the_canary(shape, duration, after_end):
    t = simulate_telemetry(120, seed=2, fault=FaultSpec(shape, "error_rate", 40, 3.0, duration))
    ratio = t.canary_mean["error_rate"] / t.baseline_mean["error_rate"]
    assert np.allclose(ratio[:40], 1.0)
    assert ratio[100] == pytest.approx(1 + 3.0 * after_end)
    assert t.canary["error_rate"][50:].mean() > t.baseline["error_rate"][50:].mean() if after_end else True


def test_leak_grows_and_drags_latency_once_saturated():
    t = simulate_telemetry(300, seed=2, fault=FaultSpec("leak", "saturation", 0, 1.0, 60))
    sat = t.canary_mean["saturation"] / t.baseline_mean["saturation"]
    assert sat[0] == pytest.approx(1.0) and sat[60] == pytest.approx(2.0) and sat[30] == pytest.approx(1.5)
    assert t.canary_mean["saturation"].max() <= 0.999 and t.canary_mean["saturation"][200] > 0.8
    assert t.canary_mean["latency_p99"][250] > 1.2 * t.baseline_mean["latency_p99"][250]


def test_throughput_fault_lowers_throughput_and_surge_raises_both_pools():
    drop = simulate_telemetry(60, seed=1, fault=FaultSpec("step", "throughput", 10, 1.0))
    assert drop.canary_mean["throughput"][30] == pytest.approx(drop.baseline_mean["throughput"][30] / 2)
    surge = simulate_telemetry(60, seed=1, fault=FaultSpec("surge", "throughput", 10, 1.0, 30))
    assert not surge.fault.is_fault
    assert surge.load[25] == pytest.approx(2 * surge.load[5], rel=0.05)
    assert surge.canary_mean["throughput"][25] == pytest.approx(surge.baseline_mean["throughput"][25])
    also = simulate_telemetry(60, seed=1, surges=[Surge(10, 2.0, 30)])
    assert np.allclose(also.load, surge.load)


def test_ground_truth_record_round_trip_and_validation():
    spec = FaultSpec("ramp", "latency_p99", 12, 0.8, 30)
    record = spec.as_record()
    assert set(record) == {"fault_shape", "fault_metric", "fault_onset_min", "fault_magnitude",
                           "fault_duration_min"}
    assert FaultSpec.from_record(record) == spec
    assert FaultSpec.from_record({"fault_shape": None}).shape == "none"
    with pytest.raises(ValueError, match="shape"):
        FaultSpec("wobble")
    with pytest.raises(ValueError, match="duration"):
        FaultSpec("ramp", "error_rate", 0, 1.0, 0)
