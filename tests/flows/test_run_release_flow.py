"""The `run_release` flow once through a real Prefect server, with a pause answered through Prefect's API."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "flows"))

from releasepilot.rollout import events as ev
from releasepilot.rollout.execution_plan import ExecutionPlan, ReleaseExecution, StepSpec, save_execution_plan
from releasepilot.rollout.outcomes import read_outcomes

PAUSE_WAIT_SECONDS = 90


def _paused_run_id(name: str):
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))))
    return next((r.id for r in runs if r.parameters.get("plan_id") == name), None)


def test_flow_pauses_for_a_person_and_records_who_decided(prefect_server, tmp_path):
    from prefect.flow_runs import resume_flow_run

    from run_release import run_release

    warehouse = tmp_path / "warehouse.duckdb"
    steps = (StepSpec(1, 100, None, 5),)
    plan = ExecutionPlan("flow-plan", "train-flow",
                         ((ReleaseExecution("a1", "alpha-api", "2.0.0", "1.9.0", (), steps),),), watch_minutes=0)
    save_execution_plan(warehouse, plan)
    box: dict = {}

    def run() -> None:
        try:
            box["result"] = run_release("flow-plan", health="down", warehouse=str(warehouse), approval_timeout=120,
                                        approval_poll=1)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertions below
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    deadline = time.monotonic() + PAUSE_WAIT_SECONDS
    run_id = None
    while run_id is None and time.monotonic() < deadline and worker.is_alive():
        time.sleep(0.5)
        run_id = _paused_run_id("flow-plan")
    assert run_id is not None, f"the flow never paused: {box}"
    resume_flow_run(run_id, run_input={"approve": True, "approver": "carol", "reason": "metrics outage, checked"})
    worker.join(PAUSE_WAIT_SECONDS)
    assert "error" not in box, box.get("error")
    result = box["result"]
    assert result["status"] == "succeeded"
    assert result["outcomes"][0]["decided_by"] == "prefect-ui:carol"
    answered = [e for e in ev.read_events(warehouse, "flow-plan") if e.kind == ev.APPROVAL_ANSWERED]
    assert answered[0].detail["by"] == "prefect-ui:carol" and answered[0].status == "approved"
    assert read_outcomes(warehouse, "flow-plan")[0]["status"] == "succeeded"


def test_missing_plan_is_a_clear_error(tmp_path):
    from releasepilot.errors import InputError
    from releasepilot.rollout.runner import run_stored_plan

    with pytest.raises(InputError, match="no execution plan 'nope'"):
        run_stored_plan("nope", warehouse=tmp_path / "w.duckdb")
