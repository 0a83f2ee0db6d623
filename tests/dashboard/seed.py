"""Seed a dashboard warehouse through the real library: two stored plans (one scored by a stand-in model,
one without risk), a finished simulated rollout with gates and health readings, and tokens of each role."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from releasepilot.api import auth
from releasepilot.api.store import open_warehouse

MAX_BAKE_MINUTES = 15          # keep the simulated rollout short (the clock is instant, gates are not free)


@dataclass
class Seeded:
    warehouse: Path
    scored_plan: str            # planned with the stand-in scorer; its first release has a finished rollout
    unscored_plan: str          # planned with risk unavailable; used for the paused rollout
    scored_service: str
    unscored_service: str
    services: dict[str, list[str]]
    tokens: dict[str, str]


def stand_in_scorer(rows):
    """A deterministic stand-in model: more churn and busier hours are riskier (no MLflow needed)."""
    return [min(0.03 + 0.00008 * float(r.get("churn") or 0) + 0.25 * float(r.get("traffic_percentile") or 0), 0.95)
            for r in rows]


def allow_rollout(warehouse: Path, plan_id: str, service: str) -> None:
    """A release manager's overrides so that the executor carries the release out: the executor holds a
    NO-GO release (or any release of a NO-GO train) until someone overrides it."""
    from releasepilot import audit

    with open_warehouse(warehouse) as con:
        plan = audit.get_plan(con, plan_id)
        release = next(r for r in plan["releases"] if r["service"] == service)
        if plan["decision"] == "NO-GO":
            audit.record_override(con, plan_id, "GO WITH CONDITIONS", "seed-manager", "tests: roll out one release")
        if release["decision"] == "NO-GO":
            audit.record_override(con, plan_id, "GO WITH CONDITIONS", "seed-manager", "tests: roll it out",
                                  service=service)


def run_small_rollout(warehouse: Path, plan_id: str, service: str, version: str, previous: str,
                      steps: list[dict]) -> None:
    """Carry out the planned rollout steps of one release on the simulated fleet (instant clock)."""
    from releasepilot.rollout.execution_plan import (
        ExecutionPlan,
        ReleaseExecution,
        StepSpec,
        save_execution_plan,
    )
    from releasepilot.rollout.runner import run_stored_plan

    specs = tuple(StepSpec(s["index"], s["weight_percent"], None, min(s["bake_minutes"], MAX_BAKE_MINUTES))
                  for s in steps)
    plan = ExecutionPlan(plan_id, "dashboard-rollout",
                         ((ReleaseExecution(service, service, version, previous or "0.0.1", (), specs),),),
                         watch_minutes=0)
    save_execution_plan(warehouse, plan)
    allow_rollout(warehouse, plan_id, service)
    run_stored_plan(plan_id, warehouse=warehouse, seed=3)


def seed_warehouse(source: Path, target: Path) -> Seeded:
    from releasepilot.planning.assemble import build_plan, store_plan
    from releasepilot.planning.from_git import generate_train
    from releasepilot.planning.risk_source import custom_risk, unavailable

    shutil.copy(source, target)
    scored = build_plan(generate_train(target, teams=3, seed=5), target,
                        scorer=custom_risk(stand_in_scorer, "stand-in scorer"))
    store_plan(scored, target, created_by="tests")
    unscored = build_plan(generate_train(target, teams=2, seed=11, name="unscored-train"), target,
                          scorer=unavailable("no model in this test"))
    store_plan(unscored, target, created_by="tests")
    first = scored.releases[0]
    run_small_rollout(target, scored.plan_id, first.service, first.version, first.previous_version,
                      first.rollout.as_dict()["steps"])
    with open_warehouse(target) as con:
        tokens = {role: auth.create_token(con, f"{role}-person", role, created_by="tests")["token"]
                  for role in auth.ROLES}
    return Seeded(target, scored.plan_id, unscored.plan_id, first.service, unscored.releases[0].service,
                  {scored.plan_id: [r.service for r in scored.releases],
                   unscored.plan_id: [r.service for r in unscored.releases]}, tokens)
