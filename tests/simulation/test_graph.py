"""The catalog is a layered, acyclic dependency graph with valid annotations."""

from __future__ import annotations

import networkx as nx
import yaml

from releasepilot.simulation.config import REGIONS, TENANTS

LAYER_DEPTH = {"edge": 0, "gateway": 1, "domain": 2, "library": 3, "datastore": 4}


def load_catalog(folder):
    docs = {}
    for path in sorted((folder / "catalog").glob("*/catalog-info.yaml")):
        doc = yaml.safe_load(path.read_text())
        assert doc["kind"] == "Component" and doc["apiVersion"] == "backstage.io/v1alpha1"
        assert path.parent.name == doc["metadata"]["name"]
        docs[doc["metadata"]["name"]] = doc
    return docs


def ref(name: str) -> str:
    return name.split("/")[-1].split(":")[-1]


def test_graph_is_acyclic_and_layered(small_history):
    folder, _ = small_history
    docs = load_catalog(folder)
    graph = nx.DiGraph()
    for name, doc in docs.items():
        graph.add_node(name)
        for provider in doc["spec"]["dependsOn"]:
            graph.add_edge(name, ref(provider))
    assert set(graph.nodes) == set(docs)
    assert nx.is_directed_acyclic_graph(graph)
    assert graph.number_of_edges() > len(docs) // 2
    layer = {n: d["metadata"]["annotations"]["releasepilot.io/layer"] for n, d in docs.items()}
    assert {"edge", "gateway", "domain", "datastore"} <= set(layer.values())
    for consumer, provider in graph.edges:
        assert LAYER_DEPTH[layer[consumer]] < LAYER_DEPTH[layer[provider]] or (
            layer[consumer] == layer[provider] == "domain"), (consumer, provider)
    for name in docs:
        if layer[name] == "edge":
            assert any(layer[p] == "gateway" for p in graph.successors(name))


def test_annotations(small_history):
    folder, _ = small_history
    docs = load_catalog(folder)
    covered = total = 0
    for name, doc in docs.items():
        ann = doc["metadata"]["annotations"]
        assert ann["releasepilot.io/tier"] in {"1", "2", "3"}
        regions = ann["releasepilot.io/regions"].split(",")
        assert 1 <= len(regions) <= 3 and set(regions) <= set(REGIONS)
        tenants = [t for t in ann["releasepilot.io/tenants"].split(",") if t]
        assert set(tenants) <= set(TENANTS)
        providers = {ref(p) for p in doc["spec"]["dependsOn"]}
        tested = {t for t in ann["releasepilot.io/contract-tests"].split(",") if t}
        assert tested <= providers
        api_providers = {p for p in providers
                         if docs[p]["metadata"]["annotations"]["releasepilot.io/layer"] in {"gateway", "domain"}}
        covered += len(tested)
        total += len(api_providers)
        assert doc["spec"]["owner"].startswith("group:default/team-")
        assert doc["spec"]["type"] in {"service", "library", "database"}
    assert 0.5 < covered / total < 1.0  # most, not all, consumer->provider pairs have contract tests
