"""A rollout paused by the real `run_release` flow is approved through POST /approvals (Prefect resumes it)."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from api.helpers import audit_actions, bearer
from releasepilot.rollout.execution_plan import ExecutionPlan, ReleaseExecution, StepSpec, save_execution_plan

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "flows"))

PAUSE_WAIT_SECONDS = 90


def test_api_approval_resumes_the_paused_flow_run(prefect_server, client, tokens, warehouse):
    from run_release import run_release

    plan = ExecutionPlan("plan-small", "train-small",
                         ((ReleaseExecution("beta-api", "beta-api", "2.0.0", "1.9.0", (), (StepSpec(1, 100, None, 5),)),),),
                         watch_minutes=0)
    save_execution_plan(warehouse, plan)
    box: dict = {}

    def run() -> None:
        try:
            box["result"] = run_release("plan-small", health="down", warehouse=str(warehouse), approval_timeout=120,
                                        approval_poll=1)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertions below
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    pending, deadline = [], time.monotonic() + PAUSE_WAIT_SECONDS
    while not pending and time.monotonic() < deadline and worker.is_alive():
        time.sleep(0.5)
        found = client.get("/api/v1/rollouts/plan-small/events", headers=bearer(tokens["viewer"]))
        pending = [p for p in found.json().get("pending_approvals", []) if p.get("flow_run_id")] \
            if found.status_code == 200 else []
    assert pending, f"the flow never recorded its paused run: {box}"
    answer = client.post("/api/v1/rollouts/plan-small/approvals", headers=bearer(tokens["release-manager"]),
                         json={"release_id": "beta-api", "approve": True, "reason": "metrics outage, checked"})
    assert answer.status_code == 201, answer.text
    worker.join(PAUSE_WAIT_SECONDS)
    assert "error" not in box, box.get("error")
    assert box["result"]["status"] == "succeeded"
    assert box["result"]["outcomes"][0]["decided_by"] == "prefect-ui:release-manager-person"
    entry = [e for e in audit_actions(warehouse) if e["action"] == "rollout.approve"]
    assert entry and entry[0]["who"] == "release-manager-person" and entry[0]["target"] == "plan-small/beta-api"
    after = client.get("/api/v1/rollouts/plan-small/events", headers=bearer(tokens["viewer"])).json()
    assert after["pending_approvals"] == []
