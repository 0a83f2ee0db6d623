"""The contract between a stored release plan and the executor.

An `ExecutionPlan` is what `run_release` carries out: waves in order, the releases of a wave in parallel
(at most `max_parallel`), each release a list of steps (traffic weight, optional region/tenant scope,
bake minutes, gate name). It round-trips through plain JSON (`to_dict` / `from_dict`, which checks every
field and names the bad one) and is stored in DuckDB `app.execution_plans` by plan id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from releasepilot.errors import InputError

DEFAULT_MAX_PARALLEL = 4
DEFAULT_WATCH_MINUTES = 30        # health watch after a release reaches 100%
DEFAULT_ROLLBACK_BAKE_MINUTES = 10  # how long a rollback is watched before it counts as healthy
PLANS_TABLE = "app.execution_plans"


@dataclass(frozen=True)
class StepSpec:
    """One rollout step: traffic weight (percent), where (region/tenant or None), bake and gate."""

    index: int
    weight: int
    scope: str | None = None
    bake_minutes: int = 10
    gate: str = "canary_vs_baseline"


@dataclass(frozen=True)
class ReleaseExecution:
    """One release of the train and how to roll it out."""

    release_id: str
    service: str
    version: str
    previous_version: str
    depends_on_release_ids: tuple[str, ...] = ()
    steps: tuple[StepSpec, ...] = ()
    commit_from: str | None = None
    commit_to: str | None = None


@dataclass(frozen=True)
class ExecutionPlan:
    """Waves of releases plus the policy bits the executor needs."""

    plan_id: str
    train: str
    waves: tuple[tuple[ReleaseExecution, ...], ...]
    rollback_dependents: bool = True
    max_parallel: int = DEFAULT_MAX_PARALLEL
    watch_minutes: int = DEFAULT_WATCH_MINUTES
    rollback_bake_minutes: int = DEFAULT_ROLLBACK_BAKE_MINUTES
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def releases(self) -> list[ReleaseExecution]:
        return [r for wave in self.waves for r in wave]

    def release(self, release_id: str) -> ReleaseExecution:
        for r in self.releases:
            if r.release_id == release_id:
                return r
        raise KeyError(release_id)

    def dependents_of(self, release_id: str) -> list[str]:
        """Releases of this train that depend on `release_id`, directly or through others, in plan order."""
        found: set[str] = set()
        frontier = {release_id}
        while frontier:
            nxt = {r.release_id for r in self.releases
                   if r.release_id not in found and frontier & set(r.depends_on_release_ids)}
            found |= nxt
            frontier = nxt
        return [r.release_id for r in self.releases if r.release_id in found]

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id, "train": self.train,
            "policy": {"rollback_dependents": self.rollback_dependents, "max_parallel": self.max_parallel,
                       "watch_minutes": self.watch_minutes, "rollback_bake_minutes": self.rollback_bake_minutes},
            "waves": [[_release_dict(r) for r in wave] for wave in self.waves],
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "execution plan") -> ExecutionPlan:
        """Check and build; raises `InputError` naming the field that is wrong."""
        if not isinstance(data, dict):
            raise InputError("expected a JSON object", source=source)
        plan_id = _text(data, "plan_id", source)
        policy = data.get("policy") or {}
        if not isinstance(policy, dict):
            raise InputError("expected an object", source=source, field="policy")
        waves_raw = data.get("waves")
        if not isinstance(waves_raw, list) or not waves_raw:
            raise InputError("expected a non-empty list of waves", source=source, field="waves")
        waves = []
        for w, wave in enumerate(waves_raw):
            if not isinstance(wave, list) or not wave:
                raise InputError("expected a non-empty list of releases", source=source, field=f"waves[{w}]")
            waves.append(tuple(_release(r, source, f"waves[{w}][{i}]") for i, r in enumerate(wave)))
        plan = cls(
            plan_id=plan_id, train=str(data.get("train") or plan_id), waves=tuple(waves),
            rollback_dependents=bool(policy.get("rollback_dependents", True)),
            max_parallel=_int(policy, "max_parallel", source, DEFAULT_MAX_PARALLEL, low=1),
            watch_minutes=_int(policy, "watch_minutes", source, DEFAULT_WATCH_MINUTES, low=0),
            rollback_bake_minutes=_int(policy, "rollback_bake_minutes", source, DEFAULT_ROLLBACK_BAKE_MINUTES,
                                       low=1),
            meta=dict(data.get("meta") or {}),
        )
        _check_ids(plan, source)
        return plan


def _release_dict(r: ReleaseExecution) -> dict[str, Any]:
    return {"release_id": r.release_id, "service": r.service, "version": r.version,
            "previous_version": r.previous_version, "depends_on_release_ids": list(r.depends_on_release_ids),
            "commit_from": r.commit_from, "commit_to": r.commit_to,
            "steps": [{"index": s.index, "weight": s.weight, "scope": s.scope, "bake_minutes": s.bake_minutes,
                       "gate": s.gate} for s in r.steps]}


def _text(data: dict, key: str, source: str, where: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError("expected a non-empty string", source=source, field=f"{where}{key}")
    return value


def _int(data: dict, key: str, source: str, default: int, *, low: int, high: int | None = None,
         where: str = "") -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise InputError(f"expected an integer {bounds}, got {value!r}", source=source, field=f"{where}{key}")
    return value


def _release(raw: Any, source: str, where: str) -> ReleaseExecution:
    from releasepilot.rollout.targets.base import validate_service, validate_version

    if not isinstance(raw, dict):
        raise InputError("expected an object", source=source, field=where)
    prefix = f"{where}."
    service, version, previous = (_text(raw, k, source, prefix) for k in ("service", "version", "previous_version"))
    try:
        validate_service(service), validate_version(version), validate_version(previous)
    except InputError as exc:
        raise InputError(str(exc), source=source, field=where) from None
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise InputError("expected a non-empty list of steps", source=source, field=f"{prefix}steps")
    steps = []
    for i, s in enumerate(steps_raw):
        at = f"{prefix}steps[{i}]."
        if not isinstance(s, dict):
            raise InputError("expected an object", source=source, field=at[:-1])
        scope = s.get("scope")
        if scope is not None and not isinstance(scope, str):
            raise InputError("expected a string or null", source=source, field=f"{at}scope")
        steps.append(StepSpec(index=_int(s, "index", source, i + 1, low=1, where=at),
                              weight=_int(s, "weight", source, 0, low=1, high=100, where=at), scope=scope,
                              bake_minutes=_int(s, "bake_minutes", source, 10, low=1, where=at),
                              gate=str(s.get("gate") or "canary_vs_baseline")))
    if [s.index for s in steps] != list(range(1, len(steps) + 1)):
        raise InputError("step indexes must be 1, 2, ... in order", source=source, field=f"{prefix}steps")
    if steps[-1].weight != 100:
        raise InputError("the last step must reach weight 100", source=source, field=f"{prefix}steps")
    deps = raw.get("depends_on_release_ids") or []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise InputError("expected a list of release ids", source=source, field=f"{prefix}depends_on_release_ids")
    return ReleaseExecution(release_id=_text(raw, "release_id", source, prefix), service=service, version=version,
                            previous_version=previous, depends_on_release_ids=tuple(deps), steps=tuple(steps),
                            commit_from=raw.get("commit_from"), commit_to=raw.get("commit_to"))


def _check_ids(plan: ExecutionPlan, source: str) -> None:
    ids = [r.release_id for r in plan.releases]
    seen: set[str] = set()
    for rid in ids:
        if rid in seen:
            raise InputError(f"duplicate release id {rid!r}", source=source, field="release_id")
        seen.add(rid)
    services = [r.service for r in plan.releases]
    for s in services:
        if services.count(s) > 1:
            raise InputError(f"service {s!r} appears in two releases of one plan", source=source, field="service")
    for r in plan.releases:
        unknown = [d for d in r.depends_on_release_ids if d not in seen]
        if unknown:
            raise InputError(f"depends on unknown release(s) {unknown}", source=source,
                             field=f"{r.release_id}.depends_on_release_ids")


def ensure_plans_table(con: Any) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS app")
    con.execute(f"CREATE TABLE IF NOT EXISTS {PLANS_TABLE} (plan_id VARCHAR PRIMARY KEY, train VARCHAR, "
                "saved_at TIMESTAMP, plan_json VARCHAR)")


def save_execution_plan(warehouse: Path | str, plan: ExecutionPlan) -> None:
    """Store (or replace) a plan by id in `app.execution_plans`."""
    from releasepilot.rollout.events import open_store

    with open_store(warehouse) as con:
        write_execution_plan(con, plan)


def write_execution_plan(con: Any, plan: ExecutionPlan) -> None:
    """Store (or replace) a plan on an open connection, in one transaction."""
    ExecutionPlan.from_dict(plan.to_dict())          # refuse anything that would not load back
    ensure_plans_table(con)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {PLANS_TABLE} WHERE plan_id = ?", [plan.plan_id])
        con.execute(f"INSERT INTO {PLANS_TABLE} VALUES (?, ?, ?, ?)",
                    [plan.plan_id, plan.train, datetime.now(UTC).replace(tzinfo=None),
                     json.dumps(plan.to_dict())])
    except Exception:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def load_execution_plan(warehouse: Path | str, plan_id: str) -> ExecutionPlan:
    """The stored plan, or `InputError` naming the plan id when there is none."""
    from releasepilot.rollout.events import open_store

    with open_store(warehouse) as con:
        ensure_plans_table(con)
        rows = con.execute(f"SELECT plan_json FROM {PLANS_TABLE} WHERE plan_id = ?", [plan_id]).fetchall()
    if not rows:
        raise InputError(f"no execution plan {plan_id!r} in {PLANS_TABLE} of {warehouse}", field="plan_id")
    return ExecutionPlan.from_dict(json.loads(rows[0][0]), source=f"{PLANS_TABLE}[{plan_id}]")
