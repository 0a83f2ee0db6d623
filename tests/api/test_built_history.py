"""Endpoints over a real simulated history: submit a train, read a release's detail, DORA metrics, models."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.helpers import bearer, row_count
from releasepilot.api import auth
from releasepilot.api.app import create_app
from releasepilot.api.store import open_warehouse


@pytest.fixture()
def built(built_warehouse, settings):
    path, plan = built_warehouse
    with open_warehouse(path) as con:
        tokens = {role: auth.create_token(con, f"{role}-b", role, created_by="tests")["token"] for role in auth.ROLES}
    with TestClient(create_app(settings, warehouse=path)) as client:
        yield client, tokens, path, plan


def test_release_detail_has_graph_heat_map_rollout_and_readiness(built):
    client, tokens, _, plan = built
    release = max(plan.releases, key=lambda r: r.blast.size)
    detail = client.get(f"/api/v1/plans/{plan.plan_id}/releases/{release.service}",
                        headers=bearer(tokens["viewer"])).json()
    ids = {n["id"] for n in detail["graph"]["nodes"]}
    assert release.service in ids and set(release.blast.transitive) <= ids
    assert all(e["source"] in ids and e["target"] in ids for e in detail["graph"]["edges"])
    assert len([n for n in detail["graph"]["nodes"] if n["role"] == "dependent"]) == release.blast.size
    assert detail["heat_map"] and all(0 <= c["hour"] < 24 for c in detail["heat_map"])
    assert [s["index"] for s in detail["rollout"]["steps"]] == [s.index for s in release.rollout.steps]
    assert {c["name"] for c in detail["readiness"]} == {c.name for c in release.decision.checks}
    assert detail["decision"]["decision"] == release.decision.decision.value
    assert detail["risk"] is None and detail["notes"]


def test_submit_a_train_stores_the_plan_and_audits_it(built):
    from releasepilot.planning.from_git import generate_train, train_document

    client, tokens, path, _ = built
    document = train_document(generate_train(path, teams=2, seed=11))
    before = row_count(path, "app.plans")
    answer = client.post("/api/v1/plans", json={"train": document}, headers=bearer(tokens["release-manager"]))
    assert answer.status_code == 201, answer.text
    plan = answer.json()
    assert plan["train"] == document["name"] and len(plan["releases"]) == len(document["releases"])
    assert plan["risk"]["available"] is False            # the test's MLflow store has no champion
    assert row_count(path, "app.plans") == before + 1
    listed = client.get("/api/v1/plans", headers=bearer(tokens["viewer"])).json()
    assert listed[0]["plan_id"] == plan["plan_id"]
    from releasepilot import audit

    with open_warehouse(path) as con:
        entry = audit.audit_entries(con, plan["plan_id"])[0]
    assert entry["action"] == "plan.create" and entry["who"] == "release-manager-b"


def test_bad_trains_are_422_naming_the_field_and_store_nothing(built):
    client, tokens, path, _ = built
    manager = bearer(tokens["release-manager"])
    before = row_count(path, "app.plans"), row_count(path, "app.audit_log")
    unknown = client.post("/api/v1/plans", headers=manager,
                          json={"train": {"name": "t", "releases": [{"service": "no-such-api", "version": "1.0.0",
                                                                     "commits": ["abc1234"]}]}})
    assert unknown.status_code == 422 and unknown.json()["field"] == "service"
    assert "no-such-api" in unknown.json()["message"]
    shapeless = client.post("/api/v1/plans", headers=manager, json={"train": {"name": "t", "releases": "x"}})
    assert shapeless.status_code == 422 and "releases" in shapeless.json()["message"]
    missing = client.post("/api/v1/plans", headers=manager, json={})
    assert missing.status_code == 422 and missing.json()["field"] == "train"
    assert client.post("/api/v1/plans", headers=bearer(tokens["viewer"]), json={"train": {}}).status_code == 403
    assert (row_count(path, "app.plans"), row_count(path, "app.audit_log")) == before


def test_dora_metrics_by_team_and_service(built):
    import duckdb

    client, tokens, path, _ = built
    viewer = bearer(tokens["viewer"])
    teams = client.get("/api/v1/metrics/dora", params={"weeks": 4}, headers=viewer).json()
    assert teams["group_by"] == "team" and teams["series"]
    weeks = sorted({row["week"] for row in teams["series"]})
    assert len(weeks) <= 4
    with open_warehouse(path) as con:
        expected = con.execute("select count(*) from raw.deployments where environment = 'production' and "
                               "date_trunc('week', started_at) >= ?", [duckdb.sql(f"select '{weeks[0]}'::timestamp")
                                                                       .fetchall()[0][0]]).fetchall()[0][0]
    assert sum(r["deployments"] for r in teams["series"]) == expected
    for row in teams["series"]:
        assert 0 <= row["change_failure_rate"] <= 1 and row["deploys_per_day"] == pytest.approx(row["deployments"] / 7)
        assert row["lead_time_hours"] is None or row["lead_time_hours"] >= 0
    assert any(r["lead_time_hours"] is not None for r in teams["series"])
    services = client.get("/api/v1/metrics/dora", params={"group_by": "service", "weeks": 4}, headers=viewer).json()
    assert sum(r["deployments"] for r in services["series"]) == expected
    bad = client.get("/api/v1/metrics/dora", params={"group_by": "planet"}, headers=viewer)
    assert bad.status_code == 422 and bad.json()["field"] == "group_by"


def test_models_say_when_mlflow_has_none(built):
    client, tokens, _, _ = built
    answer = client.get("/api/v1/models", headers=bearer(tokens["viewer"]))
    assert answer.status_code == 200
    assert answer.json()["models"] == [] and "no registered models" in answer.json()["note"]
    assert client.get("/api/v1/models").status_code == 401
