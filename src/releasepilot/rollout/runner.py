"""The library path of `run_release`: load a stored plan, build its target, health source and clock, run it.

The Prefect flow and `releasepilot release` both call `run_stored_plan`; only the approver differs (a
Prefect pause with input in the flow, a refusal or a prompt on the command line). Real targets and
Prometheus are configured from the environment: `RELEASEPILOT_DEPLOY_COMMANDS` (a JSON file of argument
templates), `RELEASEPILOT_DEPLOY_WEBHOOK` (a URL), `RELEASEPILOT_PROMETHEUS_URL`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from releasepilot.errors import InputError
from releasepilot.rollout.clock import Clock, SimulatedClock, WallClock
from releasepilot.rollout.execution_plan import load_execution_plan
from releasepilot.rollout.executor import Approver, ExecutionResult, ReleaseExecutor, refuse
from releasepilot.simulation.telemetry import FaultSpec

TARGETS = ("simulated", "command", "webhook")
HEALTH_SOURCES = ("simulated", "prometheus", "down")   # "down": an outage drill, gates go inconclusive


def parse_faults(faults: Mapping[str, Any] | None) -> dict[str, FaultSpec]:
    """{service: "shape:metric:size[:onset[:duration]]" or {shape, metric, ...}} -> FaultSpecs."""
    from releasepilot.rollout.fleet import parse_fault

    out: dict[str, FaultSpec] = {}
    for service, spec in (faults or {}).items():
        if isinstance(spec, FaultSpec):
            out[service] = spec
        elif isinstance(spec, str):
            out[service] = parse_fault(f"{service}={spec}")[1]
        elif isinstance(spec, Mapping):
            try:
                out[service] = FaultSpec(**spec)
            except (TypeError, ValueError) as exc:
                raise InputError(str(exc), source="faults", field=service) from None
        else:
            raise InputError("expected 'shape:metric:size' or an object", source="faults", field=service)
    return out


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise InputError(f"set {name} to use this target or health source", field=name)
    return value


def build_runtime(target: str, health: str, faults: Mapping[str, Any] | None = None, *,
                  seed: int = 0) -> tuple[Any, Any, Clock, Any]:
    """(deploy target, health source, clock, fault_onset lookup or None) for the names given."""
    if target not in TARGETS:
        raise InputError(f"expected one of {', '.join(TARGETS)}, got {target!r}", field="target")
    if health not in HEALTH_SOURCES:
        raise InputError(f"expected one of {', '.join(HEALTH_SOURCES)}, got {health!r}", field="health")
    if target == "simulated":
        from releasepilot.rollout.fleet import FleetTarget
        from releasepilot.rollout.health.simulated import SimulatedHealthSource

        clock: Clock = SimulatedClock()
        fleet = FleetTarget(clock, parse_faults(faults), seed=seed)
        if health == "simulated":
            return fleet, SimulatedHealthSource(fleet.telemetry), clock, fleet.fault_onset
        if health == "down":
            return fleet, SimulatedHealthSource(fleet.telemetry, down=True), clock, fleet.fault_onset
        clock = WallClock()
        fleet.clock = clock
        return fleet, _prometheus(), clock, None
    if health in ("simulated", "down"):
        raise InputError("the simulated health source only watches the simulated target", field="health")
    if faults:
        raise InputError("faults can only be injected into the simulated target", field="faults")
    if target == "command":
        from releasepilot.rollout.targets.command import CommandTarget

        path = Path(_env("RELEASEPILOT_DEPLOY_COMMANDS"))
        try:
            templates = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"could not read deploy command templates: {exc}", source=str(path)) from None
        return CommandTarget(templates), _prometheus(), WallClock(), None
    from releasepilot.rollout.targets.webhook import WebhookTarget

    return WebhookTarget(_env("RELEASEPILOT_DEPLOY_WEBHOOK")), _prometheus(), WallClock(), None


def _prometheus() -> Any:
    from releasepilot.rollout.health.prometheus import PrometheusHealthSource

    return PrometheusHealthSource(_env("RELEASEPILOT_PROMETHEUS_URL"))


def resolve_warehouse(warehouse: str | Path | None) -> Path:
    if warehouse:
        return Path(warehouse)
    from releasepilot.config import get_settings

    return get_settings().warehouse_path


def held_by_decision(warehouse: Path, plan_id: str) -> dict[str, str]:
    """Releases of a stored plan that may not ship (NO-GO after overrides), read as the run starts so an
    override made a minute ago counts. A plan made outside `releasepilot plan` holds nothing."""
    import json

    from releasepilot.audit import get_plan, list_overrides
    from releasepilot.planning.decision import effective_decisions, held_releases
    from releasepilot.rollout.events import open_store

    with open_store(warehouse) as con:
        row = get_plan(con, plan_id)
        if row is None:
            return {}
        found = con.execute("select plan_json from app.plans where plan_id = ?", [plan_id]).fetchall()
        overrides = list_overrides(con, plan_id)
    document = json.loads(found[0][0]) if found and found[0][0] else {}
    return held_releases(effective_decisions(row, document, overrides))


def run_stored_plan(plan_id: str, *, target: str = "simulated", health: str = "simulated",
                    warehouse: str | Path | None = None, faults: Mapping[str, Any] | None = None,
                    approver: Approver = refuse, lock_timeout: float = 0.0, seed: int = 0) -> ExecutionResult:
    """Load plan `plan_id` from `app.execution_plans` and run (or resume) it."""
    path = resolve_warehouse(warehouse)
    plan = load_execution_plan(path, plan_id)
    deploy, source, clock, onset = build_runtime(target, health, faults, seed=seed)
    executor = ReleaseExecutor(plan, deploy, source, clock, path, approver=approver, fault_onset=onset,
                               lock_timeout=lock_timeout, held=held_by_decision(path, plan_id))
    return executor.execute()
