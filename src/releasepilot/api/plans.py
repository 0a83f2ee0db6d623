"""/api/v1/plans: submit a train and get its stored plan, list plans, read a plan or a release, override."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field, field_validator

from releasepilot.api import queries
from releasepilot.api.auth import Principal, require
from releasepilot.api.deps import not_found, settings, stripped, warehouse
from releasepilot.api.store import open_warehouse, warehouse_lock
from releasepilot.config import Settings

router = APIRouter(prefix="/plans", tags=["plans"])


class PlanRequest(BaseModel):
    train: dict[str, Any] = Field(description="A train document as in docs/train.md (name, releases, ...).")


class OverrideRequest(BaseModel):
    decision: Literal["GO", "GO WITH CONDITIONS", "NO-GO"]
    reason: str = Field(min_length=1, description="Why the recommendation is overridden (required).")
    service: str | None = Field(default=None, description="One release's service; null for the whole train.")

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return stripped(value, "reason")

    @field_validator("service")
    @classmethod
    def _service(cls, value: str | None) -> str | None:
        return stripped(value, "service")


@router.post("", status_code=status.HTTP_201_CREATED)
def create_plan(body: PlanRequest, who: Principal = Depends(require("release-manager")),
                path: Path = Depends(warehouse), config: Settings = Depends(settings)) -> dict[str, Any]:
    """Plan a train against the warehouse's history and store it (audited as plan.create by the caller)."""
    from releasepilot.planning.assemble import build_plan, store_plan
    from releasepilot.policy import load_policy
    from releasepilot.train import parse_train

    train = parse_train(body.train, source="body.train")
    policy = load_policy(config.policy_path) if config.policy_path.exists() else None
    with warehouse_lock(path):
        plan = build_plan(train, path, policy, tracking_uri=config.tracking_uri(), source_file="api")
        plan_id = store_plan(plan, path, created_by=who.name)
    return queries.plan_detail(path, plan_id)


@router.get("")
def list_plans(_: Principal = Depends(require("viewer")), path: Path = Depends(warehouse)) -> list[dict[str, Any]]:
    """Planned trains, newest first, with their decision after overrides."""
    return queries.list_plans(path)


@router.get("/{plan_id}")
def get_plan(plan_id: str, _: Principal = Depends(require("viewer")),
             path: Path = Depends(warehouse)) -> dict[str, Any]:
    """The whole plan (Plan.as_dict) with its overrides and the decisions as they apply."""
    plan = queries.plan_detail(path, plan_id)
    if plan is None:
        raise not_found(f"plan {plan_id!r}")
    return plan


@router.get("/{plan_id}/releases/{service}")
def get_release(plan_id: str, service: str, _: Principal = Depends(require("viewer")),
                path: Path = Depends(warehouse)) -> dict[str, Any]:
    """One release: risk, reasons, blast radius graph, window heat map, rollout, readiness, decision, audit."""
    release = queries.release_detail(path, plan_id, service)
    if release is None:
        raise not_found(f"release {service!r} of plan {plan_id!r}")
    return release


@router.post("/{plan_id}/overrides", status_code=status.HTTP_201_CREATED)
def override(plan_id: str, body: OverrideRequest, who: Principal = Depends(require("release-manager")),
             path: Path = Depends(warehouse)) -> dict[str, Any]:
    """Override the train's (service null) or one release's recommendation; recorded with who and why."""
    from releasepilot.audit import get_plan, record_override

    with open_warehouse(path) as con:
        plan = get_plan(con, plan_id)
        if plan is None:
            raise not_found(f"plan {plan_id!r}")
        if body.service is not None and body.service not in {r["service"] for r in plan["releases"]}:
            raise not_found(f"release {body.service!r} of plan {plan_id!r}")
        recorded = record_override(con, plan_id, body.decision, who.name, body.reason, service=body.service)
    detail = queries.plan_detail(path, plan_id)
    effective = detail["effective"]["releases"][body.service] if body.service else detail["effective"]["train"]
    return {"override": recorded.as_dict(), "effective": effective}
