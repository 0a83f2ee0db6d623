"""Per-minute telemetry of a service's canary and baseline pools, with known injected faults.

The rollout machinery (health gates, anomaly detector, predictive rollback, benchmarks) needs metric
series whose truth is known: a daily traffic cycle, noise that depends on request volume, benign traffic
surges, and faults of a given shape injected into the canary only. Four metrics per minute:
`error_rate` (fraction), `latency_p99` (ms), `saturation` (0..1 per instance), `throughput` (requests per
minute per instance). Deterministic given a seed. The simulator writes a deployment's `FaultSpec` into
`ground_truth.parquet` (`fault_shape`, `fault_metric`, `fault_onset_min`, `fault_magnitude`,
`fault_duration_min`); `FaultSpec.from_record` reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

METRICS: tuple[str, ...] = ("error_rate", "latency_p99", "saturation", "throughput")
# Which way is bad for each metric: a rise in errors is bad, a fall in throughput is bad.
BAD_DIRECTION: dict[str, str] = {"error_rate": "up", "latency_p99": "up", "saturation": "up", "throughput": "down"}
FAULT_SHAPES: tuple[str, ...] = ("step", "ramp", "spike", "leak", "surge", "none")
HEALTHY_SHAPES: frozenset[str] = frozenset({"surge", "none"})

INSTANCES = 10                 # pool size when a pool takes the whole traffic
MIN_BASELINE_SHARE = 0.05      # the reference pool kept once the canary takes 100%
MAX_SATURATION = 0.999
SATURATION_KNEE = 0.8          # latency starts to queue above this saturation
QUEUE_SLOPE = 4.0              # relative latency rise per unit of saturation above the knee
MAX_ERROR_RATE = 1.0


@dataclass(frozen=True)
class ServiceProfile:
    """The healthy behaviour of one service at its daily mean load."""

    base_rpm: float = 6000.0          # requests per minute across the fleet at mean load
    error_rate: float = 0.004
    latency_p99_ms: float = 220.0
    saturation: float = 0.35
    daily_amplitude: float = 0.45     # traffic swings +-45% over the day
    peak_hour: float = 14.0           # UTC hour of peak traffic
    latency_load_slope: float = 0.25  # relative latency rise per +1x load
    error_load_slope: float = 0.05
    latency_noise: float = 0.04       # lognormal sigma at >= 500 requests/min
    saturation_noise: float = 0.012


@dataclass(frozen=True)
class Surge:
    """A benign traffic surge: load multiplied by `factor`, ramping over `ramp_min` minutes."""

    onset_min: int
    factor: float = 2.0
    duration_min: int = 90
    ramp_min: int = 3


@dataclass(frozen=True)
class FaultSpec:
    """A fault injected into the canary: shape, metric, onset (minutes after deploy), size and duration.

    `magnitude` is relative: the faulted metric's mean becomes `mean * (1 + magnitude * s(t))` (throughput:
    `mean / (1 + magnitude * s(t))`) where s(t) is the shape: step 0->1 at onset (for `duration_min`, or
    for good when it is 0), ramp rising linearly to 1 over `duration_min`, spike 1 for `duration_min`
    then 0, leak growing linearly without bound (1 per `duration_min`). `surge` is benign: traffic to
    both pools multiplied by `1 + magnitude` for `duration_min`. `none` is a healthy release.
    """

    shape: str = "none"
    metric: str = "error_rate"
    onset_min: int = 0
    magnitude: float = 0.0
    duration_min: int = 0

    def __post_init__(self) -> None:
        if self.shape not in FAULT_SHAPES:
            raise ValueError(f"fault shape {self.shape!r}: expected one of {', '.join(FAULT_SHAPES)}")
        if self.metric not in METRICS:
            raise ValueError(f"fault metric {self.metric!r}: expected one of {', '.join(METRICS)}")
        if self.onset_min < 0 or self.duration_min < 0 or self.magnitude < 0:
            raise ValueError("fault onset, duration and magnitude must be >= 0")
        if self.shape in ("ramp", "spike", "leak", "surge") and self.duration_min <= 0:
            raise ValueError(f"fault shape {self.shape!r} needs duration_min > 0")

    @property
    def is_fault(self) -> bool:
        return self.shape not in HEALTHY_SHAPES and self.magnitude > 0

    def profile(self, minutes: np.ndarray) -> np.ndarray:
        """s(t) for each minute (0 before onset)."""
        t = minutes.astype(float) - self.onset_min
        after = t >= 0
        if self.shape == "step":
            on = after if self.duration_min == 0 else after & (t < self.duration_min)
            return on.astype(float)
        if self.shape == "ramp":
            return np.where(after, np.clip(t / self.duration_min, 0.0, 1.0), 0.0)
        if self.shape == "spike":
            return (after & (t < self.duration_min)).astype(float)
        if self.shape == "leak":
            return np.where(after, t / self.duration_min, 0.0)
        return np.zeros_like(t)

    def as_record(self) -> dict[str, Any]:
        """The ground-truth columns (`fault_shape`, `fault_metric`, ...)."""
        return {f"fault_{key}": value for key, value in asdict(self).items()}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> FaultSpec:
        """Read the `fault_*` columns of a ground-truth row; missing or null means a healthy release."""
        shape = record.get("fault_shape") or "none"
        return cls(
            shape=str(shape),
            metric=str(record.get("fault_metric") or "error_rate"),
            onset_min=int(record.get("fault_onset_min") or 0),
            magnitude=float(record.get("fault_magnitude") or 0.0),
            duration_min=int(record.get("fault_duration_min") or 0),
        )


@dataclass
class Telemetry:
    """Per-minute series for a canary pool and a baseline pool, plus the canary's noise-free means."""

    start: datetime
    minutes: np.ndarray
    load: np.ndarray                       # fleet load relative to the daily mean (seasonality x surges)
    canary: dict[str, np.ndarray]
    baseline: dict[str, np.ndarray]
    canary_mean: dict[str, np.ndarray]     # what the canary would show without noise (for evaluation)
    baseline_mean: dict[str, np.ndarray]
    fault: FaultSpec = field(default_factory=FaultSpec)

    @property
    def timestamps(self) -> list[datetime]:
        return [self.start + timedelta(minutes=int(m)) for m in self.minutes]

    def window(self, first: int, last: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Canary and baseline samples for minutes [first, last)."""
        first, last = max(first, 0), min(last, len(self.minutes))
        return ({k: v[first:last] for k, v in self.canary.items()},
                {k: v[first:last] for k, v in self.baseline.items()})


def _surge_multiplier(minutes: np.ndarray, surges: Sequence[Surge]) -> np.ndarray:
    mult = np.ones(len(minutes))
    for surge in surges:
        t = minutes.astype(float) - surge.onset_min
        ramp = max(surge.ramp_min, 1)
        up = np.clip((t + 1) / ramp, 0, 1)
        down = np.clip((surge.duration_min - t) / ramp, 0, 1)
        shape = np.where(t >= 0, np.minimum(up, down), 0.0)
        mult *= 1 + (surge.factor - 1) * shape
    return mult


def _pool_means(profile: ServiceProfile, load: np.ndarray) -> dict[str, np.ndarray]:
    saturation = profile.saturation * load
    latency = profile.latency_p99_ms * (1 + profile.latency_load_slope * (load - 1))
    return {
        "error_rate": profile.error_rate * (1 + profile.error_load_slope * (load - 1)),
        "latency_p99": latency,
        "saturation": saturation,
        "throughput": profile.base_rpm * load / INSTANCES,
    }


def _apply_fault(means: dict[str, np.ndarray], fault: FaultSpec, minutes: np.ndarray) -> dict[str, np.ndarray]:
    out = {k: v.copy() for k, v in means.items()}
    if not fault.is_fault:
        return out
    s = fault.profile(minutes) * fault.magnitude
    if fault.metric == "throughput":
        out["throughput"] = out["throughput"] / (1 + s)
    else:
        out[fault.metric] = out[fault.metric] * (1 + s)
    return out


def _queueing(means: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Past 80% saturation an instance queues: latency rises (either pool: a leak or a big surge)."""
    out = dict(means)
    excess = np.clip(out["saturation"] - SATURATION_KNEE, 0, None)
    out["latency_p99"] = out["latency_p99"] * (1 + QUEUE_SLOPE * excess)
    out["saturation"] = np.clip(out["saturation"], 0, MAX_SATURATION)
    out["error_rate"] = np.clip(out["error_rate"], 0, MAX_ERROR_RATE)
    return out


def _observe(means: dict[str, np.ndarray], total_rpm: np.ndarray, share: np.ndarray,
             profile: ServiceProfile, rng: np.random.Generator) -> dict[str, np.ndarray]:
    served_share = share * means["throughput"] / np.maximum(total_rpm / INSTANCES, 1e-9)
    requests = np.maximum(rng.poisson(np.maximum(total_rpm * served_share, 0.0)), 1)
    errors = rng.binomial(requests, np.clip(means["error_rate"], 0, 1))
    sigma = profile.latency_noise * np.maximum(1.0, np.sqrt(500.0 / requests))
    latency = means["latency_p99"] * np.exp(rng.normal(0.0, sigma) - sigma**2 / 2)
    saturation = means["saturation"] + rng.normal(0.0, profile.saturation_noise, len(requests))
    return {
        "error_rate": errors / requests,
        "latency_p99": latency,
        "saturation": np.clip(saturation, 0.0, 1.0),
        "throughput": requests / (share * INSTANCES),
    }


def simulate_telemetry(
    minutes: int,
    *,
    profile: ServiceProfile | None = None,
    start: datetime | None = None,
    fault: FaultSpec | None = None,
    surges: Sequence[Surge] = (),
    canary_weight: float | Sequence[float] | np.ndarray = 0.1,
    seed: int = 0,
) -> Telemetry:
    """Simulate `minutes` of telemetry for one deployment: the canary takes `canary_weight` of traffic
    (a scalar or one weight per minute). As Kayenta advises, the baseline is a pool of the old version
    of the same size as the canary (share `min(w, 1 - w)`, at least `MIN_BASELINE_SHARE`): comparing
    pools of very different sizes confuses noise with regressions."""
    if minutes <= 0:
        raise ValueError("minutes must be > 0")
    profile = profile or ServiceProfile()
    start = start or datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    fault = fault or FaultSpec()
    rng = np.random.default_rng(seed)
    t = np.arange(minutes)
    hours = (start.hour + start.minute / 60 + t / 60.0) % 24
    seasonal = 1 + profile.daily_amplitude * np.cos(2 * np.pi * (hours - profile.peak_hour) / 24)
    all_surges = list(surges)
    if fault.shape == "surge" and fault.magnitude > 0:
        all_surges.append(Surge(fault.onset_min, 1 + fault.magnitude, fault.duration_min))
    load = seasonal * _surge_multiplier(t, all_surges)
    weight = np.broadcast_to(np.asarray(canary_weight, dtype=float), (minutes,)).copy()
    if np.any((weight <= 0) | (weight > 1)):
        raise ValueError("canary_weight must be in (0, 1]")
    base_share = np.maximum(np.minimum(weight, 1 - weight), MIN_BASELINE_SHARE)
    total_rpm = profile.base_rpm * load
    healthy = _pool_means(profile, load)
    baseline_mean = _queueing(healthy)
    canary_mean = _queueing(_apply_fault(healthy, fault, t))
    return Telemetry(
        start=start,
        minutes=t,
        load=load,
        canary=_observe(canary_mean, total_rpm, weight, profile, rng),
        baseline=_observe(baseline_mean, total_rpm, base_share, profile, rng),
        canary_mean=canary_mean,
        baseline_mean=baseline_mean,
        fault=fault,
    )
