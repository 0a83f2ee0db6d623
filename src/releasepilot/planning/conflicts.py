"""Conflicts in a release train, each with the evidence that shows it.

Five kinds (see `CONFLICT_KINDS`): a module changed by several teams in the same train; an API contract
changed with no integration test covering a consumer; releases of dependent services in overlapping
windows; a window overlapping peak traffic or a change freeze; a team without on-call in its window.
Every function is pure: facts in (graph, windows, calendar, changes), `Conflict` records out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import combinations
from typing import Any

import networkx as nx

from releasepilot.catalog_graph import contract_tested
from releasepilot.planning.calendar import HourlyCalendar
from releasepilot.planning.types import Conflict, TimeWindow
from releasepilot.policy import (  # the named defaults live with the policy
    DEFAULT_CONTRACT_PATHS,
    DEFAULT_PEAK_PERCENTILE,
    ConflictPolicy,
)
from releasepilot.policy import DEFAULT_MIN_TEAMS_PER_MODULE as DEFAULT_MIN_TEAMS

MODULE_DEPTH = 2  # a module is a file's first two path segments (docs/data_model.md)


@dataclass(frozen=True)
class ModuleChange:
    """One commit touching one module of one service, by an author of one team."""

    service: str
    module: str
    team: str
    sha: str


def module_of(path: str) -> str:
    """`src/cart/coupon.py` -> `src/cart`; a file at the top level is its own module."""
    return "/".join(path.strip("/").split("/")[:MODULE_DEPTH])


def is_contract_path(path: str, prefixes: Sequence[str] = DEFAULT_CONTRACT_PATHS) -> bool:
    return any(path.lstrip("/").startswith(prefix) for prefix in prefixes)


def _paths(files: Iterable[Any]) -> list[str]:
    return [f if isinstance(f, str) else str(f["path"]) for f in files]


def module_changes(service: str, commits: Iterable[Mapping[str, Any]], author_team: Mapping[str, str],
                   default_team: str | None) -> list[ModuleChange]:
    """Module changes of one release from its commits ({sha, author, files}); unknown authors count for
    `default_team` (the owning team), or as `unknown:<author>` when there is none."""
    out = []
    for commit in commits:
        author = str(commit.get("author") or "")
        team = author_team.get(author) or default_team or f"unknown:{author}"
        for module in sorted({module_of(p) for p in _paths(commit.get("files") or ())}):
            out.append(ModuleChange(service, module, team, str(commit["sha"])))
    return out


def touches_contract(commits: Iterable[Mapping[str, Any]],
                     prefixes: Sequence[str] = DEFAULT_CONTRACT_PATHS) -> list[str]:
    """The contract files the commits change."""
    return sorted({p for c in commits for p in _paths(c.get("files") or ()) if is_contract_path(p, prefixes)})


def shared_module_conflicts(changes: Iterable[ModuleChange], min_teams: int = DEFAULT_MIN_TEAMS) -> list[Conflict]:
    """Modules changed by at least `min_teams` teams in this train."""
    by_module: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for change in changes:
        by_module[(change.service, change.module)][change.team].add(change.sha)
    out = []
    for (service, module), teams in sorted(by_module.items()):
        if len(teams) >= min_teams:
            names = sorted(teams)
            out.append(Conflict(
                kind="shared_module", services=(service,),
                text=f"{service}:{module} is changed by {len(names)} teams ({', '.join(names)}) in this train",
                evidence={"service": service, "module": module,
                          "commits_by_team": {t: sorted(shas) for t, shas in sorted(teams.items())}}))
    return out


def untested_contract_conflicts(graph: nx.DiGraph, changed_providers: Iterable[str],
                                train_services: Iterable[str] = ()) -> list[Conflict]:
    """For each provider whose API contract changes, every direct consumer without a contract test on it."""
    in_train = set(train_services)
    out = []
    for provider in sorted(set(changed_providers)):
        if provider not in graph:
            continue
        for consumer in sorted(graph.predecessors(provider)):
            if contract_tested(graph, consumer, provider):
                continue
            node = graph.nodes[consumer]
            out.append(Conflict(
                kind="untested_contract", services=(consumer, provider),
                text=(f"{provider} changes its API contract and no integration test of {consumer} "
                      f"(tier {node['tier']}, {node['owner'] or 'no owner'}) covers it"),
                evidence={"provider": provider, "consumer": consumer, "consumer_tier": node["tier"],
                          "consumer_owner": node["owner"], "consumer_in_train": consumer in in_train,
                          "consumer_contract_tests": sorted(node.get("contract_tests", ()))}))
    return out


def dependent_window_conflicts(graph: nx.DiGraph, windows: Mapping[str, TimeWindow]) -> list[Conflict]:
    """Pairs of train releases in overlapping windows where one service depends on the other."""
    out = []
    for a, b in combinations(sorted(windows), 2):
        if not windows[a].overlaps(windows[b]) or a not in graph or b not in graph:
            continue
        for consumer, provider in ((a, b), (b, a)):
            if nx.has_path(graph, consumer, provider):
                path = nx.shortest_path(graph, consumer, provider)
                out.append(Conflict(
                    kind="dependent_same_window", services=(consumer, provider),
                    text=(f"{consumer} depends on {provider} ({' -> '.join(path)}) and both release in "
                          f"overlapping windows"),
                    evidence={"consumer": consumer, "provider": provider, "path": path,
                              "windows": {consumer: windows[consumer].as_dict(),
                                          provider: windows[provider].as_dict()}}))
                break
    return out


def _hours(window: TimeWindow) -> list:
    start = window.start.replace(minute=0, second=0, microsecond=0)
    hours = []
    while start < window.end:
        hours.append(start)
        start += timedelta(hours=1)
    return hours


def peak_traffic_conflicts(windows: Mapping[str, TimeWindow], calendar: HourlyCalendar,
                           peak_percentile: float = DEFAULT_PEAK_PERCENTILE) -> list[Conflict]:
    """Windows that touch an hour at or above the service's peak percentile (services with traffic only)."""
    out = []
    for service, window in sorted(windows.items()):
        if not calendar.has_traffic(service):
            continue
        peaks = [(h, calendar.traffic_percentile(service, h)) for h in _hours(window)]
        peaks = [(h, p) for h, p in peaks if p >= peak_percentile]
        if peaks:
            out.append(Conflict(
                kind="peak_traffic", services=(service,),
                text=(f"{service}'s window overlaps its peak traffic ({len(peaks)} hour(s) at or above the "
                      f"{peak_percentile:.0%} percentile of its week)"),
                evidence={"window": window.as_dict(), "threshold": peak_percentile,
                          "peak_hours": [{"hour": h.isoformat(), "percentile": round(p, 4)} for h, p in peaks]}))
    return out


def freeze_conflicts(windows: Mapping[str, TimeWindow], calendar: HourlyCalendar,
                     systems: Mapping[str, str | None]) -> list[Conflict]:
    """Windows that overlap a change freeze covering the service (scope `all` or its system)."""
    out = []
    for service, window in sorted(windows.items()):
        freezes = calendar.freezes_at(window.start, window.end, systems.get(service))
        if freezes:
            names = ", ".join(f"'{f.name or f.freeze_id}'" for f in freezes)
            out.append(Conflict(
                kind="freeze", services=(service,), text=f"{service}'s window overlaps change freeze {names}",
                evidence={"window": window.as_dict(), "freezes": [
                    {"freeze_id": f.freeze_id, "name": f.name, "scope": f.scope, "reason": f.reason,
                     "start": f.start.isoformat(), "end": f.end.isoformat()} for f in freezes]}))
    return out


def oncall_gap_conflicts(windows: Mapping[str, TimeWindow], calendar: HourlyCalendar,
                         teams: Mapping[str, str | None]) -> list[Conflict]:
    """Releases whose owning team has nobody on call for part or all of the window."""
    out = []
    for service, window in sorted(windows.items()):
        team = teams.get(service)
        if not team or calendar.oncall_covers(team, window.start, window.end):
            continue
        covered = [(s, e) for s, e in calendar.oncall.get(team, ()) if s < window.end and window.start < e]
        out.append(Conflict(
            kind="oncall_gap", services=(service,),
            text=f"team {team} has nobody on call for {'part' if covered else 'all'} of {service}'s window",
            evidence={"team": team, "window": window.as_dict(),
                      "covered": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in covered]}))
    return out


@dataclass(frozen=True)
class ConflictInputs:
    """Everything the conflict search needs, gathered by the plan assembler."""

    graph: nx.DiGraph
    train_services: tuple[str, ...]
    windows: Mapping[str, TimeWindow] = field(default_factory=dict)
    calendar: HourlyCalendar = field(default_factory=HourlyCalendar)
    module_changes: tuple[ModuleChange, ...] = ()
    contract_changes: tuple[str, ...] = ()       # services whose API contract changes
    teams: Mapping[str, str | None] = field(default_factory=dict)  # owning team per service


def find_conflicts(inputs: ConflictInputs, policy: ConflictPolicy | None = None) -> list[Conflict]:
    """Every conflict of the train, grouped by kind in `CONFLICT_KINDS` order."""
    policy = policy or ConflictPolicy()
    systems = {s: inputs.graph.nodes[s].get("system") if s in inputs.graph else None for s in inputs.train_services}
    return [
        *shared_module_conflicts(inputs.module_changes, policy.min_teams_per_module),
        *untested_contract_conflicts(inputs.graph, inputs.contract_changes, inputs.train_services),
        *dependent_window_conflicts(inputs.graph, inputs.windows),
        *peak_traffic_conflicts(inputs.windows, inputs.calendar, policy.peak_percentile),
        *freeze_conflicts(inputs.windows, inputs.calendar, systems),
        *oncall_gap_conflicts(inputs.windows, inputs.calendar, inputs.teams),
    ]


def conflicts_for(service: str, conflicts: Iterable[Conflict]) -> list[Conflict]:
    """The conflicts one release answers for: an untested contract belongs to the provider that changes
    it; every other kind to all the services it names."""
    return [c for c in conflicts
            if (c.evidence.get("provider") == service if c.kind == "untested_contract" else service in c.services)]
