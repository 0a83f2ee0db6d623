"""The service dependency graph from the Backstage catalog, and the blast radius of a release.

Nodes are services (with tier, owner, system, layer, contract tests); edges point from consumer to
provider, as `dependsOn` does. A release of a provider can hurt every service that depends on it, directly
or through others: those dependents, with their tiers, owners and share of traffic, are its blast radius.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import networkx as nx

from releasepilot.errors import InputError

DEFAULT_TIER = 3  # a service without a tier annotation is treated as internal


def normalise_ref(ref: str) -> str:
    """`component:default/x`, `component:x`, `group:default/x` and `x` all name `x`."""
    ref = ref.strip()
    if ":" in ref:
        ref = ref.split(":", 1)[1]
    return ref.rsplit("/", 1)[-1]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return [str(v) for v in value]


def build_graph(services: Iterable[Mapping[str, Any]], *, strict: bool = True) -> nx.DiGraph:
    """A DiGraph from service records (raw.services columns; `name` is accepted for `service`).

    With `strict`, a dependency on a service that is not in the catalog is an InputError naming both;
    otherwise the unknown provider is added as a node marked `external=True`.
    """
    graph = nx.DiGraph()
    records = list(services)
    for index, record in enumerate(records):
        name = record.get("service") or record.get("name")
        if not name:
            raise InputError("a service record has no 'service' name", source="catalog", row=index)
        name = normalise_ref(str(name))
        if name in graph:
            raise InputError(f"service {name!r} is listed twice", source="catalog", row=index)
        tier = record.get("tier")
        try:
            tier = DEFAULT_TIER if tier in (None, "") else int(tier)
        except (TypeError, ValueError):
            raise InputError(f"service {name!r}: tier {tier!r} is not 1, 2 or 3", source="catalog", row=index,
                             field="tier") from None
        graph.add_node(
            name,
            tier=tier,
            owner=normalise_ref(str(record.get("owner") or "")) or None,
            system=record.get("system"),
            layer=record.get("layer"),
            type=record.get("type"),
            contract_tests=frozenset(normalise_ref(r) for r in _as_list(record.get("contract_tests"))),
            external=False,
        )
    for index, record in enumerate(records):
        consumer = normalise_ref(str(record.get("service") or record.get("name")))
        for ref in _as_list(record.get("depends_on") or record.get("dependsOn")):
            provider = normalise_ref(ref)
            if provider not in graph:
                if strict:
                    raise InputError(f"service {consumer!r} depends on {ref!r}, which is not in the catalog",
                                     source="catalog", row=index, field="depends_on")
                graph.add_node(provider, tier=DEFAULT_TIER, owner=None, system=None, layer=None, type=None,
                               contract_tests=frozenset(), external=True)
            graph.add_edge(consumer, provider)
    return graph


def load_graph(con: Any, *, strict: bool = True) -> nx.DiGraph:
    """The graph from the warehouse's `raw.services` table (an open DuckDB connection)."""
    cursor = con.cursor()
    try:
        rows = cursor.execute(
            "select service, tier, owner, system, layer, type, depends_on, contract_tests from raw.services"
        ).fetchall()
        columns = [d[0] for d in cursor.description]
    finally:
        cursor.close()
    return build_graph((dict(zip(columns, row)) for row in rows), strict=strict)


def find_cycle(graph: nx.DiGraph, among: Iterable[str] | None = None) -> list[str] | None:
    """One dependency cycle as [a, b, ..., a], preferring cycles through `among`; None if there is none."""
    wanted = set(among) if among is not None else None
    for component in nx.strongly_connected_components(graph):
        if wanted is not None and not component & wanted:
            continue
        if len(component) == 1:
            (node,) = component
            if not graph.has_edge(node, node):
                continue
        sub = graph.subgraph(component)
        start = min(component & wanted) if wanted else min(component)
        edges = nx.find_cycle(sub, source=start)
        return [edges[0][0], *(edge[1] for edge in edges)]
    return None


def assert_acyclic(graph: nx.DiGraph, among: Iterable[str] | None = None, *, source: str = "catalog") -> None:
    """Raise an InputError naming the services of a cycle (through `among`, if given)."""
    cycle = find_cycle(graph, among)
    if cycle:
        raise InputError("dependency cycle: " + " -> ".join(cycle), source=source, field="depends_on")


def _require(graph: nx.DiGraph, service: str) -> None:
    if service not in graph:
        raise InputError(f"service {service!r} is not in the catalog", source="catalog", field="service")


def direct_dependents(graph: nx.DiGraph, service: str) -> list[str]:
    """Services that call `service` directly."""
    _require(graph, service)
    return sorted(graph.predecessors(service))


def transitive_dependents(graph: nx.DiGraph, service: str) -> list[str]:
    """Every service that depends on `service` directly or through others."""
    _require(graph, service)
    return sorted(nx.ancestors(graph, service))


def depends_on(graph: nx.DiGraph, consumer: str, provider: str) -> bool:
    """True when `consumer` reaches `provider` through dependencies (directly or not)."""
    return consumer != provider and provider in graph and consumer in graph and nx.has_path(graph, consumer,
                                                                                               provider)


def contract_tested(graph: nx.DiGraph, consumer: str, provider: str) -> bool:
    """True when the consumer's integration tests cover the provider's API."""
    return provider in graph.nodes[consumer].get("contract_tests", frozenset())


def traffic_shares(requests: Mapping[str, float]) -> dict[str, float]:
    """Each service's share of all requests."""
    total = float(sum(v for v in requests.values() if v and v > 0))
    if total <= 0:
        return {}
    return {service: max(float(v or 0), 0.0) / total for service, v in requests.items()}


@dataclass(frozen=True)
class ImpactedService:
    service: str
    tier: int
    owner: str | None
    distance: int          # 1 = calls the released service directly
    traffic_share: float | None


@dataclass(frozen=True)
class BlastRadius:
    """The services a release can hurt."""

    service: str
    direct: tuple[str, ...]
    transitive: tuple[str, ...]        # every dependent, direct ones included
    impacted: tuple[ImpactedService, ...]
    tier_counts: dict[int, int]
    owners: tuple[str, ...]
    traffic_share: float | None        # dependents' share of total requests; None without traffic
    self_traffic_share: float | None

    @property
    def size(self) -> int:
        return len(self.transitive)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["size"] = self.size
        out["tier_counts"] = {str(k): v for k, v in self.tier_counts.items()}
        return out


def blast_radius(graph: nx.DiGraph, service: str, requests: Mapping[str, float] | None = None, *,
                 shares: Mapping[str, float] | None = None) -> BlastRadius:
    """Dependents of `service` (direct and transitive) with their tiers, owners and traffic share.

    `requests` maps service -> request count over a common period; shares are of its total. Callers that
    compute many blast radii pass `shares=traffic_shares(requests)` once instead.
    """
    _require(graph, service)
    distances = nx.single_source_shortest_path_length(graph.reverse(copy=False), service)
    distances.pop(service, None)
    if shares is None:
        shares = traffic_shares(requests) if requests is not None else None
    impacted = []
    for name in sorted(distances, key=lambda n: (distances[n], n)):
        node = graph.nodes[name]
        impacted.append(ImpactedService(name, node["tier"], node["owner"], distances[name],
                                        None if shares is None else shares.get(name, 0.0)))
    tier_counts: dict[int, int] = {}
    for item in impacted:
        tier_counts[item.tier] = tier_counts.get(item.tier, 0) + 1
    return BlastRadius(
        service=service,
        direct=tuple(sorted(n for n, d in distances.items() if d == 1)),
        transitive=tuple(sorted(distances)),
        impacted=tuple(impacted),
        tier_counts=dict(sorted(tier_counts.items())),
        owners=tuple(sorted({i.owner for i in impacted if i.owner})),
        traffic_share=None if shares is None else sum(shares.get(n, 0.0) for n in distances),
        self_traffic_share=None if shares is None else shares.get(service, 0.0),
    )
