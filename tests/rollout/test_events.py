"""The event log: append-only, read back in order, folded into resume progress; the plan store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from releasepilot.errors import InputError
from releasepilot.rollout import events as ev
from releasepilot.rollout.execution_plan import ExecutionPlan, load_execution_plan, save_execution_plan
from rollout.plans import three_wave_plan

T0 = datetime(2025, 1, 6, 9, tzinfo=UTC)


def test_events_are_appended_in_order_with_their_evidence(tmp_path):
    log = ev.EventLog(tmp_path / "w.duckdb", "p1", "run-a")
    log.append(ev.STEP_STARTED, at=T0, release_id="r1", service="svc", step_index=1, detail={"weight": 10})
    log.append(ev.GATE, at=T0 + timedelta(minutes=5), release_id="r1", step_index=1, status="successful",
               detail={"p": float("nan"), "values": [1.5, float("inf")]})
    other = ev.EventLog(tmp_path / "w.duckdb", "p2", "run-b")
    other.append(ev.PLAN_STARTED, at=T0)
    events = log.events()
    assert [e.kind for e in events] == [ev.STEP_STARTED, ev.GATE] and events[0].seq < events[1].seq
    assert events[1].detail == {"p": None, "values": [1.5, None]}          # NaN/inf stored as null
    assert events[1].at == T0 + timedelta(minutes=5) and events[1].at.tzinfo is not None
    assert len(ev.read_events(tmp_path / "w.duckdb")) == 3


def test_progress_folds_steps_failures_and_finish():
    def e(seq, kind, step=None, status=None, **detail):
        return ev.Event(seq, "p", "r", "r1", "svc", step, kind, status, T0 + timedelta(minutes=seq), T0, detail)

    log = [e(1, ev.RELEASE_STARTED), e(2, ev.STEP_STARTED, 1), e(3, ev.STEP_DEPLOYED, 1), e(4, ev.STEP_COMPLETED, 1),
           e(5, ev.STEP_STARTED, 2), e(6, ev.STEP_DEPLOYED, 2), e(7, ev.STEP_FAILED, 2, reason="gate failed")]
    p = ev.release_progress(log)["r1"]
    assert p.deployed == {1, 2} and p.completed == {1} and p.failure["reason"] == "gate failed"
    assert not p.rollback_done and p.finished is None
    p = ev.release_progress(log + [e(8, ev.ROLLBACK_COMPLETED), e(9, ev.RELEASE_FINISHED, status="rolled_back")])["r1"]
    assert p.rollback_done and p.finished == "rolled_back" and p.last_at == T0 + timedelta(minutes=9)


def test_plan_round_trips_through_the_store(tmp_path):
    plan = three_wave_plan("stored")
    assert ExecutionPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    save_execution_plan(tmp_path / "w.duckdb", plan)
    save_execution_plan(tmp_path / "w.duckdb", plan)                    # replacing is fine
    assert load_execution_plan(tmp_path / "w.duckdb", "stored") == plan
    assert plan.dependents_of("r1") == ["r2", "r4"]


@pytest.mark.parametrize("path, value, field", [
    (("waves", 0, 0, "service"), "x; rm -rf /", "waves[0][0]"),
    (("waves", 0, 0, "steps", 0, "weight"), 150, "waves[0][0].steps[0].weight"),
    (("waves", 0, 0, "steps", 2, "weight"), 90, "waves[0][0].steps"),
    (("policy", "max_parallel"), 0, "max_parallel"),
    (("waves", 1, 0, "depends_on_release_ids"), ["ghost"], "r2.depends_on_release_ids"),
])
def test_bad_plans_are_refused_naming_the_field(path, value, field):
    data = three_wave_plan().to_dict()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(InputError) as info:
        ExecutionPlan.from_dict(data)
    assert field in str(info.value)
