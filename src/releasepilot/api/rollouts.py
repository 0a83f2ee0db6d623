"""/api/v1/rollouts and /api/v1/outcomes: rollouts and their events, answering a paused rollout, outcomes.

An undecided health gate pauses the `run_release` Prefect flow run, which records its flow run id in the
event log (`approval_waiting`); POST .../approvals resumes that run with an ApprovalInput
({approve, approver, reason}) and audits who answered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field, field_validator

from releasepilot.api import queries
from releasepilot.api.auth import Principal, require
from releasepilot.api.deps import not_found, stripped, warehouse
from releasepilot.api.store import open_warehouse, warehouse_lock

router = APIRouter(tags=["rollouts"])
OUTCOME_STATUSES = {"succeeded": "succeeded", "rolled_back": "rolled_back", "rollback_failed": "rollback_failed",
                    "failed": "rollback_failed"}     # raw.deployments calls a failed rollback "failed"
RESUME_WAIT_SECONDS = 10.0
RESUME_RETRY_SECONDS = 0.5


class ApprovalRequest(BaseModel):
    release_id: str = Field(min_length=1)
    approve: bool
    reason: str = Field(min_length=1, description="Why it is approved or rolled back (required).")

    @field_validator("release_id", "reason")
    @classmethod
    def _text(cls, value: str, info) -> str:
        return stripped(value, info.field_name)


class OutcomeRequest(BaseModel):
    deployment_id: str = Field(pattern=r"^[^/\s]+/[^/\s]+$", description="PLAN_ID/RELEASE_ID of a stored plan.")
    service: str = Field(min_length=1)
    status: Literal["succeeded", "rolled_back", "rollback_failed", "failed"]
    reason: str = Field(min_length=1)
    finished_at: datetime
    started_at: datetime | None = None

    @field_validator("reason", "service")
    @classmethod
    def _text(cls, value: str, info) -> str:
        return stripped(value, info.field_name)

    @field_validator("finished_at", "started_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.get("/rollouts")
def rollouts(_: Principal = Depends(require("viewer")), path: Path = Depends(warehouse)) -> list[dict[str, Any]]:
    """Every rollout (one per plan): status, first/last event, runs, per-release status; newest first."""
    return queries.list_rollouts(path)


@router.get("/rollouts/{plan_id}/events")
def events(plan_id: str, after: int | None = Query(None, ge=0, description="Only events with a larger seq."),
           _: Principal = Depends(require("viewer")), path: Path = Depends(warehouse)) -> dict[str, Any]:
    """Events (after `after`), approvals waiting for a person and live health metrics per release."""
    found = queries.rollout_events(path, plan_id, after)
    if not found["events"] and after is None and queries.plan_detail(path, plan_id) is None:
        raise not_found(f"rollout {plan_id!r}")
    return found


def resume_paused_run(flow_run_id: str, approve: bool, approver: str, reason: str,
                      wait: float = RESUME_WAIT_SECONDS) -> None:
    """Resume a paused `run_release` flow run with its ApprovalInput. The run records its id just before
    it pauses, so a refusal is retried for up to `wait` seconds before it is reported."""
    import time

    from prefect.flow_runs import resume_flow_run

    deadline = time.monotonic() + wait
    while True:
        try:
            resume_flow_run(flow_run_id, run_input={"approve": approve, "approver": approver, "reason": reason})
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(RESUME_RETRY_SECONDS)


@router.post("/rollouts/{plan_id}/approvals", status_code=status.HTTP_201_CREATED)
def approve(plan_id: str, body: ApprovalRequest, who: Principal = Depends(require("release-manager")),
            path: Path = Depends(warehouse)) -> dict[str, Any]:
    """Answer a paused rollout: approve (continue) or not (roll back)."""
    from releasepilot.audit import record_audit

    found = queries.rollout_events(path, plan_id)
    if not found["events"]:
        raise not_found(f"rollout {plan_id!r}")
    waiting = [p for p in found["pending_approvals"] if p["release_id"] == body.release_id]
    if not waiting:
        raise HTTPException(409, f"release {body.release_id!r} of rollout {plan_id!r} is not waiting for approval")
    pending = waiting[-1]
    if not pending.get("flow_run_id"):
        raise HTTPException(409, "the paused rollout did not record a Prefect flow run to resume "
                                 "(it was not started by the run_release flow)")
    try:
        resume_paused_run(pending["flow_run_id"], body.approve, who.name, body.reason)
    except Exception as exc:  # noqa: BLE001 - Prefect refuses (not paused any more, bad input): nothing written
        raise HTTPException(409, f"could not resume flow run {pending['flow_run_id']}: {exc}") from None
    details = {"flow_run_id": pending["flow_run_id"], "step_index": pending["step_index"], "approve": body.approve,
               "role": who.role}
    with open_warehouse(path) as con:
        audit_id = record_audit(con, who.name, "rollout.approve" if body.approve else "rollout.reject",
                                f"{plan_id}/{body.release_id}", body.reason, details)
    return {"plan_id": plan_id, "release_id": body.release_id, "approve": body.approve, "by": who.name,
            "reason": body.reason, "flow_run_id": pending["flow_run_id"], "audit_id": audit_id}


@router.post("/outcomes", status_code=status.HTTP_201_CREATED)
def outcome(body: OutcomeRequest, who: Principal = Depends(require("release-manager")),
            path: Path = Depends(warehouse)) -> dict[str, Any]:
    """Record how a planned release ended (into app.release_outcomes and raw.deployments), audited."""
    from releasepilot.audit import record_audit
    from releasepilot.errors import InputError
    from releasepilot.rollout.outcomes import ReleaseOutcome, read_outcomes, record_outcomes

    plan_id, release_id = body.deployment_id.split("/")
    plan = queries.plan_detail(path, plan_id)
    release = next((r for r in (plan or {}).get("releases", []) if r.get("service") == release_id), None)
    if release is None:
        raise not_found(f"release {body.deployment_id!r}")
    if body.service != release["service"]:
        raise InputError(f"deployment {body.deployment_id} is a release of {release['service']!r}, not "
                         f"{body.service!r}", field="service")
    started = body.started_at or body.finished_at
    if started > body.finished_at:
        raise InputError("started_at is after finished_at", field="started_at")
    if any(o["deployment_id"] == body.deployment_id for o in read_outcomes(path, plan_id)):
        raise HTTPException(409, f"an outcome of {body.deployment_id} is already recorded")
    shas = [c.get("sha") for c in release.get("commits") or [] if c.get("sha")]
    record = ReleaseOutcome(plan_id, release_id, release["service"], release.get("version") or "",
                            release.get("previous_version") or "", OUTCOME_STATUSES[body.status], body.reason,
                            started, body.finished_at, None, None, who.name, None, shas[-1] if shas else None, None)
    with warehouse_lock(path):
        added = record_outcomes(path, [record])
    with open_warehouse(path) as con:
        audit_id = record_audit(con, who.name, "outcome.record", body.deployment_id, body.reason,
                                {"status": record.status, "service": record.service, "raw_rows": added})
    return {**record.as_dict(), "deployment_id": body.deployment_id, "audit_id": audit_id}
