"""The executor end to end on the simulated fleet: healthy train, caught fault, resume after crashes, source down."""

from __future__ import annotations

from collections import Counter

import pytest

from releasepilot.rollout import events as ev
from releasepilot.rollout.execution_plan import ExecutionPlan
from releasepilot.rollout.executor import ApprovalAnswer, execute_plan
from releasepilot.simulation.telemetry import FaultSpec
from rollout.plans import fleet, release, three_wave_plan


@pytest.fixture
def warehouse(tmp_path):
    return tmp_path / "warehouse.duckdb"


def _deploys(target):
    return Counter((r.service, r.weight) for r in target.history if r.action == "deploy_step" and r.ok)


def test_healthy_train_succeeds_with_complete_events(warehouse):
    clock, target, health = fleet()
    plan = three_wave_plan()
    result = execute_plan(plan, target, health, clock, warehouse)
    assert result.status == "succeeded" and not result.resumed
    assert [o.status for o in result.outcomes] == ["succeeded"] * 4
    events = ev.read_events(warehouse, plan.plan_id)
    kinds = Counter((e.release_id, e.kind) for e in events)
    for r in plan.releases:
        # 3 steps + the watch: a start, a gate, a decision and a completion each; 3 deploys
        for kind, count in ((ev.STEP_STARTED, 4), (ev.STEP_DEPLOYED, 3), (ev.GATE, 4), (ev.DECISION, 4),
                            (ev.STEP_COMPLETED, 4), (ev.RELEASE_FINISHED, 1)):
            assert kinds[(r.release_id, kind)] == count, (r.release_id, kind)
    assert _deploys(target) == Counter({(r.service, w): 1 for r in plan.releases for w in (10, 50, 100)})
    # waves in order: every wave-2 release starts after wave 1 finished, wave 3 after wave 2
    at = {(e.release_id, e.kind): e.at for e in events}
    assert at[("r2", ev.RELEASE_STARTED)] >= at[("r1", ev.RELEASE_FINISHED)]
    assert at[("r4", ev.RELEASE_STARTED)] >= max(at[("r2", ev.RELEASE_FINISHED)], at[("r3", ev.RELEASE_FINISHED)])
    # the two releases of wave 2 ran side by side in simulated time
    assert at[("r2", ev.RELEASE_STARTED)] == at[("r3", ev.RELEASE_STARTED)]
    gate = next(e for e in events if e.kind == ev.GATE)
    metric = gate.detail["analyses"][-1]["judge"]["metrics"][0]
    assert {"u_statistic", "p_value", "margin", "shift"} <= metric.keys()     # evidence is kept
    assert [e.kind for e in events][-1] == ev.PLAN_FINISHED


@pytest.mark.parametrize("dependents", [True, False])
def test_fault_is_caught_and_rolled_back_with_dependents(warehouse, dependents):
    # wave 1: the consumer first (it works with either provider version); wave 2: its provider breaks
    waves = ((release("c1", "checkout-api", ("p1",)), release("s1", "search-api")),
             (release("p1", "payments-api"),), (release("n1", "notify-api", ("p1",)),))
    plan = ExecutionPlan("plan-fault", "train-8", waves, rollback_dependents=dependents, watch_minutes=10)
    fault = FaultSpec("step", "error_rate", onset_min=12, magnitude=4.0)
    clock, target, health = fleet({"payments-api": fault})
    result = execute_plan(plan, target, health, clock, warehouse, fault_onset=target.fault_onset)
    outcome = {o.release_id: o for o in result.outcomes}
    assert outcome["p1"].status == "rolled_back"
    assert outcome["p1"].detected_from == "fault_onset"
    assert 0 <= outcome["p1"].time_to_detect_minutes <= 15
    assert outcome["s1"].status == "succeeded"
    assert outcome["n1"].status == "skipped"                       # never deployed
    assert not any(r.service == "notify-api" for r in target.history)
    assert outcome["c1"].status == ("rolled_back" if dependents else "succeeded")
    assert target.state["payments-api"]["version"] == "1.9.0"
    rollbacks = [r.service for r in target.history if r.action == "rollback"]
    assert rollbacks == (["payments-api", "checkout-api"] if dependents else ["payments-api"])
    events = ev.read_events(warehouse, plan.plan_id)
    failed = next(e for e in events if e.kind == ev.STEP_FAILED)
    assert failed.release_id == "p1" and "gate failed" in failed.detail["reason"]
    rollback_gate = next(e for e in events if e.kind == ev.ROLLBACK_COMPLETED and e.release_id == "p1")
    assert rollback_gate.status == "successful"                    # the rollback passed its own gate


def test_deploy_error_after_retries_rolls_back(warehouse):
    clock, target, health = fleet(fail_next=3)                     # 3 attempts, all fail
    plan = ExecutionPlan("plan-deploy", "t", ((release("a1", "alpha-api"),),), watch_minutes=0)
    result = execute_plan(plan, target, health, clock, warehouse)
    assert result.outcomes[0].status == "rolled_back"
    assert "deploy of step 1 failed" in result.outcomes[0].reason
    assert [r.action for r in target.history][-1] == "rollback"


class Crash(RuntimeError):
    """The process dying at a chosen point."""


class CrashingTarget:
    """Wraps a target: raises instead of the k-th deploy (nothing deployed), else delegates."""

    def __init__(self, inner, crash_at):
        self.inner, self.crash_at, self.calls, self.name = inner, crash_at, 0, inner.name

    def deploy_step(self, service, version, step):
        self.calls += 1
        if self.calls == self.crash_at:
            raise Crash(f"crash before deploy {self.calls}")
        return self.inner.deploy_step(service, version, step)

    def rollback(self, service, previous_version):
        return self.inner.rollback(service, previous_version)

    def status(self, service):
        return self.inner.status(service)


class CrashingClock:
    """Wraps a clock: raises at the k-th sleep (a crash in the middle of a bake, after the deploy)."""

    def __init__(self, inner, crash_at):
        self.inner, self.crash_at, self.calls = inner, crash_at, 0
        self.instant = inner.instant

    def now(self):
        return self.inner.now()

    def sleep_until(self, moment):
        self.calls += 1
        if self.calls == self.crash_at:
            raise Crash(f"crash in sleep {self.calls}")
        self.inner.sleep_until(moment)

    def start_branch(self, at):
        self.inner.start_branch(at)

    def end_branch(self):
        self.inner.end_branch()


def _small_plan(plan_id):
    from releasepilot.rollout.execution_plan import StepSpec

    steps = (StepSpec(1, 20, None, 5), StepSpec(2, 100, None, 5))
    waves = ((release("a1", "alpha-api", steps=steps),), (release("b1", "beta-api", ("a1",), steps=steps),))
    return ExecutionPlan(plan_id, "t", waves, watch_minutes=5)


def _deploy_count(plan):  # every deploy_step call is a crash point
    return sum(len(r.steps) for r in plan.releases)


@pytest.mark.parametrize("where", ["target", "clock"])
def test_resume_after_a_crash_at_every_step(tmp_path, where):
    plan0 = _small_plan("p")
    counting_clock, counted, counted_health = fleet()
    counting_clock = CrashingClock(counting_clock, crash_at=0)
    execute_plan(plan0, counted, counted_health, counting_clock, tmp_path / "count.duckdb")
    points = _deploy_count(plan0) if where == "target" else counting_clock.calls
    assert counting_clock.calls >= 6                               # one sleep per bake/watch at least
    for k in range(1, points + 1):
        warehouse = tmp_path / f"{where}-{k}.duckdb"
        plan = _small_plan(f"crash-{where}-{k}")
        clock, inner, health = fleet()
        target = CrashingTarget(inner, k) if where == "target" else inner
        crash_clock = CrashingClock(clock, k) if where == "clock" else clock
        with pytest.raises(Crash):
            execute_plan(plan, target, health, crash_clock, warehouse)
        clock2, inner2, health2 = fleet()
        # the rerun is a new process: fresh target, but the same fleet state seen from outside
        inner2.state, inner2.telemetry = inner.state, inner.telemetry
        health2.fleet = inner2.telemetry
        result = execute_plan(plan, inner2, health2, clock2, warehouse)
        assert result.resumed and result.status == "succeeded", (k, result.status)
        deploys = _deploys(inner) + _deploys(inner2)
        assert deploys == Counter({("alpha-api", 20): 1, ("alpha-api", 100): 1, ("beta-api", 20): 1,
                                   ("beta-api", 100): 1}), (where, k)
        progress = ev.release_progress(ev.read_events(warehouse, plan.plan_id))
        for r in plan.releases:
            assert progress[r.release_id].completed == {1, 2, 3}, (k, r.release_id)
            assert progress[r.release_id].deployed == {1, 2}
            assert progress[r.release_id].finished == "succeeded"
        completions = Counter((e.release_id, e.step_index) for e in ev.read_events(warehouse, plan.plan_id)
                              if e.kind == ev.STEP_COMPLETED)
        assert set(completions.values()) == {1}                    # no step completed twice


def test_health_source_down_asks_a_person_and_never_passes(warehouse):
    clock, target, health = fleet(down=True)
    plan = ExecutionPlan("plan-down", "t", ((release("a1", "alpha-api"),),), watch_minutes=0)
    asked = []

    def approver(request):
        asked.append(request)
        return ApprovalAnswer(False, "alice", "no metrics, not risking it")

    result = execute_plan(plan, target, health, clock, warehouse, approver=approver)
    assert len(asked) == 1 and asked[0].status == "inconclusive" and asked[0].step_index == 1
    assert any("unavailable" in r or "errors" in r for r in asked[0].reasons)
    assert result.outcomes[0].status == "rolled_back"
    assert result.outcomes[0].decided_by == "alice"
    assert _deploys(target) == Counter({("alpha-api", 10): 1})     # never went past the first step
    answered = [e for e in ev.read_events(warehouse, "plan-down") if e.kind == ev.APPROVAL_ANSWERED]
    assert answered[0].detail["by"] == "alice" and answered[0].status == "rejected"


def test_health_source_down_with_approval_continues_and_records_who(warehouse):
    clock, target, health = fleet(down=True)
    plan = ExecutionPlan("plan-down-ok", "t", ((release("a1", "alpha-api"),),), watch_minutes=0)
    result = execute_plan(plan, target, health, clock, warehouse,
                          approver=lambda r: ApprovalAnswer(True, "bob", "metrics outage, checked by hand"))
    assert result.outcomes[0].status == "succeeded"
    decisions = [e for e in ev.read_events(warehouse, "plan-down-ok") if e.kind == ev.DECISION]
    assert len(decisions) == 3 and all(d.detail["decided_by"] == "bob" for d in decisions)


def test_no_approver_means_rollback(warehouse):
    clock, target, health = fleet(down=True)
    plan = ExecutionPlan("plan-down-none", "t", ((release("a1", "alpha-api"),),), watch_minutes=0)
    result = execute_plan(plan, target, health, clock, warehouse)
    assert result.outcomes[0].status == "rolled_back"
    assert result.outcomes[0].decided_by == "policy:no-approver"




def test_while_a_person_decides_other_processes_can_read_the_warehouse(warehouse):
    """The dashboard and the API read the same DuckDB file while a rollout waits for an approval."""
    import subprocess
    import sys

    clock, target, health = fleet(down=True)
    plan = ExecutionPlan("plan-wait", "t", ((release("a1", "alpha-api"),),), watch_minutes=0)
    seen = []

    def approver(request):
        code = ("import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
                "print(con.execute(\"select count(*) from app.rollout_events where plan_id = 'plan-wait'\")"
                ".fetchone()[0])")
        out = subprocess.run([sys.executable, "-c", code, str(warehouse)], capture_output=True, text=True)
        seen.append((out.returncode, out.stdout.strip(), out.stderr[-300:]))
        return ApprovalAnswer(False, "alice", "checked from the dashboard")

    execute_plan(plan, target, health, clock, warehouse, approver=approver)
    code, count, err = seen[0]
    assert code == 0, err
    assert int(count) > 0          # it saw the events written so far, including the approval request
