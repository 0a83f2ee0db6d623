"""A paused rollout (the real `run_release` Prefect flow, health source down) approved from the release page;
the API resumes the flow run with its ApprovalInput and the rollout finishes."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from releasepilot.rollout import events as ev
from releasepilot.rollout.execution_plan import ExecutionPlan, ReleaseExecution, StepSpec, save_execution_plan

from .seed import allow_rollout

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "flows"))

PAUSE_WAIT_MS = 90_000
FINISH_WAIT_SECONDS = 90


def test_a_paused_rollout_is_approved_from_the_page(prefect_server, open_as, seeded):
    from run_release import run_release

    plan_id, service = seeded.unscored_plan, seeded.unscored_service
    steps = (StepSpec(1, 100, None, 5),)
    save_execution_plan(seeded.warehouse, ExecutionPlan(plan_id, "approval-train", (
        (ReleaseExecution(service, service, "2.0.0", "1.9.0", (), steps),),), watch_minutes=0))
    allow_rollout(seeded.warehouse, plan_id, service)
    box: dict = {}

    def run() -> None:
        try:
            box["result"] = run_release(plan_id, health="down", warehouse=str(seeded.warehouse),
                                        approval_timeout=120, approval_poll=1)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertions below
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    page = open_as("release-manager", f"/releases/{plan_id}/{service}")
    page.wait_for_selector(f'.approval[data-release="{service}"] button.approve', timeout=PAUSE_WAIT_MS)
    assert "Paused: waiting for approval" in page.inner_text(".approval")
    page.wait_for_function("document.querySelector('.steps .step[data-step=\"1\"]')?.className.includes('paused')",
                           timeout=10_000)
    page.fill(".approval input.approval-reason", "metrics outage; checked the service by hand")
    page.click(".approval button.approve")
    page.wait_for_selector("#approval-result.ok", timeout=30_000)
    worker.join(FINISH_WAIT_SECONDS)
    assert not worker.is_alive(), "the flow run did not finish after the approval"
    assert "error" not in box, box.get("error")
    assert box["result"]["status"] == "succeeded"
    answered = [e for e in ev.read_events(seeded.warehouse, plan_id) if e.kind == ev.APPROVAL_ANSWERED]
    assert len(answered) == 1 and answered[0].status == "approved"
    assert "release-manager-person" in answered[0].detail["by"]
    assert answered[0].detail["reason"] == "metrics outage; checked the service by hand"
    page.wait_for_selector("#events li.release_finished", timeout=15_000)    # the page follows without a reload
    assert page.locator(".approval button.approve").count() == 0
