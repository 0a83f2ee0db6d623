"""Prefect flow `run_release`: carry out a stored plan with health gates, approvals and rollback.

Thin: a task loads the plan (I/O, retried), the library executor runs it (not retried: it resumes from
its event log instead), and a markdown artifact summarises the outcomes. An undecided gate pauses the
flow run with an `ApprovalInput` form: a release manager approves or rolls back from the Prefect UI, and
who decided is recorded in the event log.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.input import RunInput

DEFAULT_APPROVAL_TIMEOUT_SECONDS = 3600
DEFAULT_APPROVAL_POLL_SECONDS = 5


class ApprovalInput(RunInput):
    """What the release manager answers: approve (continue) or not (roll back), who, and why."""

    approve: bool
    approver: str
    reason: str = ""


def prefect_approver(timeout: int = DEFAULT_APPROVAL_TIMEOUT_SECONDS, poll: int = DEFAULT_APPROVAL_POLL_SECONDS,
                     warehouse=None):
    """An approver that pauses this flow run until a person answers (a timeout counts as a refusal). With a
    warehouse, the paused flow run id is written to the event log first, so the API can resume it."""
    from prefect import get_run_logger
    from prefect.flow_runs import pause_flow_run

    from releasepilot.rollout.executor import ApprovalAnswer

    def approve(request) -> ApprovalAnswer:
        get_run_logger().warning("release %s (%s) step %s is %s: %s. Approve or roll back in the UI.",
                                 request.release_id, request.service, request.step_index, request.status,
                                 "; ".join(request.reasons))
        key = f"approve-{request.release_id}-{request.step_index}"
        if warehouse is not None:
            from prefect.runtime import flow_run

            from releasepilot.rollout.events import record_approval_waiting

            record_approval_waiting(warehouse, request.plan_id, request.release_id, request.step_index,
                                    flow_run_id=str(flow_run.id), key=key)
        answer = pause_flow_run(wait_for_input=ApprovalInput, timeout=timeout, poll_interval=poll, key=key)
        return ApprovalAnswer(bool(answer.approve), f"prefect-ui:{answer.approver}", answer.reason)

    return approve


@task(retries=2, retry_delay_seconds=2)
def load_plan(plan_id: str, warehouse: str | None) -> dict:
    from releasepilot.rollout.execution_plan import load_execution_plan
    from releasepilot.rollout.runner import resolve_warehouse

    return load_execution_plan(resolve_warehouse(warehouse), plan_id).to_dict()


@task(retries=2, retry_delay_seconds=2)
def publish_summary(result: dict) -> None:
    from prefect.artifacts import create_markdown_artifact

    lines = [f"# Release {result['plan_id']}: {result['status']}", "",
             "| release | service | status | time to detect (min) | decided by | reason |", "|---|---|---|---|---|---|"]
    for o in result["outcomes"]:
        ttd = "" if o["time_to_detect_minutes"] is None else f"{o['time_to_detect_minutes']:.0f}"
        lines.append(f"| {o['release_id']} | {o['service']} | {o['status']} | {ttd} | {o['decided_by']} | "
                     f"{o['reason'][:120]} |")
    create_markdown_artifact(markdown="\n".join(lines), key="release-" + "".join(
        c if c.isalnum() else "-" for c in result["plan_id"].lower()))


@flow(name="run_release")
def run_release(plan_id: str, target: str = "simulated", health: str = "simulated", warehouse: str | None = None,
                faults: dict | None = None, approval_timeout: int = DEFAULT_APPROVAL_TIMEOUT_SECONDS,
                approval_poll: int = DEFAULT_APPROVAL_POLL_SECONDS) -> dict:
    """Run (or resume) the stored execution plan `plan_id` and return each release's outcome."""
    from releasepilot.rollout.runner import resolve_warehouse, run_stored_plan

    load_plan(plan_id, warehouse)                 # fail early (and visibly) when the plan is missing
    result = run_stored_plan(plan_id, target=target, health=health, warehouse=warehouse, faults=faults,
                             approver=prefect_approver(approval_timeout, approval_poll,
                                                       resolve_warehouse(warehouse))).as_dict()
    publish_summary(result)
    return result


if __name__ == "__main__":
    import sys

    run_release(sys.argv[1])
