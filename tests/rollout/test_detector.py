"""The streaming detector on simulated series: quiet through seasonality and surges, loud on faults."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from releasepilot.rollout.detector import (
    METRIC_DETECTORS,
    DetectorConfig,
    StreamingDetector,
    detect_series,
    first_alarm,
)
from releasepilot.simulation.telemetry import BAD_DIRECTION, METRICS, FaultSpec, Surge, simulate_telemetry

MIDNIGHT = datetime(2025, 1, 6, 0, 0, tzinfo=UTC)
NINE_AM_DAY_2 = 24 * 60 + 9 * 60


@pytest.fixture(scope="module")
def surge_days():
    """Two days of a healthy release with a +-45% daily cycle and traffic doubling at 9 AM on day 2."""
    return simulate_telemetry(2 * 24 * 60, start=MIDNIGHT, seed=5, canary_weight=0.5,
                              surges=[Surge(NINE_AM_DAY_2, factor=2.0, duration_min=120)])


@pytest.mark.parametrize("metric", METRICS)
def test_no_alarm_on_daily_seasonality_or_a_9am_surge(surge_days, metric):
    assert surge_days.load[NINE_AM_DAY_2 + 10] > 1.9 * surge_days.load[NINE_AM_DAY_2 - 10]
    points = detect_series(surge_days.canary[metric], METRIC_DETECTORS[metric], surge_days.baseline[metric])
    assert [p.index for p in points if p.alarm] == []


def test_single_series_follows_the_daily_cycle_without_a_covariate(surge_days):
    # the raw fleet throughput swings +-45% over the day; only drops are bad and none is flagged
    day_one = surge_days.baseline["throughput"][: 24 * 60]
    points = detect_series(day_one, DetectorConfig(direction="down"))
    assert max(day_one) / min(day_one) > 2.0
    assert not any(p.alarm for p in points)


def test_surge_in_the_good_direction_is_relearned_not_flagged(surge_days):
    window = surge_days.baseline["throughput"][NINE_AM_DAY_2 - 120: NINE_AM_DAY_2 + 60]
    points = detect_series(window, DetectorConfig(direction="down"))
    assert not any(p.alarm for p in points)


@pytest.mark.parametrize(("shape", "metric", "magnitude", "duration", "within"), [
    ("step", "error_rate", 2.0, 0, 15),
    ("step", "latency_p99", 0.5, 0, 5),
    ("ramp", "latency_p99", 2.0, 60, 20),
    ("ramp", "saturation", 1.0, 30, 20),
    ("spike", "error_rate", 8.0, 3, 3),
    ("spike", "throughput", 3.0, 2, 2),
    ("leak", "saturation", 1.0, 120, 40),
])
def test_alarm_soon_after_fault_onset(shape, metric, magnitude, duration, within):
    onset = 90
    telemetry = simulate_telemetry(300, seed=3, canary_weight=0.2,
                                   fault=FaultSpec(shape, metric, onset, magnitude, duration))
    points = detect_series(telemetry.canary[metric], METRIC_DETECTORS[metric], telemetry.baseline[metric])
    assert first_alarm(points) is not None
    assert onset <= first_alarm(points) <= onset + within
    assert points[first_alarm(points)].reason in ("cusum", "spike")


def test_no_look_ahead_appending_future_rows_never_changes_past_scores():
    telemetry = simulate_telemetry(400, seed=9, fault=FaultSpec("step", "latency_p99", 200, 1.0))
    values = telemetry.canary["latency_p99"]
    short = detect_series(values[:150], DetectorConfig())
    full = detect_series(values, DetectorConfig())
    assert [p.as_dict() for p in short] == [p.as_dict() for p in full[:150]]
    assert first_alarm(full) is not None and first_alarm(full) >= 200   # the future fault is seen later


def test_missing_values_are_skipped_without_alarm():
    detector = StreamingDetector(DetectorConfig(warmup=5))
    for value in [1.0, 1.1, 0.9, 1.0, 1.05, 1.0]:
        detector.update(value)
    point = detector.update(float("nan"))
    assert point.reason == "missing value" and not point.alarm
    assert not detector.update(1.02).alarm


def test_direction_both_flags_a_drop_and_up_does_not():
    values = np.r_[np.random.default_rng(0).normal(100, 1, 60), np.full(20, 80.0)]
    assert first_alarm(detect_series(values, DetectorConfig(direction="both"))) is not None
    assert first_alarm(detect_series(values, DetectorConfig(direction="up"))) is None


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="direction"):
        DetectorConfig(direction="sideways")
    assert set(METRIC_DETECTORS) == set(METRICS)
    assert all(METRIC_DETECTORS[m].direction == BAD_DIRECTION[m] for m in METRICS)


def test_difference_mode_cancels_what_the_baseline_also_shows():
    rng = np.random.default_rng(4)
    baseline = np.r_[np.full(60, 0.01), np.full(60, 0.03)] + rng.normal(0, 0.001, 120)
    config = DetectorConfig(direction="up", covariate_mode="difference", trend_beta=0.0)
    both = baseline + rng.normal(0, 0.001, 120)                      # both pools rise together
    assert first_alarm(detect_series(both, config, baseline)) is None
    canary_only = np.r_[np.full(60, 0.01), np.full(60, 0.03)] + rng.normal(0, 0.001, 120)
    flat_baseline = np.full(120, 0.01) + rng.normal(0, 0.001, 120)
    alarm = first_alarm(detect_series(canary_only, config, flat_baseline))
    assert alarm is not None and 60 <= alarm <= 63
    with pytest.raises(ValueError, match="covariate_mode"):
        DetectorConfig(covariate_mode="sum")
