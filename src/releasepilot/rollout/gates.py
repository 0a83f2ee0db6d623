"""Health gates: a Kayenta-style canary judge and argo-rollouts-style limits over repeated analyses.

`judge_canary` compares canary and baseline samples per metric with a Mann-Whitney U test *and* an
effect-size margin (a significant but tiny difference is not a regression), classifies each metric
pass / high / low / nodata, lets critical metrics veto, and maps a weighted score to pass / marginal /
fail. Too little data gives `inconclusive`: a gate never passes blind. `assess_gate_run` folds the
verdicts of successive analyses into one phase with argo's limits: failure limit, consecutive-error
limit (the health source was down or empty) and inconclusive limit. Pure functions; every verdict carries
its evidence (values, thresholds, test statistics).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

DEFAULT_ALPHA = 0.001           # Mann-Whitney level: analyses run every few minutes, so keep false fails rare
DEFAULT_PASS_SCORE = 95.0       # Kayenta's usual pass threshold
DEFAULT_MARGINAL_SCORE = 75.0
DEFAULT_MIN_SAMPLES = 5         # fewer samples than this in either group: no data for that metric
DEFAULT_FAILURE_LIMIT = 0       # argo: failed analyses tolerated before the run fails
DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4
DEFAULT_INCONCLUSIVE_LIMIT = 0

CLASSIFICATIONS = ("pass", "high", "low", "nodata")
GATE_STATUSES = ("pass", "marginal", "fail", "inconclusive", "error")
STATUS_RANK = {"pass": 0, "marginal": 1, "inconclusive": 2, "error": 2, "fail": 3}


@dataclass(frozen=True)
class MetricSpec:
    """How one metric is judged: which way is bad, critical veto, weight and effect-size margins.

    A metric is flagged only when the Mann-Whitney p-value < alpha AND the Hodges-Lehmann shift exceeds
    both `rel_margin * |baseline median|` and `abs_margin`.
    """

    name: str
    direction: str = "up"          # "up": higher is bad; "down": lower is bad; "both"
    critical: bool = False
    weight: float = 1.0
    rel_margin: float = 0.10
    abs_margin: float = 0.0


DEFAULT_METRIC_SPECS: tuple[MetricSpec, ...] = (
    MetricSpec("error_rate", "up", critical=True, weight=3.0, rel_margin=0.25, abs_margin=0.001),
    MetricSpec("latency_p99", "up", critical=False, weight=2.0, rel_margin=0.10, abs_margin=5.0),
    MetricSpec("saturation", "up", critical=False, weight=1.0, rel_margin=0.10, abs_margin=0.02),
    MetricSpec("throughput", "down", critical=False, weight=1.0, rel_margin=0.10),
)


@dataclass(frozen=True)
class MetricVerdict:
    """One metric's classification and why."""

    name: str
    classification: str
    failed: bool
    canary_median: float
    baseline_median: float
    shift: float                  # Hodges-Lehmann estimate of canary - baseline
    margin: float
    u_statistic: float
    p_value: float
    n_canary: int
    n_baseline: int
    reason: str


@dataclass(frozen=True)
class CanaryJudgement:
    """The gate verdict of one analysis: status, score, thresholds and every metric's evidence."""

    status: str
    score: float
    pass_score: float
    marginal_score: float
    metrics: tuple[MetricVerdict, ...] = ()
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hodges_lehmann(canary: np.ndarray, baseline: np.ndarray) -> float:
    return float(np.median(np.subtract.outer(canary, baseline)))


def classify_metric(canary: Sequence[float] | np.ndarray, baseline: Sequence[float] | np.ndarray,
                    spec: MetricSpec, *, alpha: float = DEFAULT_ALPHA,
                    min_samples: int = DEFAULT_MIN_SAMPLES) -> MetricVerdict:
    """Classify one metric pass / high / low / nodata (Mann-Whitney U plus an effect-size margin)."""
    from scipy.stats import mannwhitneyu

    c = np.asarray(canary, dtype=float)
    b = np.asarray(baseline, dtype=float)
    c, b = c[np.isfinite(c)], b[np.isfinite(b)]
    if len(c) < min_samples or len(b) < min_samples:
        return MetricVerdict(spec.name, "nodata", False, float(np.median(c)) if len(c) else float("nan"),
                             float(np.median(b)) if len(b) else float("nan"), float("nan"), float("nan"),
                             float("nan"), float("nan"), len(c), len(b),
                             f"{len(c)} canary / {len(b)} baseline samples, need {min_samples}")
    c_med, b_med = float(np.median(c)), float(np.median(b))
    shift = _hodges_lehmann(c, b)
    margin = max(spec.rel_margin * abs(b_med), spec.abs_margin)
    if np.all(c == c[0]) and np.all(b == c[0]):
        u, p = len(c) * len(b) / 2.0, 1.0
    else:
        result = mannwhitneyu(c, b, alternative="two-sided", method="auto")
        u, p = float(result.statistic), float(result.pvalue)
    classification = "pass"
    if p < alpha and abs(shift) > margin:
        classification = "high" if shift > 0 else "low"
    failed = (classification == "high" and spec.direction in ("up", "both")) or (
        classification == "low" and spec.direction in ("down", "both"))
    reason = (f"shift {shift:+.4g} vs margin {margin:.4g}, U={u:.1f}, p={p:.3g} (alpha {alpha}): "
              f"{classification}{' (bad direction)' if failed else ''}")
    return MetricVerdict(spec.name, classification, failed, c_med, b_med, shift, margin, u, p, len(c), len(b),
                         reason)


def judge_canary(canary: Mapping[str, Sequence[float]], baseline: Mapping[str, Sequence[float]],
                 specs: Sequence[MetricSpec] = DEFAULT_METRIC_SPECS, *, alpha: float = DEFAULT_ALPHA,
                 pass_score: float = DEFAULT_PASS_SCORE, marginal_score: float = DEFAULT_MARGINAL_SCORE,
                 min_samples: int = DEFAULT_MIN_SAMPLES) -> CanaryJudgement:
    """Judge one analysis interval: classify every metric, veto on a failed critical metric, score."""
    verdicts = tuple(
        classify_metric(canary.get(s.name, ()), baseline.get(s.name, ()), s, alpha=alpha,
                        min_samples=min_samples)
        for s in specs
    )
    reasons: list[str] = []
    missing_critical = [v.name for v, s in zip(verdicts, specs) if s.critical and v.classification == "nodata"]
    judged = [(v, s) for v, s in zip(verdicts, specs) if v.classification != "nodata"]
    if missing_critical or not judged:
        names = ", ".join(missing_critical) or "every metric"
        return CanaryJudgement("inconclusive", float("nan"), pass_score, marginal_score, verdicts,
                               (f"no data for {names}",))
    total = sum(s.weight for _, s in judged)
    score = 100.0 * sum(s.weight for v, s in judged if not v.failed) / total
    vetoes = [v.name for v, s in judged if s.critical and v.failed]
    for v, _ in judged:
        if v.failed:
            reasons.append(f"{v.name}: {v.reason}")
    if vetoes:
        status = "fail"
        reasons.insert(0, f"critical metric failed: {', '.join(vetoes)}")
    elif score >= pass_score:
        status = "pass"
    elif score >= marginal_score:
        status = "marginal"
    else:
        status = "fail"
    reasons.append(f"score {score:.1f} (pass >= {pass_score}, marginal >= {marginal_score})")
    return CanaryJudgement(status, score, pass_score, marginal_score, verdicts, tuple(reasons))


def source_error(message: str) -> CanaryJudgement:
    """The verdict of an analysis whose health source was down or returned nothing."""
    return CanaryJudgement("error", float("nan"), DEFAULT_PASS_SCORE, DEFAULT_MARGINAL_SCORE, (),
                           (f"health source unavailable: {message}",))


@dataclass(frozen=True)
class GateLimits:
    """argo-rollouts-style limits on a run of analyses."""

    failure_limit: int = DEFAULT_FAILURE_LIMIT
    consecutive_error_limit: int = DEFAULT_CONSECUTIVE_ERROR_LIMIT
    inconclusive_limit: int = DEFAULT_INCONCLUSIVE_LIMIT
    required_passes: int = 1


@dataclass(frozen=True)
class GateRunVerdict:
    """The phase of a run of analyses: running, successful, failed or inconclusive (pause for a person)."""

    phase: str
    failures: int
    consecutive_errors: int
    inconclusives: int
    passes: int
    limits: GateLimits = field(default_factory=GateLimits)
    reasons: tuple[str, ...] = ()


def assess_gate_run(statuses: Sequence[str], limits: GateLimits = GateLimits(), *,
                    finished: bool = False) -> GateRunVerdict:
    """Fold successive analysis statuses (pass/marginal/fail/inconclusive/error) into one phase.

    failed: more than `failure_limit` fails; inconclusive: more than `consecutive_error_limit` errors in
    a row, or more than `inconclusive_limit` inconclusive/marginal analyses; successful: `finished` with
    at least `required_passes` passes and nothing else tripped; otherwise running. Errors never count as
    passes, so a run whose source is down can never succeed.
    """
    failures = consecutive = inconclusives = passes = 0
    reasons: list[str] = []
    for i, status in enumerate(statuses):
        if status not in GATE_STATUSES:
            raise ValueError(f"analysis {i}: status {status!r}, expected one of {', '.join(GATE_STATUSES)}")
        consecutive = consecutive + 1 if status == "error" else 0
        failures += status == "fail"
        inconclusives += status in ("inconclusive", "marginal")
        passes += status == "pass"
        if failures > limits.failure_limit:
            reasons.append(f"analysis {i}: {failures} failed > failure limit {limits.failure_limit}")
            return GateRunVerdict("failed", failures, consecutive, inconclusives, passes, limits, tuple(reasons))
        if consecutive > limits.consecutive_error_limit:
            reasons.append(f"analysis {i}: {consecutive} consecutive errors > limit "
                           f"{limits.consecutive_error_limit} (health source down or empty)")
            return GateRunVerdict("inconclusive", failures, consecutive, inconclusives, passes, limits,
                                  tuple(reasons))
        if inconclusives > limits.inconclusive_limit:
            reasons.append(f"analysis {i}: {inconclusives} inconclusive/marginal > limit "
                           f"{limits.inconclusive_limit}")
            return GateRunVerdict("inconclusive", failures, consecutive, inconclusives, passes, limits,
                                  tuple(reasons))
    if finished and passes >= limits.required_passes and consecutive == 0:
        reasons.append(f"{passes} passing analyses (need {limits.required_passes})")
        return GateRunVerdict("successful", failures, consecutive, inconclusives, passes, limits, tuple(reasons))
    if finished:
        reasons.append(f"finished with {passes} passes (need {limits.required_passes}) and "
                       f"{consecutive} trailing errors: not enough evidence")
        return GateRunVerdict("inconclusive", failures, consecutive, inconclusives, passes, limits, tuple(reasons))
    return GateRunVerdict("running", failures, consecutive, inconclusives, passes, limits, tuple(reasons))


def evaluate_gate(source: Any, service: str, start: Any, end: Any,
                  specs: Sequence[MetricSpec] = DEFAULT_METRIC_SPECS, **judge_options: Any) -> CanaryJudgement:
    """Read one analysis interval from a `HealthSource` and judge it; a source that is down or returns
    nothing gives an `error` verdict (never a pass)."""
    from releasepilot.rollout.health.base import HealthSourceUnavailable

    try:
        samples = source.fetch(service, start, end, [s.name for s in specs])
    except HealthSourceUnavailable as exc:
        return source_error(str(exc))
    return judge_canary(samples.canary, samples.baseline, specs, **judge_options)
