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

import bisect
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
DEFAULT_RELATIVE_GAP = 0.001               # stop once within 0.1% of the proven lower bound
DEFAULT_PROBING_LEVEL = 0                  # presolve probing doubled solve time on these models
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
    relative_gap: float = Field(DEFAULT_RELATIVE_GAP, ge=0.0, lt=1.0)
    probing_level: int = Field(DEFAULT_PROBING_LEVEL, ge=0, le=2)
    log_search: bool = False                 # print CP-SAT's search log (for tuning)


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
    greedy = greedy_schedule(releases, policy)

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
        obj_coeffs.append(_penalty(r))
        # start from the greedy schedule: a complete, feasible hint
        for ts, var in x[r.release_id].items():
            model.add_hint(var, int(greedy.get(r.release_id) == ts))
        model.add_hint(skipped[r.release_id], int(r.release_id not in greedy))

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

    # time-indexed precedence: done[a][k] = "a has started at or before window k"; b at w needs done[a][w - gap]
    done: dict[str, list[Any]] = {}
    needs = _reduced_precedence(releases)
    for r in releases:
        for before in needs.get(r.release_id, ()):
            model.add_implication(skipped[before], skipped[r.release_id])  # never ship without a dependency
            if before not in done:
                done[before] = _started_by(model, x[before], windows, before)
            for ts, var in x[r.release_id].items():
                k = bisect.bisect_right(windows, ts - timedelta(hours=policy.min_gap_hours)) - 1
                if k < 0:
                    model.add(var == 0)
                else:
                    model.add_implication(var, done[before][k])
    model.minimize(cp_model.LinearExpr.weighted_sum(obj_vars, obj_coeffs))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = policy.time_limit_seconds
    solver.parameters.num_workers = policy.workers
    solver.parameters.random_seed = policy.seed
    solver.parameters.log_search_progress = policy.log_search
    solver.parameters.relative_gap_limit = policy.relative_gap
    solver.parameters.cp_model_probing_level = policy.probing_level
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


def greedy_schedule(releases: Sequence[ScheduleRelease], policy: SchedulePolicy | None = None
                    ) -> dict[str, datetime]:
    """A quick feasible assignment: dependencies first, riskier first, each in its cheapest free window.

    Used as the solver's starting point and as a baseline; it respects every constraint of the schedule.
    """
    policy = policy or SchedulePolicy()
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(r.release_id for r in releases)
    graph.add_edges_from((b, r.release_id) for r in releases for b in r.after)
    by_id = {r.release_id: r for r in releases}
    order = list(nx.lexicographical_topological_sort(graph, key=lambda rid: (-by_id[rid].risk, rid)))
    sep, gap = timedelta(hours=policy.high_risk_separation_hours), timedelta(hours=policy.min_gap_hours)
    load: dict[tuple[str, datetime], int] = {}
    placed_high: list[tuple[ScheduleRelease, datetime]] = []
    out: dict[str, datetime] = {}
    for rid in order:
        r = by_id[rid]
        if any(b not in out for b in r.after):
            continue
        earliest = max((out[b] + gap for b in r.after), default=None)
        high = r.risk >= policy.high_risk_threshold
        for ts, _ in sorted(r.options.items(), key=lambda kv: (kv[1], kv[0])):
            if earliest is not None and ts < earliest:
                continue
            if load.get((r.team, ts), 0) >= policy.team_capacity_per_window:
                continue
            if high and any(abs(ts - t) < sep and o.blast_radius & r.blast_radius for o, t in placed_high):
                continue
            out[rid] = ts
            load[(r.team, ts)] = load.get((r.team, ts), 0) + 1
            if high:
                placed_high.append((r, ts))
            break
    return out


def _penalty(r: ScheduleRelease) -> int:
    """Leaving a release out costs UNSCHEDULED_PENALTY_FACTOR x its worst allowed window (plus one unit)."""
    worst = max(r.options.values(), default=0.0)
    return int(round(UNSCHEDULED_PENALTY_FACTOR * worst * IMPACT_SCALE)) + IMPACT_SCALE


def _reduced_precedence(releases: Sequence[ScheduleRelease]) -> dict[str, list[str]]:
    """The `after` relation without the pairs implied by others (a<b<c makes a<c redundant)."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(r.release_id for r in releases)
    graph.add_edges_from((before, r.release_id) for r in releases for before in r.after)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " -> ".join(a for a, _ in nx.find_cycle(graph))
        raise InputError(f"releases must follow each other in a cycle ({cycle})", source="releases", field="after")
    out: dict[str, list[str]] = {}
    for before, after in nx.transitive_reduction(graph).edges:
        out.setdefault(after, []).append(before)
    return out


def _started_by(model: Any, x: Mapping[datetime, Any], windows: list[datetime], name: str) -> list[Any]:
    """Booleans y[k] = sum of x over windows[0..k] (monotone prefix), in one linear equality each."""
    out: list[Any] = []
    for k, ts in enumerate(windows):
        y = model.new_bool_var(f"started[{name},{k}]")
        parts = ([out[-1]] if out else []) + ([x[ts]] if ts in x else [])
        model.add(y == sum(parts)) if parts else model.add(y == 0)
        out.append(y)
    return out


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
