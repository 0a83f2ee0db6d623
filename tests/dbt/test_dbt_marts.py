"""The marts on the hand-made history equal the values worked out by hand (see fixture_history.py)."""

from __future__ import annotations

import math

import duckdb
import pytest

from conftest import read_table


def H(*parts: float) -> float:
    total = sum(parts)
    return -sum(p / total * math.log2(p / total) for p in parts if p)


@pytest.fixture(scope="module")
def changes(fixture_warehouse):
    return {row["sha"]: row for row in read_table(fixture_warehouse[0], "marts.change_features", "sha").to_dicts()}


@pytest.fixture(scope="module")
def releases(fixture_warehouse):
    frame = read_table(fixture_warehouse[0], "marts.release_features", "deployment_id")
    return {row["deployment_id"]: row for row in frame.to_dicts()}


def test_marts_live_in_schema_marts(fixture_warehouse):
    with duckdb.connect(str(fixture_warehouse[0]), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select table_schema from information_schema.tables").fetchall()}
    assert {"marts", "staging", "intermediate"} <= schemas
    assert not any(schema.startswith("main_") for schema in schemas)


def test_kamei_metrics_of_a_commit_with_history(changes):
    c3 = changes["c3"]
    assert (c3["nf"], c3["ns"], c3["nd"], c3["la"], c3["ld"]) == (2, 1, 2, 40, 10)
    assert c3["entropy"] == pytest.approx(H(20, 30))
    assert c3["lt"] == pytest.approx((102 + 0) / 2)
    assert (c3["ndev"], c3["nuc"], c3["exp"], c3["sexp"]) == (2, 2, 1, 0)
    assert c3["age"] == pytest.approx(1.0)
    assert c3["rexp"] == pytest.approx(1.0)
    assert c3["is_cross_team"] is True and c3["is_breaking"] is True and c3["commit_type"] == "feat"


def test_subsystem_experience_and_root_files(changes):
    c4 = changes["c4"]
    assert (c4["ns"], c4["nd"], c4["ndev"], c4["nuc"], c4["exp"], c4["sexp"]) == (2, 2, 3, 3, 1, 1)
    assert c4["entropy"] == pytest.approx(H(2, 4))
    assert c4["age"] == pytest.approx(2.0)
    assert c4["is_cross_team"] is False


def test_commit_types_and_fix_flag(changes):
    assert changes["c2"]["fix"] is True and changes["c2"]["touches_tests"] is True
    assert changes["d2"]["is_breaking"] is True and changes["d2"]["touches_api"] is True
    assert changes["c1"]["exp"] == 0 and changes["c1"]["ndev"] == 0


def test_commits_map_to_the_first_production_deployment_that_shipped_them(changes):
    assert {sha: row["deployment_id"] for sha, row in changes.items()} == {
        "c1": "A1", "c2": "A1", "c3": "A2", "c4": "A3", "d1": "B1", "d2": "B2"}
    assert changes["c3"]["is_defective"] is True and changes["c4"]["is_defective"] is True
    assert changes["c1"]["is_defective"] is False
    assert str(changes["c4"]["label_known_at"]) == "2025-01-06 08:00:00"


def test_release_change_aggregates(releases):
    a3 = releases["A3"]
    assert (a3["n_commits"], a3["n_authors"], a3["la"], a3["ld"], a3["nf"], a3["ns"], a3["nd"]) == (
        2, 2, 43, 13, 3, 2, 3)
    assert a3["entropy"] == pytest.approx(H(24, 30, 2))
    assert a3["churn"] == 56 and a3["max_commit_churn"] == 50
    assert a3["churn_ratio_service_median"] == pytest.approx(56 / 94)
    assert a3["lt"] == pytest.approx(102 / 3)
    assert a3["cross_team_modules"] == 2 and releases["A1"]["cross_team_modules"] == 0
    assert releases["A4"]["n_commits"] == 0 and releases["W0"]["n_commits"] == 0
    assert releases["A1"]["tests_touched"] == 1 and releases["A1"]["has_test_changes"] is True


def test_graph_and_contract_features(releases):
    assert (releases["A1"]["fan_in"], releases["A1"]["fan_out"], releases["A1"]["transitive_dependents"]) == (1, 2, 1)
    assert releases["B1"]["transitive_dependents"] == 2
    assert releases["A1"]["contract_change"] is True and releases["A1"]["contract_change_untested"] is False
    assert releases["B2"]["contract_change_untested"] is True


def test_failure_rates_count_only_finished_releases_and_known_failures(releases):
    assert releases["A1"]["svc_fail_rate_30d"] is None
    assert releases["A2"]["svc_fail_rate_30d"] == 0.0
    assert releases["A3"]["svc_fail_rate_30d"] == pytest.approx(1 / 2)
    # W0 starts after A3 finished but before its incident was created: A3 still counts as a success
    assert releases["W0"]["team_fail_rate_30d"] == pytest.approx(1 / 3)
    assert releases["A4"]["svc_fail_rate_90d"] == pytest.approx(2 / 3)
    # W1 starts while A4 is still running: A4 is not in the denominator
    assert releases["W1"]["team_fail_rate_30d"] == pytest.approx(2 / 4)
    assert releases["A3"]["svc_releases_90d"] == 2 and releases["A3"]["days_since_last_release"] == 2.0


def test_timing_context(releases):
    assert releases["A3"]["traffic_percentile"] == pytest.approx(1 / 3)
    assert [releases[d]["oncall_present"] for d in ("A1", "A2", "A3", "A4", "B1", "B2")] == [
        True, True, False, True, False, True]
    assert releases["A4"]["in_freeze"] is True and releases["W1"]["in_freeze"] is False
    assert releases["A2"]["concurrent_dependent"] == 1 and releases["W1"]["concurrent_dependent"] == 1
    assert releases["A4"]["concurrent_dependent"] == 0
    assert (releases["A3"]["deploy_hour"], releases["A3"]["deploy_weekday"]) == (12, 6)


def test_labels(releases):
    assert {d: r["is_failure"] for d, r in releases.items()} == {
        "A1": False, "A2": True, "A3": True, "A4": False, "B1": False, "B2": False, "W0": False, "W1": False}
    assert "S1" not in releases
