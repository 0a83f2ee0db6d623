"""Small execution plans and a simulated fleet for the executor tests."""

from __future__ import annotations

from releasepilot.rollout.clock import SimulatedClock
from releasepilot.rollout.execution_plan import ExecutionPlan, ReleaseExecution, StepSpec
from releasepilot.rollout.fleet import FleetTarget
from releasepilot.rollout.health.simulated import SimulatedHealthSource

STEPS = (StepSpec(1, 10, "us-east-1", 10), StepSpec(2, 50, None, 10), StepSpec(3, 100, None, 10))


def release(rid: str, service: str, deps: tuple[str, ...] = (), steps=STEPS) -> ReleaseExecution:
    return ReleaseExecution(rid, service, "2.0.0", "1.9.0", deps, tuple(steps), commit_from="a1", commit_to="b2")


def three_wave_plan(plan_id: str = "plan-1", *, rollback_dependents: bool = True, watch: int = 15,
                    max_parallel: int = 2) -> ExecutionPlan:
    """payments-db -> (payments-api, search-api) -> checkout-api (consumer of payments-api)."""
    waves = (
        (release("r1", "payments-db"),),
        (release("r2", "payments-api", ("r1",)), release("r3", "search-api")),
        (release("r4", "checkout-api", ("r2",)),),
    )
    return ExecutionPlan(plan_id, "train-7", waves, rollback_dependents=rollback_dependents,
                         max_parallel=max_parallel, watch_minutes=watch, rollback_bake_minutes=10)


def fleet(faults=None, *, seed: int = 3, down: bool = False, **target_options):
    clock = SimulatedClock()
    target = FleetTarget(clock, faults or {}, seed=seed, horizon_minutes=24 * 60, **target_options)
    health = SimulatedHealthSource(target.telemetry, down=down)
    return clock, target, health
