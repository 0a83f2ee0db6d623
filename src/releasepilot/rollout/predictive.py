"""Predictive rollback: forecast a metric's recent trend and roll back before it crosses its SLO.

A damped-trend (Holt) forecast of the recent points gives the minutes until the forecast crosses the SLO
threshold; `assess_breach` says "roll back now" when that is within the horizon, the trend is clearly
worse than noise, and the smoothed level is already on its way (a fraction of the distance to the SLO).
`lead_time` records how many minutes before the actual breach the rollback happened.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_ALPHA = 0.2            # level gain
DEFAULT_BETA = 0.1             # trend gain
DEFAULT_PHI = 0.98             # trend damping per step
DEFAULT_HORIZON = 30           # steps (minutes) ahead
DEFAULT_MIN_POINTS = 15
DEFAULT_TREND_Z = 3.0          # trend must exceed this many standard errors
DEFAULT_MIN_PROGRESS = 0.5     # level must be at least this far from baseline level to the SLO


@dataclass(frozen=True)
class HoltState:
    level: float
    trend: float
    residual_sd: float
    n: int


@dataclass(frozen=True)
class BreachPrediction:
    """Whether the metric is predicted to cross its SLO within the horizon, with the evidence."""

    rollback: bool
    minutes_to_breach: float | None
    level: float
    trend: float
    trend_z: float
    threshold: float
    horizon: int
    forecast_at_horizon: float
    reason: str


def holt_fit(values: Sequence[float] | np.ndarray, *, alpha: float = DEFAULT_ALPHA, beta: float = DEFAULT_BETA,
             phi: float = DEFAULT_PHI) -> HoltState:
    """Run damped-trend exponential smoothing over `values`; returns the final level, trend, noise."""
    y = np.asarray(values, dtype=float)
    y = y[np.isfinite(y)]
    if len(y) < 3:
        raise ValueError("need at least 3 points for a trend")
    level, trend = float(y[0]), float(np.median(np.diff(y[: min(len(y), 10)])))
    errors = []
    for value in y[1:]:
        forecast = level + phi * trend
        error = value - forecast
        errors.append(error)
        level = forecast + alpha * error
        trend = phi * trend + alpha * beta * error
    sd = float(np.std(errors[len(errors) // 3:])) if len(errors) > 3 else float("nan")
    return HoltState(level, trend, sd, len(y))


def holt_forecast(state: HoltState, steps: int, *, phi: float = DEFAULT_PHI) -> np.ndarray:
    """Forecasts 1..steps ahead: level + (phi + phi^2 + ... + phi^h) * trend."""
    h = np.arange(1, steps + 1)
    damp = h.astype(float) if phi == 1 else phi * (1 - phi**h) / (1 - phi)
    return state.level + damp * state.trend


def assess_breach(values: Sequence[float] | np.ndarray, threshold: float, *, direction: str = "up",
                  reference: float | None = None, horizon: int = DEFAULT_HORIZON,
                  min_points: int = DEFAULT_MIN_POINTS, trend_z: float = DEFAULT_TREND_Z,
                  min_progress: float = DEFAULT_MIN_PROGRESS, alpha: float = DEFAULT_ALPHA,
                  beta: float = DEFAULT_BETA, phi: float = DEFAULT_PHI) -> BreachPrediction:
    """Predict whether `values` (oldest first) cross `threshold` within `horizon` steps.

    `reference` is the healthy level (e.g. the baseline's median); the smoothed level must have covered
    `min_progress` of the way from it to the threshold before a rollback is advised. A reference already
    at or beyond the threshold never advises a rollback (the service breaches without the release).
    """
    if direction not in ("up", "down"):
        raise ValueError("direction must be 'up' or 'down'")
    y = np.asarray(values, dtype=float)
    y = y[np.isfinite(y)]
    sign = 1.0 if direction == "up" else -1.0
    if len(y) < min_points:
        return BreachPrediction(False, None, math.nan, math.nan, math.nan, threshold, horizon, math.nan,
                                f"{len(y)} points, need {min_points}")
    state = holt_fit(y, alpha=alpha, beta=beta, phi=phi)
    path = holt_forecast(state, horizon, phi=phi)
    # spread of the trend estimate under pure noise: a phi-damped sum of alpha*beta*error steps
    se = state.residual_sd * alpha * beta / math.sqrt(max(1e-9, 1 - phi**2))
    z = sign * state.trend / se if se > 0 else math.inf * np.sign(sign * state.trend)
    crossed = np.nonzero(sign * (path - threshold) >= 0)[0]
    minutes = float(crossed[0] + 1) if len(crossed) else None
    ref = float(np.median(y[: max(3, len(y) // 4)])) if reference is None else reference
    progress = (sign * (state.level - ref)) / max(sign * (threshold - ref), 1e-12)
    already = sign * (state.level - threshold) >= 0
    # the healthy reference (the baseline) is itself at or beyond the SLO: a breach is the whole
    # service's (peak load, a surge), not the release's; the detector and judge compare with the baseline
    healthy_breaches = sign * (threshold - ref) <= 0
    rollback = bool(minutes is not None and not healthy_breaches
                    and (already or (z >= trend_z and progress >= min_progress)))
    reason = ("reference (healthy level) already beyond the SLO: not the release's breach; " if healthy_breaches
              else "") + (f"level {state.level:.4g}, trend {state.trend:+.4g}/step (z={z:.1f}, need {trend_z}), "
              f"progress {progress:.0%} to SLO {threshold:.4g} (need {min_progress:.0%}); forecast crosses "
              + (f"in {minutes:.0f} steps" if minutes is not None else f"not within {horizon} steps"))
    return BreachPrediction(rollback, minutes, state.level, state.trend, float(z), threshold, horizon,
                            float(path[-1]), reason)


def lead_time(rollback_minute: float | None, breach_minute: float | None) -> float | None:
    """Minutes gained: actual breach minute minus rollback minute (None when either did not happen)."""
    if rollback_minute is None or breach_minute is None:
        return None
    return float(breach_minute - rollback_minute)
