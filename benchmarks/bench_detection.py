"""Benchmark fault detection during rollouts: our gates + detector + predictive rollback vs two baselines.

Simulates a few hundred canary rollouts (steps 5/25/50/100% of 15 minutes each, then a 60-minute watch
at 100%) with faults of every shape and size injected into the canary, plus healthy releases with benign
traffic surges. Three rollback policies see the same per-minute telemetry:

- static: a Prometheus-style alert rule per metric (value beyond its SLO for 5 consecutive minutes);
- plain MW: a Kayenta-style Mann-Whitney judge at the end of each 15-minute step, no effect-size margin
  and no critical veto (same alpha as ours), roll back unless every metric passes;
- ours: the gate (MW + margins + critical veto, argo limits) every 5 minutes over the last 10 minutes,
  the streaming detector every minute (normalised by the baseline pool), and predictive rollback
  (damped-trend forecast of the baseline-normalised canary against the SLO, 30-minute horizon).

Prints, per policy: faults detected and missed, median and p90 minutes from fault onset to rollback,
false rollbacks of healthy releases, and SLO breaches prevented (rollback before the canary's
noise-free mean crossed its SLO). Configuration was chosen on seeds 0..; the table uses --seed (default
1000), a different set.

    .venv/bin/python benchmarks/bench_detection.py [--rollouts 300] [--seed 1000]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from releasepilot.rollout.detector import METRIC_DETECTORS, StreamingDetector
from releasepilot.rollout.gates import (
    DEFAULT_METRIC_SPECS,
    GateLimits,
    MetricSpec,
    assess_gate_run,
    judge_canary,
)
from releasepilot.rollout.predictive import assess_breach
from releasepilot.simulation.telemetry import (
    BAD_DIRECTION,
    METRICS,
    FaultSpec,
    ServiceProfile,
    Surge,
    simulate_telemetry,
)

STEP_WEIGHTS = (0.05, 0.25, 0.50, 1.0)
STEP_MINUTES = 15
WATCH_MINUTES = 60
TOTAL = STEP_MINUTES * len(STEP_WEIGHTS) + WATCH_MINUTES
EXTRA = 180                        # simulate past the end to know when an undetected fault would breach
STATIC_FOR_MINUTES = 5
GATE_EVERY, GATE_WINDOW = 5, 10
GATE_UNTIL = STEP_MINUTES * (len(STEP_WEIGHTS) - 1)   # gates need a baseline pool: not at 100%
PREDICT_METRICS = ("error_rate", "latency_p99", "saturation")
PREDICT_HORIZON = 30
PREDICT_HISTORY = 45
MAGNITUDES = {
    "error_rate": (0.5, 1.5, 4.0, 10.0),
    "latency_p99": (0.2, 0.5, 1.0, 2.0),
    "saturation": (0.2, 0.5, 1.0),
    "throughput": (0.25, 0.5, 1.0, 3.0),
}
HEALTHY_SHARE = 0.3


@dataclass
class Scenario:
    seed: int
    profile: ServiceProfile
    start: datetime
    fault: FaultSpec
    surges: list[Surge] = field(default_factory=list)


def slo(profile: ServiceProfile) -> dict[str, float]:
    """The service's SLO thresholds (what static alert rules and the predictor use)."""
    return {"error_rate": max(0.01, 5 * profile.error_rate), "latency_p99": 2.0 * profile.latency_p99_ms,
            "saturation": 0.9, "throughput": 0.4 * profile.base_rpm / 10}


def make_scenarios(n: int, seed: int) -> list[Scenario]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        profile = ServiceProfile(base_rpm=rng.uniform(2000, 20000), error_rate=rng.uniform(0.002, 0.01),
                                 latency_p99_ms=rng.uniform(100, 400), saturation=rng.uniform(0.25, 0.45))
        start = datetime(2025, 3, 3, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 7 * 1440))
        surges = []
        if rng.random() < 0.5:
            surges.append(Surge(rng.randrange(0, TOTAL), rng.uniform(1.5, 2.5), rng.randrange(20, 120)))
        if rng.random() < HEALTHY_SHARE:
            fault = FaultSpec("none")
        else:
            shape = rng.choice(("step", "ramp", "spike", "leak"))
            metric = rng.choice(METRICS)
            magnitude = rng.choice(MAGNITUDES[metric])
            duration = {"step": 0, "ramp": rng.randrange(10, 60), "spike": rng.randrange(2, 6),
                        "leak": rng.randrange(30, 120)}[shape]
            if shape == "spike":
                magnitude *= 3
            fault = FaultSpec(shape, metric, rng.randrange(0, TOTAL - 10), magnitude, duration)
        out.append(Scenario(seed * 100_000 + i, profile, start, fault, surges))
    return out


def weights() -> np.ndarray:
    w = np.concatenate([np.full(STEP_MINUTES, x) for x in STEP_WEIGHTS] + [np.full(WATCH_MINUTES + EXTRA, 1.0)])
    return w[: TOTAL + EXTRA]


def breach_minute(scenario: Scenario, telemetry) -> int | None:
    """First minute the canary's noise-free mean crosses the SLO of the faulted metric."""
    if not scenario.fault.is_fault:
        return None
    metric = scenario.fault.metric
    mean = telemetry.canary_mean[metric]
    limit = slo(scenario.profile)[metric]
    crossed = mean <= limit if BAD_DIRECTION[metric] == "down" else mean >= limit
    hits = np.nonzero(crossed[scenario.fault.onset_min:])[0]
    return int(hits[0]) + scenario.fault.onset_min if len(hits) else None


def _first(results: list[tuple[int | None, str]]) -> tuple[int | None, str]:
    found = [(m, why) for m, why in results if m is not None]
    return min(found) if found else (None, "")


def static_first(scenario: Scenario, telemetry) -> tuple[int | None, str]:
    limits = slo(scenario.profile)
    results = []
    for metric in METRICS:
        values = telemetry.canary[metric][:TOTAL]
        bad = values <= limits[metric] if BAD_DIRECTION[metric] == "down" else values >= limits[metric]
        run, hit = 0, None
        for minute, flag in enumerate(bad):
            run = run + 1 if flag else 0
            if run >= STATIC_FOR_MINUTES:
                hit = minute
                break
        results.append((hit, f"static {metric}"))
    return _first(results)


PLAIN_SPECS = tuple(MetricSpec(s.name, s.direction, critical=False, weight=1.0, rel_margin=0.0, abs_margin=0.0)
                    for s in DEFAULT_METRIC_SPECS)


def plain_mann_whitney(scenario: Scenario, telemetry) -> tuple[int | None, str]:
    for end in range(STEP_MINUTES, GATE_UNTIL + 1, STEP_MINUTES):
        canary, baseline = telemetry.window(end - STEP_MINUTES, end)
        judgement = judge_canary(canary, baseline, PLAIN_SPECS)
        if judgement.status != "pass":
            return end - 1, "plain MW " + ",".join(m.name for m in judgement.metrics if m.failed)
    return None, ""


def ours(scenario: Scenario, telemetry, limits: GateLimits) -> tuple[int | None, str]:
    detectors = {m: StreamingDetector(METRIC_DETECTORS[m]) for m in METRICS}
    thresholds = slo(scenario.profile)
    statuses: list[str] = []
    reference = {m: float(np.median(telemetry.baseline[m][:GATE_WINDOW])) for m in METRICS}
    for minute in range(TOTAL):
        for metric, detector in detectors.items():
            point = detector.update(float(telemetry.canary[metric][minute]),
                                    float(telemetry.baseline[metric][minute]))
            if point.alarm:
                return minute, f"detector {metric} ({point.reason})"
        if GATE_WINDOW <= minute + 1 <= GATE_UNTIL and (minute + 1) % GATE_EVERY == 0:
            canary, baseline = telemetry.window(minute + 1 - GATE_WINDOW, minute + 1)
            statuses.append(judge_canary(canary, baseline).status)
            if assess_gate_run(statuses, limits).phase == "failed":
                return minute, "gate"
        if minute >= 15:
            first = max(0, minute + 1 - PREDICT_HISTORY)
            for metric in PREDICT_METRICS:
                canary = telemetry.canary[metric][first: minute + 1]
                base = telemetry.baseline[metric][first: minute + 1]
                normalised = canary if metric == "error_rate" else canary * reference[metric] / np.maximum(base, 1e-9)
                if assess_breach(normalised, thresholds[metric], reference=reference[metric],
                                 horizon=PREDICT_HORIZON).rollback:
                    return minute, f"predictive {metric}"
    return None, ""


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def run(n: int, seed: int) -> dict:
    scenarios = make_scenarios(n, seed)
    limits = GateLimits(failure_limit=0)
    policies = {"static threshold rule": static_first, "plain Kayenta MW": plain_mann_whitney,
                "ours (gates+detector+predictive)": lambda s, t: ours(s, t, limits)}
    stats = {name: {"ttd": [], "missed": 0, "false": 0, "early": 0, "prevented": 0, "breaches": 0, "lead": [],
                    "by": {}} for name in policies}
    faulty = healthy = 0
    for i, scenario in enumerate(scenarios):
        telemetry = simulate_telemetry(TOTAL + EXTRA, profile=scenario.profile, start=scenario.start,
                                       fault=scenario.fault, surges=scenario.surges, canary_weight=weights(),
                                       seed=scenario.seed)
        is_fault = scenario.fault.is_fault
        faulty += is_fault
        healthy += not is_fault
        breach = breach_minute(scenario, telemetry)
        for name, policy in policies.items():
            minute, why = policy(scenario, telemetry)
            s = stats[name]
            kind = why.split(" ")[0] if why else ""
            if not is_fault:
                s["false"] += minute is not None
                if minute is not None:
                    s["by"][f"false:{why}"] = s["by"].get(f"false:{why}", 0) + 1
                continue
            if breach is not None and breach < TOTAL:
                s["breaches"] += 1
                if minute is not None and minute < breach:
                    s["prevented"] += 1
                    s["lead"].append(breach - minute)
            if minute is None or minute < scenario.fault.onset_min:
                s["missed"] += minute is None
                if minute is not None:             # fired before the fault began: noise, not detection
                    s["by"][f"early:{why}"] = s["by"].get(f"early:{why}", 0) + 1
                    s["missed"] += 1
                    s["early"] += 1
                continue
            s["ttd"].append(minute - scenario.fault.onset_min)
            s.setdefault("ttd_by_index", {})[i] = minute - scenario.fault.onset_min
            s["by"][kind] = s["by"].get(kind, 0) + 1
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{n} rollouts", file=sys.stderr)
    return {"faulty": faulty, "healthy": healthy, "stats": stats}


def print_table(result: dict, seconds: float) -> None:
    print(f"\n{result['faulty']} faulty + {result['healthy']} healthy rollouts ({seconds:.0f} s)\n")
    header = (f"{'policy':34} {'detected':>8} {'missed':>6} {'median TTD':>10} {'p90 TTD':>8} "
              f"{'false rb (healthy)':>18} {'rb before onset':>15} {'breaches prevented':>18} {'median lead':>11}")
    print(header)
    print("-" * len(header))
    for name, s in result["stats"].items():
        false_rate = 100.0 * s["false"] / max(result["healthy"], 1)
        early_rate = 100.0 * s["early"] / max(result["faulty"], 1)
        median = statistics.median(s["ttd"]) if s["ttd"] else math.nan
        lead = statistics.median(s["lead"]) if s["lead"] else math.nan
        print(f"{name:34} {len(s['ttd']):>8} {s['missed']:>6} {median:>10.1f} {percentile(s['ttd'], 90):>8.1f} "
              f"{s['false']:>10} ({false_rate:4.1f}%) {s['early']:>7} ({early_rate:4.1f}%) "
              f"{s['prevented']:>8} / {s['breaches']:<7} {lead:>11.1f}")
    print("\nTTD: minutes from fault onset to rollback (faults detected at or after onset); missed includes "
          "rollbacks that fired before the fault began ('rb before onset'); breaches: faulted metric's "
          "noise-free canary mean crossing its SLO during the rollout.")
    print("\ntriggers:")
    for name, s in result["stats"].items():
        print(f"  {name}: {dict(sorted(s['by'].items()))}")
    by_policy = [s.get("ttd_by_index", {}) for s in result["stats"].values()]
    common = set.intersection(*(set(d) for d in by_policy)) if by_policy else set()
    if common:
        print(f"\non the {len(common)} faults every policy detected, median TTD: " + ", ".join(
            f"{name} {statistics.median(d[i] for i in common):.1f} min"
            for name, d in zip(result["stats"], by_policy)))
    pair_static = result["stats"]["static threshold rule"].get("ttd_by_index", {})
    pair_ours = result["stats"]["ours (gates+detector+predictive)"].get("ttd_by_index", {})
    both = set(pair_static) & set(pair_ours)
    if both:
        print(f"on the {len(both)} faults both static and ours detected, median TTD: static "
              f"{statistics.median(pair_static[i] for i in both):.1f} min, ours "
              f"{statistics.median(pair_ours[i] for i in both):.1f} min")
    static = result["stats"]["static threshold rule"]["ttd"]
    mine = result["stats"]["ours (gates+detector+predictive)"]["ttd"]
    if static and mine:
        cut = 1 - statistics.median(mine) / statistics.median(static)
        print(f"\nmedian time to detect: ours {statistics.median(mine):.1f} min vs static "
              f"{statistics.median(static):.1f} min -> {cut:.0%} lower (target >= 70%)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollouts", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    result = run(args.rollouts, args.seed)
    print_table(result, time.perf_counter() - began)


if __name__ == "__main__":
    main()
