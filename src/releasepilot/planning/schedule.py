"""Portfolio schedule: assign every release of the coming week a window, with OR-Tools CP-SAT.

Each release chooses one of its allowed windows (scored by `windows.score_windows`) so that the total
expected impact is smallest, subject to: no two high-risk releases whose blast radii overlap in the same
window (or within `high_risk_separation_hours`), at most `team_capacity_per_window` releases per team per
window, and dependent releases after the releases they depend on. A release that cannot be placed is left
unscheduled with a large penalty (and reported) rather than making the whole problem infeasible; a release
whose dependency is left out is left out too.
The result compares the schedule's expected impact with the windows the teams asked for.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from releasepilot.errors import InputError

DEFAULT_HIGH_RISK_THRESHOLD = 0.25
DEFAULT_TEAM_CAPACITY_PER_WINDOW = 1
DEFAULT_HIGH_RISK_SEPARATION_HOURS = 1     # 1 = not in the same hourly window
DEFAULT_MIN_GAP_HOURS = 1                  # a dependent release starts at least this long after
DEFAULT_TIME_LIMIT_SECONDS = 20.0
DEFAULT_WORKERS = 2
IMPACT_SCALE = 100_000                     # CP-SAT needs integers: impact units x this
UNSCHEDULED_PENALTY_FACTOR = 10.0          # leaving a release out costs 10x the worst window impact


class SchedulePolicy(BaseModel):
    """Portfolio constraints and solver limits."""

    high_risk_threshold: float = Field(DEFAULT_HIGH_RISK_THRESHOLD, ge=0.0, le=1.0)
    team_capacity_per_window: int = Field(DEFAULT_TEAM_CAPACITY_PER_WINDOW, ge=1)
    high_risk_separation_hours: int = Field(DEFAULT_HIGH_RISK_SEPARATION_HOURS, ge=1)
    min_gap_hours: int = Field(DEFAULT_MIN_GAP_HOURS, ge=0)
    time_limit_seconds: float = Field(DEFAULT_TIME_LIMIT_SECONDS, gt=0)
    workers: int = Field(DEFAULT_WORKERS, ge=1)
    seed: int = 0


@dataclass(frozen=True)
class ScheduleRelease:
    """One release to schedule: allowed windows with their expected impact, and its constraints."""

    release_id: str
    team: str
    risk: float
    blast_radius: frozenset[str]                     # services it can affect, its own included
    options: Mapping[datetime, float]                # allowed window start -> expected impact
    after: tuple[str, ...] = ()                      # release ids that must start earlier
    requested_window: datetime | None = None
    requested_impact: float | None = None            # expected impact at the requested window
    requested_blocked_by: tuple[str, ...] = ()       # hard constraints the requested window breaks


@dataclass(frozen=True)
class ScheduleResult:
    assignment: dict[str, datetime]
    unscheduled: dict[str, str]
    expected_impact: float
    requested_impact: float           # sum over releases with a requested window, at that window
    scheduled_impact_of_requested: float  # the same releases at their scheduled windows
    requested_violations: tuple[str, ...]
    status: str
    seconds: float
    per_release: tuple[dict[str, Any], ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "seconds": round(self.seconds, 3),
                "expected_impact": round(self.expected_impact, 6),
                "requested_impact": round(self.requested_impact, 6),
                "scheduled_impact_of_requested": round(self.scheduled_impact_of_requested, 6),
                "requested_violations": list(self.requested_violations),
                "assignment": {k: v.isoformat() for k, v in self.assignment.items()},
                "unscheduled": self.unscheduled, "releases": list(self.per_release)}


def from_ranking(ranking: Any, *, team: str, risk: float, blast_radius: frozenset[str],
                 after: Sequence[str] = ()) -> ScheduleRelease:
    """A ScheduleRelease from a `windows.WindowRanking` (its allowed windows become the options)."""
    requested = ranking.requested
    return ScheduleRelease(
        release_id=ranking.release_id, team=team, risk=risk, blast_radius=frozenset(blast_radius),
        options={w.start: w.expected_impact for w in ranking.windows if not w.excluded}, after=tuple(after),
        requested_window=requested.start if requested else None,
        requested_impact=requested.expected_impact if requested else None,
        requested_blocked_by=tuple(requested.blocked_by) if requested else ())


def check_schedule(releases: Sequence[ScheduleRelease], assignment: Mapping[str, datetime],
                   policy: SchedulePolicy | None = None) -> list[str]:
    """Every portfolio constraint an assignment breaks, in words (empty when it is valid)."""
    policy = policy or SchedulePolicy()
    by_id = {r.release_id: r for r in releases}
    problems: list[str] = []
    per_team: dict[tuple[str, datetime], list[str]] = {}
    for rid, ts in assignment.items():
        per_team.setdefault((by_id[rid].team, ts), []).append(rid)
    for (team, ts), rids in sorted(per_team.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if len(rids) > policy.team_capacity_per_window:
            problems.append(f"team {team} has {len(rids)} releases at {ts:%a %H:00} "
                            f"(capacity {policy.team_capacity_per_window}): {', '.join(sorted(rids))}")
    sep = timedelta(hours=policy.high_risk_separation_hours)
    high = sorted((r for r in releases if r.release_id in assignment and r.risk >= policy.high_risk_threshold),
                  key=lambda r: r.release_id)
    for i, a in enumerate(high):
        for b in high[i + 1:]:
            shared = a.blast_radius & b.blast_radius
            if shared and abs(assignment[a.release_id] - assignment[b.release_id]) < sep:
                problems.append(f"high-risk {a.release_id} and {b.release_id} overlap on "
                                f"{', '.join(sorted(shared)[:3])} within {policy.high_risk_separation_hours} h")
    gap = timedelta(hours=policy.min_gap_hours)
    for r in releases:
        for before in r.after:
            if r.release_id in assignment and before in assignment \
                    and assignment[r.release_id] < assignment[before] + gap:
                problems.append(f"{r.release_id} starts before {before} (+{policy.min_gap_hours} h), "
                                "which it depends on")
    return problems


def schedule_releases(releases: Sequence[ScheduleRelease], policy: SchedulePolicy | None = None) -> ScheduleResult:
    """Minimise total expected impact over the releases' allowed windows with CP-SAT."""
    from ortools.sat.python import cp_model

    policy = policy or SchedulePolicy()
    began = time.perf_counter()
    by_id = _validate(releases)
    windows = sorted({ts for r in releases for ts in r.options})
    origin = windows[0] if windows else None
    hour_of = {ts: int((ts - origin) // timedelta(hours=1)) for ts in windows} if origin else {}
    worst = max((v for r in releases for v in r.options.values()), default=1.0)
    penalty = int(round(UNSCHEDULED_PENALTY_FACTOR * (worst + 1.0) * IMPACT_SCALE))

    model = cp_model.CpModel()
    x: dict[str, dict[datetime, Any]] = {}
    skipped: dict[str, Any] = {}
    obj_vars: list[Any] = []
    obj_coeffs: list[int] = []
    for r in releases:
        x[r.release_id] = {ts: model.new_bool_var(f"x[{r.release_id},{hour_of[ts]}]") for ts in r.options}
        skipped[r.release_id] = model.new_bool_var(f"skip[{r.release_id}]")
        model.add_exactly_one([*x[r.release_id].values(), skipped[r.release_id]])
        for ts, v in r.options.items():
            obj_vars.append(x[r.release_id][ts])
            obj_coeffs.append(int(round(v * IMPACT_SCALE)))
        obj_vars.append(skipped[r.release_id])
        obj_coeffs.append(penalty)
        if r.requested_window in x[r.release_id]:
            model.add_hint(x[r.release_id][r.requested_window], 1)

    per_team: dict[tuple[str, datetime], list[Any]] = {}
    for r in releases:
        for ts, var in x[r.release_id].items():
            per_team.setdefault((r.team, ts), []).append(var)
    for variables in per_team.values():
        if len(variables) > policy.team_capacity_per_window:
            model.add(sum(variables) <= policy.team_capacity_per_window)

    for group in _high_risk_groups(releases, policy):
        for ts in windows:
            span = [ts + timedelta(hours=h) for h in range(policy.high_risk_separation_hours)]
            variables = [x[rid][t] for rid in group for t in span if t in x[rid]]
            if len(variables) > 1:
                model.add_at_most_one(variables)

    horizon = max(hour_of.values(), default=0)
    start: dict[str, Any] = {}
    for r in releases:
        if r.after:
            for rid in (r.release_id, *r.after):
                if rid not in start:
                    start[rid] = model.new_int_var(0, horizon, f"t[{rid}]")
                    model.add(start[rid] == cp_model.LinearExpr.weighted_sum(
                        list(x[rid].values()), [hour_of[ts] for ts in x[rid]]))
            for before in r.after:
                # a release never ships without the release it depends on
                model.add_implication(skipped[before], skipped[r.release_id])
                model.add(start[r.release_id] >= start[before] + policy.min_gap_hours).only_enforce_if(
                    [skipped[r.release_id].Not(), skipped[before].Not()])
    model.minimize(cp_model.LinearExpr.weighted_sum(obj_vars, obj_coeffs))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = policy.time_limit_seconds
    solver.parameters.num_workers = policy.workers
    solver.parameters.random_seed = policy.seed
    status = solver.solve(model)
    status_name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise InputError(f"the schedule solver found no solution ({status_name})", field="schedule")
    assignment: dict[str, datetime] = {}
    unscheduled: dict[str, str] = {}
    for r in releases:
        chosen = [ts for ts, var in x[r.release_id].items() if solver.value(var)]
        if chosen:
            assignment[r.release_id] = chosen[0]
        elif not r.options:
            unscheduled[r.release_id] = "no allowed window in the horizon"
        else:
            missing = [b for b in r.after if not any(solver.value(v) for v in x[b].values())]
            unscheduled[r.release_id] = (f"depends on unscheduled {', '.join(missing)}" if missing
                                         else "no window satisfies the portfolio constraints")
    return _result(releases, by_id, assignment, unscheduled, status_name, time.perf_counter() - began, policy)


def _validate(releases: Sequence[ScheduleRelease]) -> dict[str, ScheduleRelease]:
    by_id: dict[str, ScheduleRelease] = {}
    for i, r in enumerate(releases):
        if r.release_id in by_id:
            raise InputError(f"duplicate release id {r.release_id!r}", source="releases", row=i, field="release_id")
        if not 0.0 <= r.risk <= 1.0:
            raise InputError(f"risk {r.risk} is outside [0, 1]", source="releases", row=i, field="risk")
        for ts, v in r.options.items():
            if v < 0 or ts.tzinfo is None:
                raise InputError(f"window {ts}: expected an aware UTC start and a non-negative impact, got {v}",
                                 source="releases", row=i, field="options")
        by_id[r.release_id] = r
    for i, r in enumerate(releases):
        for before in r.after:
            if before not in by_id:
                raise InputError(f"{r.release_id} depends on unknown release {before!r}", source="releases",
                                 row=i, field="after")
    return by_id


def _high_risk_groups(releases: Sequence[ScheduleRelease], policy: SchedulePolicy) -> list[tuple[str, ...]]:
    """For each service, the high-risk releases whose blast radius holds it (deduplicated, size >= 2)."""
    holders: dict[str, list[str]] = {}
    for r in releases:
        if r.risk >= policy.high_risk_threshold:
            for service in r.blast_radius:
                holders.setdefault(service, []).append(r.release_id)
    groups = {tuple(sorted(ids)) for ids in holders.values() if len(ids) >= 2}
    return sorted(groups)


def _result(releases: Sequence[ScheduleRelease], by_id: Mapping[str, ScheduleRelease],
            assignment: dict[str, datetime], unscheduled: dict[str, str], status: str, seconds: float,
            policy: SchedulePolicy) -> ScheduleResult:
    total = sum(by_id[rid].options[ts] for rid, ts in assignment.items())
    asked = [r for r in releases if r.requested_window is not None and r.requested_impact is not None]
    requested_total = sum(r.requested_impact or 0.0 for r in asked)
    same_set = sum(r.options[assignment[r.release_id]] for r in asked if r.release_id in assignment)
    requested_assignment = {r.release_id: r.requested_window for r in asked}
    violations = [f"{r.release_id}: requested window breaks {'; '.join(r.requested_blocked_by)}"
                  for r in asked if r.requested_blocked_by]
    violations += check_schedule(releases, requested_assignment, policy)   # type: ignore[arg-type]
    rows = []
    for r in releases:
        ts = assignment.get(r.release_id)
        rows.append({"release_id": r.release_id, "team": r.team, "risk": r.risk,
                     "window": ts.isoformat() if ts else None,
                     "expected_impact": round(r.options[ts], 6) if ts else None,
                     "requested_window": r.requested_window.isoformat() if r.requested_window else None,
                     "requested_impact": None if r.requested_impact is None else round(r.requested_impact, 6)})
    return ScheduleResult(assignment=assignment, unscheduled=unscheduled, expected_impact=total,
                          requested_impact=requested_total, scheduled_impact_of_requested=same_set,
                          requested_violations=tuple(violations), status=status, seconds=seconds,
                          per_release=tuple(rows))
