"""Rollouts, their events (live with ?after=), approvals, outcomes, and the coordination/calibration metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.helpers import audit_actions, bearer, row_count
from releasepilot.rollout import events as ev

T0 = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


def _log_gate_pause(warehouse, flow_run_id: str | None = None) -> ev.EventLog:
    """A rollout of plan-small whose beta-api gate was inconclusive and is waiting for a person."""
    log = ev.EventLog(warehouse, "plan-small", "run-1")
    log.append(ev.PLAN_STARTED, at=T0, status="started")
    log.append(ev.RELEASE_STARTED, at=T0, release_id="beta-api", service="beta-api")
    log.append(ev.GATE, at=T0 + timedelta(minutes=5), release_id="beta-api", service="beta-api", step_index=1,
               status="inconclusive", detail={"analyses": [{"window": ["a", "b"], "judge": {"metrics": [
                   {"name": "error_rate", "canary_median": 0.02, "baseline_median": 0.01,
                    "classification": "marginal"}]}}], "reasons": ["no data"]})
    log.append(ev.APPROVAL_REQUESTED, at=T0 + timedelta(minutes=5), release_id="beta-api", service="beta-api",
               step_index=1, status="inconclusive", detail={"reasons": ["no data"]})
    if flow_run_id:
        assert ev.record_approval_waiting(warehouse, "plan-small", "beta-api", 1, flow_run_id=flow_run_id, key="k")
    return log


def test_rollouts_and_events_with_after(client, tokens, warehouse):
    viewer = bearer(tokens["viewer"])
    assert client.get("/api/v1/rollouts", headers=viewer).json() == []
    _log_gate_pause(warehouse)
    rollouts = client.get("/api/v1/rollouts", headers=viewer).json()
    assert [r["plan_id"] for r in rollouts] == ["plan-small"] and rollouts[0]["status"] == "running"
    found = client.get("/api/v1/rollouts/plan-small/events", headers=viewer).json()
    assert [e["kind"] for e in found["events"]] == ["plan_started", "release_started", "gate", "approval_requested"]
    assert found["pending_approvals"][0]["release_id"] == "beta-api"
    assert found["pending_approvals"][0]["flow_run_id"] is None
    assert found["health"]["beta-api"][0] == {"seq": 3, "step_index": 1, "at": "b", "metric": "error_rate",
                                              "canary": 0.02, "baseline": 0.01, "classification": "marginal"}
    later = client.get("/api/v1/rollouts/plan-small/events", params={"after": found["last_seq"] - 1},
                       headers=viewer).json()
    assert [e["kind"] for e in later["events"]] == ["approval_requested"] and later["pending_approvals"]
    assert client.get("/api/v1/rollouts/plan-small/events", params={"after": -1}, headers=viewer).status_code == 422
    assert client.get("/api/v1/rollouts/nope/events", headers=viewer).status_code == 404
    assert client.get("/api/v1/rollouts").status_code == 401


def test_an_answered_request_is_no_longer_pending(client, tokens, warehouse):
    log = _log_gate_pause(warehouse, flow_run_id="fr-1")
    pending = client.get("/api/v1/rollouts/plan-small/events", headers=bearer(tokens["viewer"])).json()
    assert pending["pending_approvals"][0]["flow_run_id"] == "fr-1"
    log.append(ev.APPROVAL_ANSWERED, at=T0 + timedelta(minutes=6), release_id="beta-api", service="beta-api",
               step_index=1, status="approved", detail={"by": "carol", "reason": "ok"})
    assert client.get("/api/v1/rollouts/plan-small/events",
                      headers=bearer(tokens["viewer"])).json()["pending_approvals"] == []


def test_approvals_refused_when_nothing_waits_or_role_too_low(client, tokens, warehouse):
    body = {"release_id": "beta-api", "approve": True, "reason": "looked at the dashboards"}
    manager = bearer(tokens["release-manager"])
    assert client.post("/api/v1/rollouts/plan-small/approvals", json=body, headers=manager).status_code == 404
    _log_gate_pause(warehouse)        # a pause not made by the Prefect flow: no run to resume
    before = row_count(warehouse, "app.audit_log")
    assert client.post("/api/v1/rollouts/plan-small/approvals", json=body,
                       headers=bearer(tokens["viewer"])).status_code == 403
    no_run = client.post("/api/v1/rollouts/plan-small/approvals", json=body, headers=manager)
    assert no_run.status_code == 409 and "flow run" in no_run.json()["detail"]
    other = client.post("/api/v1/rollouts/plan-small/approvals", json={**body, "release_id": "alpha-api"},
                        headers=manager)
    assert other.status_code == 409
    bad = client.post("/api/v1/rollouts/plan-small/approvals", json={**body, "approve": "perhaps"}, headers=manager)
    assert bad.status_code == 422 and bad.json()["field"] == "approve"
    assert row_count(warehouse, "app.audit_log") == before


def _outcome(**changes):
    return {"deployment_id": "plan-small/beta-api", "service": "beta-api", "status": "rolled_back",
            "reason": "error rate doubled", "started_at": "2025-03-04T10:00:00Z", "finished_at": "2025-03-04T10:40:00Z",
            **changes}


@pytest.mark.parametrize("changes,field,code", [
    ({"status": "exploded"}, "status", 422),
    ({"reason": ""}, "reason", 422),
    ({"finished_at": "yesterday"}, "finished_at", 422),
    ({"deployment_id": "no-slash"}, "deployment_id", 422),
    ({"service": "alpha-api"}, "service", 422),
    ({"started_at": "2025-03-05T00:00:00Z"}, "started_at", 422),
    ({"deployment_id": "plan-small/nope"}, None, 404),
    ({"deployment_id": "nope/beta-api"}, None, 404),
])
def test_bad_outcomes_write_nothing(client, tokens, warehouse, changes, field, code):
    answer = client.post("/api/v1/outcomes", json=_outcome(**changes), headers=bearer(tokens["release-manager"]))
    assert answer.status_code == code
    if field:
        assert answer.json()["field"] == field
    assert row_count(warehouse, "app.release_outcomes") == 0 and row_count(warehouse, "raw.deployments") == 0


def test_outcome_is_recorded_once_audited_and_feeds_the_metrics(client, tokens, warehouse):
    manager, viewer = bearer(tokens["release-manager"]), bearer(tokens["viewer"])
    assert client.post("/api/v1/outcomes", json=_outcome(), headers=viewer).status_code == 403
    answer = client.post("/api/v1/outcomes", json=_outcome(), headers=manager)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "rolled_back" and answer.json()["decided_by"] == "release-manager-person"
    assert row_count(warehouse, "raw.deployments") == 1
    assert client.post("/api/v1/outcomes", json=_outcome(), headers=manager).status_code == 409
    ok = client.post("/api/v1/outcomes", headers=manager,
                     json=_outcome(deployment_id="plan-small/alpha-api", service="alpha-api", status="succeeded",
                                   reason="clean"))
    assert ok.status_code == 201
    entry = [e for e in audit_actions(warehouse) if e["action"] == "outcome.record"]
    assert [(e["who"], e["target"]) for e in entry] == [("release-manager-person", "plan-small/beta-api"),
                                                       ("release-manager-person", "plan-small/alpha-api")]
    calibration = client.get("/api/v1/metrics/calibration", params={"bins": 5}, headers=viewer).json()
    assert calibration["n"] == 2
    assert [(b["n"], b["observed_rate"]) for b in calibration["bins"] if b["n"]] == [(1, 0.0), (1, 1.0)]
    assert calibration["brier"] == pytest.approx(((0.02 - 0) ** 2 + (0.2 - 1) ** 2) / 2)
    assert calibration["over_time"][0]["n"] == 2
    assert client.get("/api/v1/metrics/calibration", params={"bins": 1}, headers=viewer).status_code == 422
    coordination = client.get("/api/v1/metrics/coordination", headers=viewer).json()
    assert coordination["planned_releases"] == 2 and coordination["share_scored"] == 1.0
    assert coordination["executed_releases"] == 2 and coordination["automatic_releases"] == 0   # a person decided
    assert coordination["planning"][0]["plan_id"] == "plan-small"


def test_coordination_counts_approvals_and_overrides(client, tokens, warehouse):
    log = _log_gate_pause(warehouse)
    log.append(ev.APPROVAL_ANSWERED, at=T0 + timedelta(minutes=6), release_id="beta-api", service="beta-api",
               step_index=1, status="approved", detail={"by": "prefect-ui:carol", "reason": "metrics outage"})
    client.post("/api/v1/plans/plan-small/overrides", headers=bearer(tokens["release-manager"]),
                json={"decision": "GO", "reason": "checked by hand", "service": "alpha-api"})
    found = client.get("/api/v1/metrics/coordination", headers=bearer(tokens["viewer"])).json()
    kinds = {(n["kind"], n["release_id"]) for n in found["needed_a_person"]}
    assert kinds == {("approval", "beta-api"), ("override", "alpha-api")}
    approval = next(n for n in found["needed_a_person"] if n["kind"] == "approval")
    assert approval["why"] == "inconclusive gate at step 1" and approval["by"] == "prefect-ui:carol"
    assert found["share_needed_a_person"] == 1.0
    assert found["planning"][0]["plan_to_rollout_hours"] == pytest.approx(25.0)
