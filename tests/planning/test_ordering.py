"""Deploy waves: providers first, parallel up to a limit, risky releases alone, each wave with why."""

from __future__ import annotations

import networkx as nx
import pytest

from releasepilot.errors import InputError
from releasepilot.planning.ordering import OrderingPolicy, OrderRelease, plan_waves

# consumer -> provider: web -> api -> db ; web -> auth ; batch (independent)
EDGES = [("web", "api"), ("api", "db"), ("web", "auth")]


def _releases(**risks) -> list[OrderRelease]:
    return [OrderRelease(release_id=f"r-{s}", service=s, risk=risks.get(s, 0.05))
            for s in ("web", "api", "db", "auth", "batch")]


def _assert_respects(order, constraints):
    for before, after, _ in constraints:
        assert order.wave_of(before) < order.wave_of(after), (before, after)


def test_providers_ship_before_consumers_and_independents_run_in_parallel():
    order = plan_waves(_releases(), EDGES)
    _assert_respects(order, order.constraints)
    assert order.wave_of("r-db") < order.wave_of("r-api") < order.wave_of("r-web")
    assert order.wave_of("r-auth") < order.wave_of("r-web")
    first = order.waves[0]
    assert set(first.release_ids) == {"r-db", "r-auth", "r-batch"}
    assert "in parallel" in first.why and "no dependency" in first.why
    assert "after wave" in order.waves[-1].why
    assert sum(len(w.release_ids) for w in order.waves) == 5


def test_transitive_dependency_through_a_service_without_release():
    releases = [OrderRelease("r-web", "web"), OrderRelease("r-db", "db")]
    order = plan_waves(releases, nx.DiGraph(EDGES))
    assert order.wave_of("r-db") < order.wave_of("r-web")
    assert "through other services" in order.constraints[0][2]
    direct_only = plan_waves(releases, EDGES, OrderingPolicy(transitive=False))
    assert len(direct_only.waves) == 1


def test_consumers_first_when_policy_says_so():
    order = plan_waves(_releases(), EDGES, OrderingPolicy(providers_first=False))
    _assert_respects(order, order.constraints)
    assert order.wave_of("r-web") < order.wave_of("r-api") < order.wave_of("r-db")


def test_max_parallel_limits_wave_size():
    releases = [OrderRelease(f"r{i}", f"s{i}", 0.01) for i in range(7)]
    order = plan_waves(releases, [], OrderingPolicy(max_parallel=3))
    assert [len(w.release_ids) for w in order.waves] == [3, 3, 1]
    assert "max_parallel 3" in order.waves[0].why


def test_risky_release_gets_its_own_wave():
    order = plan_waves(_releases(db=0.6, batch=0.4), EDGES, OrderingPolicy(isolate_risk_above=0.3))
    _assert_respects(order, order.constraints)
    for rid in ("r-db", "r-batch"):
        wave = order.waves[order.wave_of(rid) - 1]
        assert wave.release_ids == (rid,) and wave.isolated
        assert "above isolate_risk_above" in wave.why
    assert all(not w.isolated for w in order.waves if set(w.release_ids) & {"r-web", "r-api", "r-auth"})


def test_two_releases_of_one_service_go_one_after_the_other():
    releases = [OrderRelease("r1", "api"), OrderRelease("r2", "api")]
    order = plan_waves(releases, EDGES)
    assert order.wave_of("r1") < order.wave_of("r2")


def test_dependency_cycle_is_a_clear_error():
    with pytest.raises(InputError, match="cycle"):
        plan_waves([OrderRelease("a", "x"), OrderRelease("b", "y")], [("x", "y"), ("y", "x")])


def test_bad_input_is_rejected():
    with pytest.raises(InputError, match="duplicate"):
        plan_waves([OrderRelease("a", "x"), OrderRelease("a", "y")], [])
    with pytest.raises(InputError, match="risk"):
        plan_waves([OrderRelease("a", "x", 1.5)], [])
    with pytest.raises(InputError, match="pair"):
        plan_waves([OrderRelease("a", "x")], [("x", "y", "z")])


def test_random_graphs_always_respect_every_constraint():
    import random

    rng = random.Random(3)
    for _ in range(20):
        n = 30
        graph = nx.DiGraph()
        graph.add_nodes_from(f"s{i}" for i in range(n))
        graph.add_edges_from((f"s{i}", f"s{j}") for i in range(n) for j in range(i + 1, n) if rng.random() < 0.08)
        releases = [OrderRelease(f"r{i}", f"s{i}", rng.random() * 0.5) for i in rng.sample(range(n), 15)]
        order = plan_waves(releases, graph, OrderingPolicy(max_parallel=4, isolate_risk_above=0.35))
        _assert_respects(order, order.constraints)
        assert sorted(r for w in order.waves for r in w.release_ids) == sorted(r.release_id for r in releases)
        for wave in order.waves:
            assert len(wave.release_ids) <= 4
            risky = [r for r in releases if r.release_id in wave.release_ids and r.risk > 0.35]
            assert not risky or len(wave.release_ids) == 1
