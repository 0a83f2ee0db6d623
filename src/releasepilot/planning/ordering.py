"""Deploy order: waves of releases that respect dependencies.

Providers ship before their consumers (unless the policy says consumers first), through the whole
catalog graph: a consumer waits for a provider even when the service between them has no release in the
train. Independent releases share a wave up to `max_parallel`; a release riskier than `isolate_risk_above`
gets a wave of its own. Each wave says why. The catalog graph is a networkx DiGraph with
consumer -> provider edges (or a plain edge list).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from releasepilot.errors import InputError

DEFAULT_MAX_PARALLEL = 5
DEFAULT_ISOLATE_RISK_ABOVE = 0.3


class OrderingPolicy(BaseModel):
    """How releases are grouped into waves."""

    providers_first: bool = True
    max_parallel: int = Field(DEFAULT_MAX_PARALLEL, ge=1)
    isolate_risk_above: float = Field(DEFAULT_ISOLATE_RISK_ABOVE, ge=0.0, le=1.0)
    transitive: bool = True   # order through services that have no release in the train


@dataclass(frozen=True)
class OrderRelease:
    """A release to place in a wave: its service and its failure probability."""

    release_id: str
    service: str
    risk: float = 0.0


@dataclass(frozen=True)
class Wave:
    """Releases deployed together, after every earlier wave has finished."""

    index: int
    release_ids: tuple[str, ...]
    services: tuple[str, ...]
    isolated: bool
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "release_ids": list(self.release_ids), "services": list(self.services),
                "isolated": self.isolated, "why": self.why}


@dataclass(frozen=True)
class DeployOrder:
    """The waves and the release-to-release constraints they respect (before, after, reason)."""

    waves: tuple[Wave, ...]
    constraints: tuple[tuple[str, str, str], ...]

    def wave_of(self, release_id: str) -> int:
        for wave in self.waves:
            if release_id in wave.release_ids:
                return wave.index
        raise KeyError(release_id)

    def as_dict(self) -> dict[str, Any]:
        return {"waves": [w.as_dict() for w in self.waves],
                "constraints": [{"before": b, "after": a, "reason": r} for b, a, r in self.constraints]}


def release_constraints(releases: Sequence[OrderRelease], graph: Any, policy: OrderingPolicy
                        ) -> list[tuple[str, str, str]]:
    """(before, after, reason) pairs: a provider's release precedes its consumers' (or the reverse)."""
    import networkx as nx

    graph = _as_graph(graph)
    by_service: dict[str, list[OrderRelease]] = {}
    for r in releases:
        by_service.setdefault(r.service, []).append(r)
    out: list[tuple[str, str, str]] = []
    for items in by_service.values():   # two releases of one service go one after the other, in input order
        out += [(a.release_id, b.release_id, f"same service {a.service}") for a, b in zip(items, items[1:])]
    for consumer, consumer_releases in by_service.items():
        if consumer not in graph:
            continue
        if policy.transitive:
            providers = nx.descendants(graph, consumer)
        else:
            providers = set(graph.successors(consumer))
        for provider in providers & by_service.keys():
            if provider == consumer:
                continue
            direct = graph.has_edge(consumer, provider)
            how = "depends on" if direct else "depends (through other services) on"
            for c in consumer_releases:
                for p in by_service[provider]:
                    if policy.providers_first:
                        out.append((p.release_id, c.release_id, f"{consumer} {how} {provider}: provider first"))
                    else:
                        out.append((c.release_id, p.release_id,
                                    f"{consumer} {how} {provider}: consumer first (policy)"))
    return out


def plan_waves(releases: Sequence[OrderRelease], graph: Any, policy: OrderingPolicy | None = None) -> DeployOrder:
    """Layer the releases into waves: dependencies first, up to max_parallel, risky ones alone."""
    policy = policy or OrderingPolicy()
    ids = [r.release_id for r in releases]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"duplicate release id {dup!r}", source="releases", field="release_id")
    for i, r in enumerate(releases):
        if not 0.0 <= r.risk <= 1.0:
            raise InputError(f"risk {r.risk} is outside [0, 1]", source="releases", row=i, field="risk")
    constraints = release_constraints(releases, graph, policy)
    by_id = {r.release_id: r for r in releases}
    preds: dict[str, set[str]] = {i: set() for i in ids}
    succs: dict[str, set[str]] = {i: set() for i in ids}
    why_after: dict[str, list[str]] = {i: [] for i in ids}
    for before, after, reason in constraints:
        preds[after].add(before)
        succs[before].add(after)
        why_after[after].append(reason)
    depth = _critical_path(ids, succs)

    done: set[str] = set()
    wave_of: dict[str, int] = {}
    waves: list[Wave] = []
    while len(done) < len(ids):
        ready = [i for i in ids if i not in done and preds[i] <= done]
        # longest chain of waiting releases first, then the safer release first
        ready.sort(key=lambda i: (-depth[i], by_id[i].risk, i))
        first = by_id[ready[0]]
        index = len(waves) + 1
        if first.risk > policy.isolate_risk_above:
            chosen, isolated = [first], True
        else:
            chosen = [by_id[i] for i in ready if by_id[i].risk <= policy.isolate_risk_above][: policy.max_parallel]
            isolated = False
        held = len(ready) - len(chosen)
        why = _why(chosen, isolated, held, wave_of, preds, policy)
        waves.append(Wave(index=index, release_ids=tuple(r.release_id for r in chosen),
                          services=tuple(r.service for r in chosen), isolated=isolated, why=why))
        for r in chosen:
            done.add(r.release_id)
            wave_of[r.release_id] = index
    return DeployOrder(waves=tuple(waves), constraints=tuple(constraints))


def _critical_path(ids: list[str], succs: dict[str, set[str]]) -> dict[str, int]:
    """Number of releases that wait on each release, along the longest chain; raises on a cycle."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    graph.add_edges_from((a, b) for a, bs in succs.items() for b in bs)
    try:
        order = list(nx.topological_sort(graph))
    except nx.NetworkXUnfeasible:
        cycle = " -> ".join(a for a, _ in nx.find_cycle(graph))
        raise InputError(f"releases depend on each other in a cycle ({cycle}); break the cycle or set "
                         "the order by hand", source="releases", field="depends_on") from None
    depth = {i: 0 for i in ids}
    for node in reversed(order):
        depth[node] = max((depth[s] + 1 for s in succs[node]), default=0)
    return depth


def _why(chosen: list[OrderRelease], isolated: bool, held: int, wave_of: dict[str, int],
         preds: dict[str, set[str]], policy: OrderingPolicy) -> str:
    names = ", ".join(f"{r.release_id} ({r.service})" for r in chosen)
    if isolated:
        r = chosen[0]
        text = f"{names} alone: risk {r.risk:.2f} is above isolate_risk_above {policy.isolate_risk_above:.2f}"
    elif len(chosen) > 1:
        text = f"{names} in parallel: independent of each other"
    else:
        text = f"{names}"
    waits = sorted({wave_of[p] for r in chosen for p in preds[r.release_id]})
    if waits:
        text += "; after wave " + ", ".join(str(w) for w in waits) + " (dependencies)"
    else:
        text += "; no dependency on other releases of the train"
    if held:
        text += f"; {held} other ready release(s) wait"
        if not isolated and len(chosen) == policy.max_parallel:
            text += f" (max_parallel {policy.max_parallel})"
    return text


def _as_graph(graph: Any) -> Any:
    import networkx as nx

    if isinstance(graph, nx.DiGraph):
        return graph
    out = nx.DiGraph()
    edges: Iterable[Any] = graph or ()
    for i, edge in enumerate(edges):
        if len(edge) != 2:
            raise InputError("expected a (consumer, provider) pair", source="dependencies", row=i)
        out.add_edge(str(edge[0]), str(edge[1]))
    return out
