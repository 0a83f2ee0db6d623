"""One rollout per service: a second plan waits or is refused naming the holder; the holder may resume."""

from __future__ import annotations

import threading
import time

import pytest

from releasepilot.rollout.execution_plan import ExecutionPlan
from releasepilot.rollout.executor import execute_plan
from releasepilot.rollout.lock import ServiceLocked, acquire_services, current_locks, release_services
from rollout.plans import fleet, release


def test_second_plan_is_refused_with_the_holder_named(tmp_path):
    w = tmp_path / "w.duckdb"
    acquire_services(w, ["checkout-api", "payments-api"], "plan-a", "run-1")
    with pytest.raises(ServiceLocked, match="'checkout-api' is being rolled out by plan 'plan-a'"):
        acquire_services(w, ["search-api", "checkout-api"], "plan-b", "run-2")
    assert {lock.service for lock in current_locks(w)} == {"checkout-api", "payments-api"}   # all or nothing
    acquire_services(w, ["checkout-api"], "plan-a", "run-3")             # the same plan resumes
    assert release_services(w, "plan-a") == 2
    acquire_services(w, ["checkout-api"], "plan-b", "run-2")
    assert [lock.plan_id for lock in current_locks(w)] == ["plan-b"]


def test_second_plan_waits_for_the_first_to_finish(tmp_path):
    w = tmp_path / "w.duckdb"
    acquire_services(w, ["checkout-api"], "plan-a", "run-1")
    timer = threading.Timer(0.5, release_services, args=(w, "plan-a"))
    timer.start()
    began = time.monotonic()
    acquire_services(w, ["checkout-api"], "plan-b", "run-2", timeout=10, poll=0.1)
    waited = time.monotonic() - began
    timer.join()
    assert 0.4 <= waited < 5
    assert [lock.plan_id for lock in current_locks(w)] == ["plan-b"]


def test_executor_refuses_a_service_locked_by_another_plan(tmp_path):
    w = tmp_path / "w.duckdb"
    acquire_services(w, ["alpha-api"], "other-plan", "run-x")
    clock, target, health = fleet(seed=0)
    plan = ExecutionPlan("mine", "t", ((release("a1", "alpha-api"),),), watch_minutes=0)
    with pytest.raises(ServiceLocked, match="other-plan"):
        execute_plan(plan, target, health, clock, w)
    assert target.history == []                                          # nothing deployed
    release_services(w, "other-plan")
    assert execute_plan(plan, target, health, clock, w).status == "succeeded"
    assert current_locks(w) == []                                        # given back at the end
