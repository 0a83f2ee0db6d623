"""Run the whole simulation: organisation -> calendar -> history -> true risk -> outcomes -> files.

One seeded generator drives every draw in a fixed order, so a seed always gives the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from releasepilot.errors import InputError
from releasepilot.simulation.calendar import DAY, Clock, freezes, oncall_shifts, traffic
from releasepilot.simulation.config import SimulationConfig
from releasepilot.simulation.drivers import compute_drivers
from releasepilot.simulation.history import generate_history
from releasepilot.simulation.org import build_org
from releasepilot.simulation.outcomes import deployments, incidents
from releasepilot.simulation.risk import failure_probability
from releasepilot.simulation.writers import (
    atomic_folder,
    sha_strings,
    write_calendar,
    write_catalog,
    write_commits,
    write_deployments,
    write_incidents,
)

Progress = Callable[[str, int, int], None]
STAGES = ["organisation", "calendar and traffic", "release history", "true risk and outcomes",
          "writing files"]


@dataclass
class SimulationSummary:
    """What was written and how well the ground truth separates failures (production releases)."""

    out_dir: str
    seed: int
    services: int
    teams: int
    people: int
    files: dict[str, int]
    production_deployments: int
    failure_rate: float
    bayes_auc: float
    bayes_accuracy_at_0_5: float
    majority_accuracy: float
    share_p_fail_over_0_5: float
    seconds: float

    def as_dict(self) -> dict:
        out = asdict(self)
        out["bayes_accuracy_at_0.5"] = out.pop("bayes_accuracy_at_0_5")
        files = out.pop("files")
        return {**out, **{f"rows_{name}": count for name, count in files.items()}}


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve by ranks (Mann-Whitney U); ties get average ranks."""
    y = np.asarray(y, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(score.size)
    sorted_scores = score[order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def simulate(config: SimulationConfig, out_dir: Path, on_progress: Progress | None = None) -> SimulationSummary:
    """Generate an organisation and its release history into `out_dir` (replaced atomically)."""
    report = on_progress or (lambda stage, done, total: None)
    if config.teams > config.services:
        raise InputError(f"need at least as many services as teams, got {config.services} services for "
                         f"{config.teams} teams", field="teams")
    began = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    start = datetime.combine(config.start_date, datetime.min.time(), tzinfo=UTC)
    clock = Clock.build(start, config.days)
    org = build_org(config, rng, config.days * DAY)
    report(STAGES[0], 1, 1)
    oncall = oncall_shifts(org, clock, rng)
    hourly = traffic(org, clock, rng, config.drift)
    frz = freezes(org, clock, rng)
    report(STAGES[1], 1, 1)
    history = generate_history(org, clock, frz, rng, config.scale, config.drift)
    report(STAGES[2], 1, 1)
    drivers = compute_drivers(org, clock, history, oncall, hourly)
    p_prod = failure_probability(drivers, history.dep_service, org.owner[history.dep_service],
                                 org.team_skill, org.aging, config.drift, rng)
    dep = deployments(org, history, p_prod, rng)
    inc = incidents(org, dep, config.days, rng)
    report(STAGES[3], 1, 1)
    counts: dict[str, int] = {}
    total_files = 6
    with atomic_folder(Path(out_dir)) as folder:
        counts["catalog"] = write_catalog(folder, org)
        report(STAGES[4], 1, total_files)
        shas = sha_strings(history.c_service.size, rng)
        counts["commits.jsonl"] = write_commits(folder, org, clock, history, shas, rng)
        report(STAGES[4], 2, total_files)
        dep_ids = write_deployments(folder, org, clock, dep, shas)
        counts["deployments.csv"] = counts["ground_truth.parquet"] = dep_ids.len()
        report(STAGES[4], 3, total_files)
        counts["incidents.csv"] = write_incidents(folder, org, clock, inc, dep_ids)
        report(STAGES[4], 4, total_files)
        counts.update(write_calendar(folder, org, clock, oncall, hourly, frz))
        report(STAGES[4], total_files, total_files)
    prod = ~dep.staging
    y, p = dep.failed[prod], dep.p_fail[prod]
    rate = float(y.mean()) if y.size else 0.0
    return SimulationSummary(
        out_dir=str(out_dir), seed=config.seed, services=config.services, teams=config.teams,
        people=len(org.people), files=counts, production_deployments=int(prod.sum()), failure_rate=rate,
        bayes_auc=roc_auc(y, p), bayes_accuracy_at_0_5=float(((p > 0.5) == y).mean()) if y.size else 0.0,
        majority_accuracy=max(rate, 1 - rate), share_p_fail_over_0_5=float((p > 0.5).mean()) if y.size else 0.0,
        seconds=round(time.perf_counter() - began, 3),
    )
