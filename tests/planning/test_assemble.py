"""A generated train planned end to end on a simulated history: ingest -> dbt -> plan -> stored plan."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from releasepilot import audit
from releasepilot.cli import app
from releasepilot.planning.assemble import build_plan, store_plan, to_execution_plan
from releasepilot.planning.from_git import generate_train, write_train
from releasepilot.planning.risk_source import unavailable
from releasepilot.policy import Policy
from releasepilot.train import load_train

runner = CliRunner()


@pytest.fixture()
def warehouse(built_history, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(built_history[1], path)
    return path


@pytest.fixture()
def empty_registry(tmp_path, monkeypatch):
    """Settings pointing at an MLflow store with no model: risk must be unavailable."""
    from releasepilot.config import get_settings

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _train_file(warehouse, tmp_path, **kwargs):
    return write_train(generate_train(warehouse, teams=8, seed=kwargs.pop("seed", 7), **kwargs), tmp_path / "train.yaml")


def _plans(path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select count(*) from information_schema.tables where table_schema = 'app' "
                           "and table_name = 'plans'").fetchall()[0][0] and \
            con.execute("select count(*) from app.plans").fetchall()[0][0]
    finally:
        con.close()


def test_generated_train_is_repeatable_and_round_trips(built_history, tmp_path):
    first = generate_train(built_history[1], teams=8, seed=3)
    assert first == generate_train(built_history[1], teams=8, seed=3)
    assert 1 <= len({r.team for r in first.releases}) <= 8 and all(r.commits for r in first.releases)
    assert load_train(write_train(first, tmp_path / "t.yaml")) == first


def test_plan_command_without_champion_says_risk_is_unavailable_and_stores_the_plan(warehouse, tmp_path,
                                                                                     empty_registry):
    train = _train_file(warehouse, tmp_path)
    result = runner.invoke(app, ["plan", "--train", str(train), "--warehouse", str(warehouse), "--json",
                                 "--markdown", str(tmp_path / "plan.md")])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["risk"]["available"] is False and "no champion" in plan["risk"]["note"]
    assert plan["risk"]["train_failure_probability"] is None
    releases = plan["releases"]
    assert len(releases) == len(load_train(train).releases)
    for r in releases:
        assert r["risk"] is None and r["decision"]["failure_probability"] is None
        assert "no_risk_score" in [x["code"] for x in r["decision"]["reasons"]]
        assert r["decision"]["decision"] != "GO"
        assert r["rollout"]["steps"][-1]["weight_percent"] == 100
        assert r["decision"]["checks"][0]["name"] == "ci_green"
    assert plan["decision"]["decision"] != "GO"
    stored = audit.get_plan(duckdb.connect(str(warehouse), read_only=True), plan["plan_id"])
    assert stored["decision"] == plan["decision"]["decision"]
    assert sorted(r["service"] for r in stored["releases"]) == sorted(r["service"] for r in releases)
    markdown = (tmp_path / "plan.md").read_text()
    assert "risk unavailable" in markdown and "## Deploy order" in markdown and "Release notes" in markdown


def _scorer(rows):
    """A deterministic stand-in model: more churn and busier hours are riskier."""
    return [min(0.02 + 0.00005 * float(r.get("churn") or 0) + 0.2 * float(r.get("traffic_percentile") or 0), 0.99)
            for r in rows]


def test_plan_parts_agree_with_each_other(warehouse, tmp_path):
    train = load_train(_train_file(warehouse, tmp_path, seed=5))
    plan = build_plan(train, warehouse, Policy(), scorer=_scorer)
    assert plan.risk_available
    graph_order = {s: w.index for w in plan.order.waves for s in w.services}
    for before, after, _ in plan.order.constraints:
        assert graph_order[before] < graph_order[after]
    for r in plan.releases:
        assert r.decision.failure_probability == pytest.approx(r.risk.probability)
        allowed = r.windows.allowed
        if allowed:
            assert min(w.expected_impact for w in allowed) == allowed[0].expected_impact
        if r.window and train.window_for(r.service) is None:
            assert any(w.start == r.window.start for w in allowed)
        assert r.blast.size == len(r.blast.transitive)
    risky = max(plan.releases, key=lambda r: r.planning_risk)
    safe = min(plan.releases, key=lambda r: r.planning_risk)
    assert risky.rollout.steps[0].weight_percent <= safe.rollout.steps[0].weight_percent
    execution = to_execution_plan(plan)
    assert [len(w) for w in execution.waves] == [len(w.services) for w in plan.order.waves]
    from releasepilot.rollout.execution_plan import ExecutionPlan

    assert ExecutionPlan.from_dict(execution.to_dict()) == execution
    plan_id = store_plan(plan, warehouse)
    assert audit.get_plan(duckdb.connect(str(warehouse), read_only=True), plan_id)["train_name"] == train.name
    from releasepilot.rollout.execution_plan import load_execution_plan

    stored = load_execution_plan(warehouse, plan_id)          # a stored plan is ready for run_release
    assert [r.service for r in stored.releases] == [r.service for r in execution.releases]
    from releasepilot.api.analytics import coordination_metrics

    planning = {p["plan_id"]: p for p in coordination_metrics(warehouse)["planning"]}
    assert 0 < planning[plan_id]["planning_seconds"] == plan.planning_seconds   # planning time per train


def test_unavailable_risk_is_never_scored(warehouse, tmp_path):
    train = load_train(_train_file(warehouse, tmp_path))
    plan = build_plan(train, warehouse, scorer=unavailable("test"))
    assert not plan.risk_available and plan.decision.failure_probability is None
    assert all(r.risk is None for r in plan.releases)
    assert all(r.planning_risk == Policy().rollout.band_floors["high"] for r in plan.releases)


def _fail(args, warehouse):
    before = _plans(warehouse)
    result = runner.invoke(app, ["plan", *args, "--warehouse", str(warehouse)])
    assert result.exit_code == 2, result.output
    assert _plans(warehouse) == before
    return result.output


def test_unknown_service_exits_2_naming_the_entry_and_stores_nothing(warehouse, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nreleases:\n  - {service: nope-api, version: '1.0', commits: [abc1234]}\n")
    out = _fail(["--train", str(path)], warehouse)
    assert "releases[0]" in out and "nope-api" in out


def test_malformed_entry_exits_2_naming_the_field(warehouse, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nreleases:\n  - {service: search-api, version: 1.10}\n")
    out = _fail(["--train", str(path)], warehouse)
    assert "releases[0]" in out and "version" in out


def test_dependency_cycle_exits_2_naming_the_cycle(warehouse, tmp_path):
    con = duckdb.connect(str(warehouse))
    consumer, provider = con.execute("select service, depends_on[1] from raw.services "
                                     "where len(depends_on) > 0 order by service limit 1").fetchall()[0]
    con.execute("update raw.services set depends_on = list_append(depends_on, ?) where service = ?",
                [consumer, provider])
    con.close()
    path = tmp_path / "cycle.yaml"
    path.write_text(f"name: c\nreleases:\n  - {{service: {consumer}, version: '2', commits: [abc1234]}}\n"
                    f"  - {{service: {provider}, version: '2', commits: [abc1235]}}\n")
    out = _fail(["--train", str(path)], warehouse)
    assert "cycle" in out and consumer in out and provider in out


def test_commit_range_outside_the_repository_exits_2(warehouse, tmp_path):
    path = tmp_path / "range.yaml"
    path.write_text("name: r\nreleases:\n  - {service: search-api, version: '2', commit_range: ..deadbeef}\n")
    out = _fail(["--train", str(path)], warehouse)
    assert "commit_range" in out and "deadbeef" in out


def test_every_release_with_an_allowed_window_gets_one_after_its_providers(warehouse, tmp_path):
    train = load_train(_train_file(warehouse, tmp_path))
    plan = build_plan(train, warehouse, scorer=unavailable("test"))
    by_service = {r.service: r for r in plan.releases}
    for r in plan.releases:
        if r.windows.allowed and train.window_for(r.service) is None:
            assert r.window is not None, f"{r.service} has allowed windows but none was chosen"
    for first, then, _why in plan.order.constraints:
        a, b = by_service[first].window, by_service[then].window
        if a and b and train.window_for(then) is None:
            assert b.start >= a.end, f"{then} starts before its provider {first} ends"
    teams_at = [(r.team, r.window.start) for r in plan.releases if r.window and train.window_for(r.service) is None]
    assert len(teams_at) == len(set(teams_at))          # one release per team per window
