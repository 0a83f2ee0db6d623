"""The catalog dependency graph on small hand-made catalogs: dependents, blast radius, cycles, errors."""

from __future__ import annotations

import duckdb
import pytest

from releasepilot.catalog_graph import (
    assert_acyclic,
    blast_radius,
    build_graph,
    contract_tested,
    depends_on,
    direct_dependents,
    find_cycle,
    load_graph,
    normalise_ref,
    transitive_dependents,
)
from releasepilot.errors import InputError

# web -> gateway -> checkout -> payments -> payments-db ; mobile -> gateway ; orders -> payments
SERVICES = [
    {"service": "web", "tier": 1, "owner": "group:default/team-web", "depends_on": ["component:default/gateway"]},
    {"service": "mobile", "tier": 2, "owner": "team-mobile", "depends_on": ["component:gateway"]},
    {"service": "gateway", "tier": 1, "owner": "team-edge", "depends_on": ["checkout"]},
    {"service": "checkout", "tier": 1, "owner": "team-pay", "depends_on": ["payments"],
     "contract_tests": ["payments"], "system": "commerce"},
    {"service": "orders", "tier": "3", "owner": "team-orders", "depends_on": ["payments"]},
    {"service": "payments", "tier": 1, "owner": "team-pay", "depends_on": ["payments-db"]},
    {"service": "payments-db", "tier": None, "owner": "team-dba", "type": "database"},
]


@pytest.fixture()
def graph():
    return build_graph(SERVICES)


def test_edges_point_from_consumer_to_provider_and_refs_are_normalised(graph):
    assert graph.has_edge("web", "gateway") and not graph.has_edge("gateway", "web")
    assert graph.nodes["web"]["owner"] == "team-web"
    assert graph.nodes["orders"]["tier"] == 3 and graph.nodes["payments-db"]["tier"] == 3  # default tier
    assert normalise_ref("component:default/x") == normalise_ref("component:x") == normalise_ref("x") == "x"


def test_direct_and_transitive_dependents(graph):
    assert direct_dependents(graph, "payments") == ["checkout", "orders"]
    assert transitive_dependents(graph, "payments") == ["checkout", "gateway", "mobile", "orders", "web"]
    assert transitive_dependents(graph, "web") == []
    assert depends_on(graph, "web", "payments-db") and not depends_on(graph, "payments", "web")


def test_blast_radius_counts_tiers_owners_and_traffic_share(graph):
    requests = {"web": 500, "mobile": 200, "gateway": 700, "checkout": 300, "orders": 100, "payments": 200}
    radius = blast_radius(graph, "payments", requests)
    assert radius.size == 5 and radius.direct == ("checkout", "orders")
    assert radius.tier_counts == {1: 3, 2: 1, 3: 1}
    assert radius.owners == ("team-edge", "team-mobile", "team-orders", "team-pay", "team-web")
    total = sum(requests.values())
    assert radius.traffic_share == pytest.approx((500 + 200 + 700 + 300 + 100) / total)
    assert radius.self_traffic_share == pytest.approx(200 / total)
    distances = {i.service: i.distance for i in radius.impacted}
    assert distances == {"checkout": 1, "orders": 1, "gateway": 2, "mobile": 3, "web": 3}
    assert radius.as_dict()["size"] == 5


def test_blast_radius_of_a_leaf_consumer_is_empty_and_traffic_is_optional(graph):
    radius = blast_radius(graph, "web")
    assert radius.size == 0 and radius.traffic_share is None and radius.tier_counts == {}


def test_contract_tests_cover_a_pair(graph):
    assert contract_tested(graph, "checkout", "payments")
    assert not contract_tested(graph, "orders", "payments")


def test_unknown_dependency_is_an_error_naming_both_or_an_external_node():
    services = [{"service": "a", "depends_on": ["component:ghost"]}]
    with pytest.raises(InputError, match="'a' depends on 'component:ghost'"):
        build_graph(services)
    graph = build_graph(services, strict=False)
    assert graph.nodes["ghost"]["external"] and graph.has_edge("a", "ghost")


@pytest.mark.parametrize("services, expected", [
    ([{"service": "a"}, {"service": "a"}], "listed twice"),
    ([{"tier": 1}], "no 'service' name"),
    ([{"service": "a", "tier": "critical"}], "tier 'critical'"),
])
def test_malformed_catalog_records(services, expected):
    with pytest.raises(InputError, match=expected):
        build_graph(services)
    with pytest.raises(InputError, match="not in the catalog"):
        blast_radius(build_graph([{"service": "b"}]), "zzz")


def test_a_cycle_is_found_and_named():
    services = SERVICES + [{"service": "x", "depends_on": ["y"]}, {"service": "y", "depends_on": ["z"]},
                           {"service": "z", "depends_on": ["x", "payments"]}]
    graph = build_graph(services)
    cycle = find_cycle(graph)
    assert cycle[0] == cycle[-1] and set(cycle) == {"x", "y", "z"}
    with pytest.raises(InputError) as info:
        assert_acyclic(graph, ["payments", "x"], source="train.yaml")
    assert "dependency cycle" in str(info.value) and all(s in str(info.value) for s in "xyz")
    assert info.value.exit_code == 2
    # restricted to services outside the cycle, there is nothing to report
    assert find_cycle(graph, ["payments", "web"]) is None
    assert_acyclic(graph, ["payments"])


def test_a_self_dependency_is_a_cycle():
    graph = build_graph([{"service": "a", "depends_on": ["a"]}, {"service": "b"}])
    assert find_cycle(graph) == ["a", "a"]
    assert find_cycle(build_graph(SERVICES)) is None


def test_load_graph_reads_raw_services():
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("""create table raw.services (service varchar, description varchar, type varchar,
        lifecycle varchar, owner varchar, system varchar, tier varchar, layer varchar, regions varchar[],
        tenants varchar[], depends_on varchar[], contract_tests varchar[], source_file varchar)""")
    con.execute("""insert into raw.services values
        ('api', '', 'service', 'production', 'group:default/team-a', 'shop', '1', 'domain', ['us'], [],
         ['component:default/db'], ['db'], 'x.yaml'),
        ('db', '', 'database', 'production', 'team-b', 'shop', '2', 'datastore', ['us'], [], [], [], 'y.yaml')""")
    graph = load_graph(con)
    assert graph.has_edge("api", "db") and contract_tested(graph, "api", "db")
    assert graph.nodes["api"]["tier"] == 1 and graph.nodes["api"]["owner"] == "team-a"
    assert graph.nodes["db"]["system"] == "shop"
