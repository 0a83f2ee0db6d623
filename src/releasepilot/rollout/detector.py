"""Streaming anomaly detector for one metric series: a score and an alarm per point, no look-ahead.

Each point is scored against what was learned from earlier points only, then learned from. The expected
value is a damped-trend (Holt) level updated with Huber-clipped errors, so the daily traffic cycle (slow
next to one minute) is tracked and a fault is not learned away before it is seen. The residual is scaled
by a robust running spread and fed to a one-sided CUSUM (small persistent shifts) plus a spike rule (one
huge point). Traffic surges: given a load covariate, a count-like metric is divided by
`(load / typical load) ** elasticity`, or (`covariate_mode="difference"`) the detector learns the excess
over an equal-size baseline pool (symmetric noise even when per-minute counts are skewed); the baseline
cancels the daily cycle and surges alike. Error rates, naturally surge-robust, need neither. A sustained
shift in the *good*
direction (traffic up for throughput, errors down) is re-learned at once instead of being scored.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

DIRECTIONS = ("up", "down", "both")

DEFAULT_LEVEL_ALPHA = 0.05      # Holt level gain per point
DEFAULT_TREND_BETA = 0.05       # Holt trend gain (times the level gain)
DEFAULT_DAMPING = 0.98          # damped trend: phi
DEFAULT_SCALE_ALPHA = 0.02      # running spread gain
DEFAULT_HUBER_C = 3.0           # errors are clipped at this many spreads before learning
DEFAULT_CUSUM_K = 1.0           # allowance, in spreads
DEFAULT_CUSUM_H = 12.0          # decision interval, in spreads
DEFAULT_SPIKE_Z = 10.0          # one point this far out alarms by itself
DEFAULT_WARMUP = 20             # points used to initialise; no alarm before
DEFAULT_RELEARN_POINTS = 5      # consecutive good-direction outliers before re-learning the level
DEFAULT_MIN_REL_SCALE = 0.01    # spread floor relative to |level|
INIT_SCALE_INFLATION = 1.25     # a spread from a dozen points is often too small: start wider
INIT_STD_SHARE = 0.5           # lower bound of the initial spread, as a share of the warm-up std
ROBUST_SIGMA = 1.4826           # MAD -> sigma for a normal distribution
MEAN_ABS_TO_SIGMA = math.sqrt(math.pi / 2)


@dataclass(frozen=True)
class DetectorConfig:
    """Named limits of the detector; `direction` says which way is bad."""

    direction: str = "up"
    elasticity: float = 0.0
    # "difference": learn value - covariate (the excess over an equal-size baseline pool, which has the
    # same skew, so the difference is symmetric); needs a covariate on every point
    covariate_mode: str = "ratio"
    level_alpha: float = DEFAULT_LEVEL_ALPHA
    trend_beta: float = DEFAULT_TREND_BETA
    damping: float = DEFAULT_DAMPING
    scale_alpha: float = DEFAULT_SCALE_ALPHA
    huber_c: float = DEFAULT_HUBER_C
    cusum_k: float = DEFAULT_CUSUM_K
    cusum_h: float = DEFAULT_CUSUM_H
    spike_z: float = DEFAULT_SPIKE_Z
    z_clip: float | None = None    # cap on one point's CUSUM contribution (default 2 * cusum_h)
    warmup: int = DEFAULT_WARMUP
    relearn_points: int = DEFAULT_RELEARN_POINTS
    min_rel_scale: float = DEFAULT_MIN_REL_SCALE
    min_abs_scale: float = 1e-9

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction {self.direction!r}: expected one of {', '.join(DIRECTIONS)}")
        if self.covariate_mode not in ("ratio", "difference"):
            raise ValueError(f"covariate_mode {self.covariate_mode!r}: expected ratio or difference")
        if self.warmup < 3:
            raise ValueError("warmup must be >= 3 points")


# Per-metric settings for the four rollout metrics (load covariate = the baseline pool's value).
# Normalised by the baseline the daily cycle cancels out, so no trend is tracked there (a trend term
# would learn a slow leak away). Error rates are noisy, skewed counts when the canary is small: a slower
# level, a smaller allowance, and one point's CUSUM push capped so a lone noisy minute cannot alarm.
METRIC_DETECTORS: dict[str, DetectorConfig] = {
    "error_rate": DetectorConfig(direction="up", trend_beta=0.0, level_alpha=0.01, cusum_k=0.5, cusum_h=12.0,
                                 z_clip=4.0, spike_z=12.0, warmup=20, min_abs_scale=1e-4),
    "latency_p99": DetectorConfig(direction="up", elasticity=1.0, trend_beta=0.0),
    "saturation": DetectorConfig(direction="up", elasticity=1.0, trend_beta=0.0),
    "throughput": DetectorConfig(direction="down", elasticity=1.0, trend_beta=0.0),
}


@dataclass(frozen=True)
class DetectorPoint:
    """The verdict on one point, with its evidence."""

    index: int
    value: float
    expected: float
    residual: float
    scale: float
    z: float
    cusum: float
    score: float            # max(cusum / h, |z| / spike_z): >= 1 means an alarm
    alarm: bool
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class StreamingDetector:
    """Feed points in time order with `update`; each is judged before it is learned from."""

    config: DetectorConfig = field(default_factory=DetectorConfig)
    _buffer: list[tuple[float, float | None]] = field(default_factory=list)
    _level: float = math.nan
    _trend: float = 0.0
    _scale: float = math.nan
    _cov_ref: float = math.nan
    _cusum: float = 0.0
    _good_run: deque = field(default_factory=lambda: deque(maxlen=64))
    _index: int = 0
    _learned: int = 0

    def _normalise(self, value: float, covariate: float | None) -> float:
        """Value minus the covariate's excess ("difference"), or divided by (load / reference load) **
        elasticity; the reference is fixed at warm-up so the learned level keeps its units."""
        cfg = self.config
        usable = covariate is not None and math.isfinite(covariate) and math.isfinite(self._cov_ref)
        if cfg.covariate_mode == "difference" and usable:
            value = value - covariate + self._cov_ref
        elif cfg.elasticity and usable and covariate > 0:
            value = value / (covariate / self._cov_ref) ** cfg.elasticity
        return value

    def _floor(self, scale: float) -> float:
        cfg = self.config
        return max(scale, cfg.min_rel_scale * abs(self._level), cfg.min_abs_scale)

    def _initialise(self) -> None:
        covs = [c for _, c in self._buffer if c is not None and math.isfinite(c)
                and (c > 0 or self.config.covariate_mode == "difference")]
        if covs:
            self._cov_ref = float(np.median(covs))
        data = np.asarray([self._normalise(v, c) for v, c in self._buffer])
        diffs = np.diff(data)
        mad = float(np.median(np.abs(diffs - np.median(diffs)))) * ROBUST_SIGMA / math.sqrt(2)
        spread = float(np.median(np.abs(data - np.median(data)))) * ROBUST_SIGMA
        # many equal values (zero errors in most minutes) make both robust spreads vanish: keep a share
        # of the plain standard deviation as a lower bound
        scale = max(mad, spread, INIT_STD_SHARE * float(np.std(data)))
        # a winsorised mean: robust to a few outliers, unbiased for skewed counts (a median is not)
        centre = float(np.median(data))
        reach = self.config.huber_c * max(scale, float(np.std(data)))   # mild: skewed counts stay unbiased
        self._level = float(np.clip(data, centre - reach, centre + reach).mean())
        self._scale = self._floor(scale * INIT_SCALE_INFLATION)

    def update(self, value: float, covariate: float | None = None) -> DetectorPoint:
        """Score `value` (optionally with its load covariate), then learn from it."""
        cfg = self.config
        index = self._index
        self._index += 1
        if value is None or not math.isfinite(value):
            return DetectorPoint(index, math.nan, math.nan, math.nan, math.nan, math.nan, self._cusum,
                                 math.nan, False, "missing value")
        if len(self._buffer) < cfg.warmup:
            self._buffer.append((float(value), covariate))
            if len(self._buffer) == cfg.warmup:
                self._initialise()
            return DetectorPoint(index, float(value), math.nan, math.nan, math.nan, 0.0, 0.0, 0.0, False,
                                 "warming up")
        y = self._normalise(float(value), covariate)
        expected = self._level + cfg.damping * self._trend
        residual = y - expected
        scale = self._floor(self._scale)
        z_raw = residual / scale
        z = {"up": z_raw, "down": -z_raw, "both": abs(z_raw)}[cfg.direction]
        cap = 2 * cfg.cusum_h if cfg.z_clip is None else cfg.z_clip
        self._cusum = max(0.0, self._cusum + min(z, cap) - cfg.cusum_k)
        spike = z >= cfg.spike_z
        alarm = spike or self._cusum >= cfg.cusum_h
        score = max(self._cusum / cfg.cusum_h, max(z, 0.0) / cfg.spike_z)
        reason = ("spike" if spike else "cusum") if alarm else ""
        point = DetectorPoint(index, float(value), expected, residual, scale, z, self._cusum, score, alarm,
                              reason)
        if alarm:
            self._cusum = 0.0
        self._learn(y, residual, scale, z)
        return point

    def _learn(self, y: float, residual: float, scale: float, z: float) -> None:
        cfg = self.config
        good = cfg.direction != "both" and z <= -cfg.huber_c
        self._good_run.append(y if good else math.nan)
        recent = list(self._good_run)[-cfg.relearn_points:]
        if good and len(recent) == cfg.relearn_points and all(math.isfinite(v) for v in recent):
            self._level, self._trend = float(np.median(recent)), 0.0     # a good shift: accept it
            self._good_run.clear()
            return
        clipped = max(-cfg.huber_c * scale, min(cfg.huber_c * scale, residual))
        self._level += cfg.damping * self._trend + cfg.level_alpha * clipped
        self._trend = cfg.damping * self._trend + cfg.level_alpha * cfg.trend_beta * clipped
        # a plain running mean while few points are known (the warm-up estimate is rough), then EW
        self._learned += 1
        gain = max(cfg.scale_alpha, 1.0 / (cfg.warmup + self._learned))
        self._scale += gain * (abs(clipped) * MEAN_ABS_TO_SIGMA - self._scale)


def detect_series(values: Sequence[float] | np.ndarray, config: DetectorConfig | None = None,
                  covariate: Iterable[float | None] | None = None) -> list[DetectorPoint]:
    """Run a fresh detector over a whole series (each point judged on the points before it)."""
    detector = StreamingDetector(config or DetectorConfig())
    covs = list(covariate) if covariate is not None else [None] * len(values)
    if len(covs) != len(values):
        raise ValueError("covariate must have one value per point")
    return [detector.update(float(v), c) for v, c in zip(values, covs)]


def first_alarm(points: Sequence[DetectorPoint], start: int = 0) -> int | None:
    """Index of the first alarm at or after `start`, or None."""
    return next((p.index for p in points if p.alarm and p.index >= start), None)


def with_direction(config: DetectorConfig, direction: str) -> DetectorConfig:
    """The same limits watching another direction."""
    return replace(config, direction=direction)
