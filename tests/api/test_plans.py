"""Plans, overrides and the CI gate on a small stored plan: reads, role checks, 404/422, audit, nothing partial."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.helpers import audit_actions, bearer, row_count, store_small_plan
from releasepilot.cli import app


def test_list_plans_newest_first_with_decision_and_window(client, tokens, warehouse):
    from datetime import UTC, datetime

    from releasepilot import audit
    from releasepilot.api.store import open_warehouse

    with open_warehouse(warehouse) as con:
        audit.save_plan(con, train_name="train-new", decision="NO-GO", created_by="tests",
                        releases=[{"service": "gamma-api", "decision": "NO-GO"}], plan_id="plan-new",
                        at=datetime(2025, 4, 1, tzinfo=UTC))
    plans = client.get("/api/v1/plans", headers=bearer(tokens["viewer"])).json()
    assert [p["plan_id"] for p in plans] == ["plan-new", "plan-small"]
    small = plans[1]
    assert small["train"] == "train-small" and small["decision"] == "GO WITH CONDITIONS"
    assert small["p_fail"] == pytest.approx(0.216) and small["scored_releases"] == 2
    assert small["window"] == {"start": "2025-03-04T10:00:00+00:00", "end": "2025-03-04T12:00:00+00:00"}
    assert plans[0]["window"] is None and plans[0]["scored_releases"] == 0


def test_reads_need_a_token(client):
    for url in ("/api/v1/plans", "/api/v1/plans/plan-small", "/api/v1/plans/plan-small/releases/alpha-api",
                "/api/v1/releases/gate?release=plan-small/alpha-api"):
        assert client.get(url).status_code == 401, url


def test_get_plan_and_unknown_ids(client, tokens):
    viewer = bearer(tokens["viewer"])
    plan = client.get("/api/v1/plans/plan-small", headers=viewer).json()
    assert plan["train"] == "train-small" and plan["overrides"] == []
    assert plan["effective"]["releases"]["beta-api"]["decision"] == "GO WITH CONDITIONS"
    assert client.get("/api/v1/plans/nope", headers=viewer).status_code == 404
    assert client.get("/api/v1/plans/plan-small/releases/nope", headers=viewer).status_code == 404
    assert client.get("/api/v1/plans/nope/releases/alpha-api", headers=viewer).status_code == 404


def test_viewer_override_is_refused_and_writes_nothing(client, tokens, warehouse):
    before = row_count(warehouse, "app.overrides"), row_count(warehouse, "app.audit_log")
    answer = client.post("/api/v1/plans/plan-small/overrides", headers=bearer(tokens["viewer"]),
                         json={"decision": "NO-GO", "reason": "I say so", "service": "alpha-api"})
    assert answer.status_code == 403 and "release-manager" in answer.json()["detail"]
    assert (row_count(warehouse, "app.overrides"), row_count(warehouse, "app.audit_log")) == before


@pytest.mark.parametrize("body,field", [
    ({"decision": "NO-GO", "service": "alpha-api"}, "reason"),
    ({"decision": "NO-GO", "reason": "   ", "service": "alpha-api"}, "reason"),
    ({"decision": "MAYBE", "reason": "why", "service": "alpha-api"}, "decision"),
    ({"reason": "why"}, "decision"),
])
def test_malformed_overrides_are_422_naming_the_field(client, tokens, warehouse, body, field):
    before = row_count(warehouse, "app.overrides"), row_count(warehouse, "app.audit_log")
    answer = client.post("/api/v1/plans/plan-small/overrides", headers=bearer(tokens["release-manager"]), json=body)
    assert answer.status_code == 422
    assert answer.json()["field"] == field and field in answer.json()["message"]
    assert (row_count(warehouse, "app.overrides"), row_count(warehouse, "app.audit_log")) == before


def test_override_of_unknown_plan_or_release_is_404(client, tokens, warehouse):
    manager = bearer(tokens["release-manager"])
    body = {"decision": "GO", "reason": "checked"}
    assert client.post("/api/v1/plans/nope/overrides", headers=manager, json=body).status_code == 404
    answer = client.post("/api/v1/plans/plan-small/overrides", headers=manager, json={**body, "service": "zeta"})
    assert answer.status_code == 404
    assert row_count(warehouse, "app.overrides") == 0


def test_release_manager_override_applies_is_audited_and_moves_the_train(client, tokens, warehouse):
    manager = bearer(tokens["release-manager"])
    answer = client.post("/api/v1/plans/plan-small/overrides", headers=manager,
                         json={"decision": "GO", "reason": "contract tests ran by hand", "service": "beta-api"})
    assert answer.status_code == 201
    assert answer.json()["effective"]["decision"] == "GO" and answer.json()["effective"]["recommended"] == \
        "GO WITH CONDITIONS"
    plan = client.get("/api/v1/plans/plan-small", headers=bearer(tokens["viewer"])).json()
    assert plan["effective"]["train"]["decision"] == "GO"        # the train's own risk reason is GO
    assert plan["overrides"][0]["by"] == "release-manager-person"
    entry = [e for e in audit_actions(warehouse) if e["action"] == "override"][-1]
    assert entry["who"] == "release-manager-person" and entry["target"] == "plan-small/beta-api"
    assert entry["reason"] == "contract tests ran by hand" and entry["at"] is not None
    release = client.get("/api/v1/plans/plan-small/releases/beta-api", headers=bearer(tokens["viewer"])).json()
    assert release["decision"]["override"]["reason"] == "contract tests ran by hand"
    assert [a["action"] for a in release["audit"]] == ["plan.create", "override"]


def test_whole_train_override(client, tokens):
    answer = client.post("/api/v1/plans/plan-small/overrides", headers=bearer(tokens["admin"]),
                         json={"decision": "NO-GO", "reason": "incident in progress", "service": None})
    assert answer.status_code == 201 and answer.json()["effective"]["decision"] == "NO-GO"
    listed = client.get("/api/v1/plans", headers=bearer(tokens["viewer"])).json()
    assert listed[0]["decision"] == "NO-GO" and listed[0]["recommended"] == "GO WITH CONDITIONS"


def _gate(client, token, release):
    return client.get("/api/v1/releases/gate", params={"release": release}, headers=bearer(token))


def test_gate_endpoint_maps_decisions_to_exit_codes(client, tokens):
    viewer, manager = tokens["viewer"], tokens["release-manager"]
    assert _gate(client, viewer, "plan-small/alpha-api").json()["exit_code"] == 0
    conditional = _gate(client, viewer, "plan-small/beta-api").json()
    assert conditional["decision"] == "GO WITH CONDITIONS" and conditional["exit_code"] == 3
    assert conditional["conditions"] == ["run the contract tests"]
    assert _gate(client, viewer, "plan-small").json()["exit_code"] == 3
    client.post("/api/v1/plans/plan-small/overrides", headers=bearer(manager),
                json={"decision": "NO-GO", "reason": "pager storm", "service": "alpha-api"})
    blocked = _gate(client, viewer, "plan-small/alpha-api").json()
    assert blocked["decision"] == "NO-GO" and blocked["exit_code"] == 1 and blocked["override"]["by"] == \
        "release-manager-person"
    assert _gate(client, viewer, "plan-small/nope").status_code == 404
    assert _gate(client, viewer, "nope/alpha-api").status_code == 404
    bad = _gate(client, viewer, "a/b/c")
    assert bad.status_code == 422 and bad.json()["field"] == "release"


def test_train_no_go_override_stops_each_release_at_the_gate(client, tokens):
    client.post("/api/v1/plans/plan-small/overrides", headers=bearer(tokens["release-manager"]),
                json={"decision": "NO-GO", "reason": "freeze called", "service": None})
    verdict = _gate(client, tokens["viewer"], "plan-small/alpha-api").json()
    assert verdict["decision"] == "NO-GO" and verdict["recommended"] == "GO" and verdict["exit_code"] == 1


def test_gate_command_reads_the_warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    store_small_plan(path)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, ["gate", *args, "--warehouse", str(path)])

    assert run("--release", "plan-small/alpha-api").exit_code == 0
    conditional = run("--release", "plan-small/beta-api", "--json")
    assert conditional.exit_code == 3 and json.loads(conditional.stdout)["decision"] == "GO WITH CONDITIONS"
    runner.invoke(app, ["override", "plan-small", "--decision", "NO-GO", "--by", "dana", "--reason", "flaky CI",
                        "--release", "alpha-api", "--warehouse", str(path)])
    assert run("--release", "plan-small/alpha-api").exit_code == 1
    unknown = run("--release", "plan-small/nope")
    assert unknown.exit_code == 2 and "no planned release" in unknown.output
    assert run("--release", "a/b/c").exit_code == 2
    assert runner.invoke(app, ["gate", "--release", "p/s", "--warehouse", str(tmp_path / "none.duckdb")]).exit_code == 2
