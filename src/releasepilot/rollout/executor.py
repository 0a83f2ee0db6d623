"""The release executor: carries out an `ExecutionPlan` on a deploy target, judged by a health source.

Waves run in order; the releases of a wave run in parallel threads (at most `max_parallel`). Each release
goes step by step: event before, deploy (the target retries; a final `DeployError` fails the step), bake
and gate (`step_gate.run_gate`), event after; then a watch period at 100%. A failed gate rolls the release
back (the rollback is gated too) and then, when the plan says so, the releases of the train that depend on
it, latest first; releases that depend on it and have not started are skipped. A marginal or
inconclusive gate (the health source down included) asks a person through the injected `approver`; with
nobody to ask it rolls back: it never passes blind. Everything is written to the event log before and
after it happens, so running the same plan again resumes where it stopped without repeating a step.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from releasepilot.rollout import events as ev
from releasepilot.rollout.clock import Clock
from releasepilot.rollout.execution_plan import ExecutionPlan, ReleaseExecution
from releasepilot.rollout.health.base import HealthSource
from releasepilot.rollout.lock import DEFAULT_LOCK_TIMEOUT_SECONDS, acquire_services, release_services
from releasepilot.rollout.outcomes import ReleaseOutcome, record_outcomes
from releasepilot.rollout.step_gate import GateOutcome, GateSettings, ReleaseWatch, run_gate
from releasepilot.rollout.targets.base import DeployError, DeployTarget, RolloutStep

SUCCEEDED, ROLLED_BACK, ROLLBACK_FAILED, SKIPPED = "succeeded", "rolled_back", "rollback_failed", "skipped"
HELD = "held"          # not deployed: its decision (after overrides) is NO-GO


@dataclass(frozen=True)
class ApprovalRequest:
    """What a person is asked: the release, the step, the gate's status, reasons and evidence."""

    plan_id: str
    release_id: str
    service: str
    step_index: int
    status: str
    reasons: tuple[str, ...]
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ApprovalAnswer:
    approve: bool
    by: str
    reason: str = ""


Approver = Callable[[ApprovalRequest], ApprovalAnswer]


def refuse(request: ApprovalRequest) -> ApprovalAnswer:
    """The approver when nobody can be asked: an undecided gate rolls back."""
    return ApprovalAnswer(False, "policy:no-approver", "nobody to ask: an undecided gate never passes blind")


@dataclass
class ExecutionResult:
    plan_id: str
    run_id: str
    status: str
    resumed: bool
    outcomes: list[ReleaseOutcome]

    def as_dict(self) -> dict[str, Any]:
        return ev.to_jsonable(self)


class ReleaseExecutor:
    """Runs one plan; create one per run (`execute` may be called again on a new instance to resume)."""

    def __init__(self, plan: ExecutionPlan, target: DeployTarget, health: HealthSource, clock: Clock,
                 warehouse: Path | str, *, approver: Approver = refuse, gate: GateSettings | None = None,
                 fault_onset: Callable[[str], datetime | None] | None = None,
                 lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS, run_id: str | None = None,
                 held: Mapping[str, str] | None = None):
        self.plan, self.target, self.health, self.clock = plan, target, health, clock
        self.warehouse = Path(warehouse)
        self.approver, self.gate = approver, gate or GateSettings()
        self.fault_onset = fault_onset or (lambda service: None)
        self.lock_timeout = lock_timeout
        self.held = dict(held or {})          # release_id -> why it may not ship (a NO-GO decision)
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.log = ev.EventLog(self.warehouse, plan.plan_id, self.run_id)
        self._approval_guard = threading.Lock()
        self._outcomes: dict[str, ReleaseOutcome] = {}
        self._started: dict[str, datetime] = {}
        self._approvers: dict[str, list[str]] = {}

    def _sleep_until(self, moment: datetime) -> None:
        """Bake: a wall-clock wait lets other processes at the warehouse; a simulated one is instant."""
        if self.clock.instant:
            self.clock.sleep_until(moment)
            return
        with ev.session_released(self.warehouse):
            self.clock.sleep_until(moment)

    # -- events -------------------------------------------------------------------------------------
    def _event(self, kind: str, release: ReleaseExecution | None = None, step: int | None = None,
               status: str | None = None, **detail: Any) -> None:
        self.log.append(kind, at=self.clock.now(), release_id=release.release_id if release else None,
                        service=release.service if release else None, step_index=step, status=status,
                        detail=detail)

    # -- the plan -----------------------------------------------------------------------------------
    def execute(self) -> ExecutionResult:
        """Run (or resume) the plan to its end; returns each release's outcome."""
        with ev.store_session(self.warehouse):
            return self._execute()

    def _execute(self) -> ExecutionResult:
        plan = self.plan
        past = self.log.events()
        resumed = bool(past)
        if past:                      # continue the timeline where the last run stopped
            self.clock.sleep_until(max(e.at for e in past))
        acquire_services(self.warehouse, [r.service for r in plan.releases], plan.plan_id, self.run_id,
                         timeout=self.lock_timeout)
        self._event(ev.PLAN_STARTED, status="resumed" if resumed else "started",
                    waves=[[r.release_id for r in w] for w in plan.waves], max_parallel=plan.max_parallel)
        self._restore_outcomes(past)
        for wave_index, wave in enumerate(plan.waves, start=1):
            progress = ev.release_progress(self.log.events())
            todo = [r for r in wave if progress.get(r.release_id, ev.ReleaseProgress()).finished is None]
            wave_start = self.clock.now()
            if todo:
                workers = min(plan.max_parallel, len(todo))
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="release") as pool:
                    futures = [pool.submit(contextvars.copy_context().run, self._run_release, r,
                                           progress.get(r.release_id, ev.ReleaseProgress()), wave_start)
                               for r in todo]
                    errors = [f.exception() for f in futures]
                first_error = next((e for e in errors if e is not None), None)
                if first_error is not None:
                    raise first_error
            self._after_wave(wave)
        statuses = {o.status for o in self._outcomes.values()}
        status = (SUCCEEDED if statuses <= {SUCCEEDED} else "needs_attention" if ROLLBACK_FAILED in statuses
                  else ROLLED_BACK if ROLLED_BACK in statuses else "partial")      # partial: some were held
        record_outcomes(self.warehouse, list(self._outcomes.values()))
        self._event(ev.PLAN_FINISHED, status=status,
                    releases={k: o.status for k, o in self._outcomes.items()})
        release_services(self.warehouse, plan.plan_id)
        return ExecutionResult(plan.plan_id, self.run_id, status, resumed,
                               [self._outcomes[r.release_id] for r in plan.releases if r.release_id in self._outcomes])

    def _restore_outcomes(self, past: list[ev.Event]) -> None:
        for e in past:
            if e.kind == ev.RELEASE_FINISHED and e.release_id and "outcome" in e.detail:
                self._outcomes[e.release_id] = ReleaseOutcome.from_dict(e.detail["outcome"])

    # -- one release --------------------------------------------------------------------------------
    def _run_release(self, release: ReleaseExecution, progress: ev.ReleaseProgress, wave_start: datetime) -> None:
        self.clock.start_branch(wave_start)
        try:
            self._release_body(release, progress)
        finally:
            self.clock.end_branch()

    def _release_body(self, release: ReleaseExecution, progress: ev.ReleaseProgress) -> None:
        if progress.started_at is None and release.release_id in self.held:
            self._finish_not_deployed(release, HELD, self.held[release.release_id], self.clock.now())
            return
        started = progress.started_at or self.clock.now()
        self._started[release.release_id] = started
        if progress.started_at is None:
            self._event(ev.RELEASE_STARTED, release, version=release.version,
                        previous_version=release.previous_version, steps=len(release.steps))
        failure = progress.failure
        watch = ReleaseWatch()
        if failure is None:
            failure = self._steps(release, progress, watch)
        if failure is None:
            self._finish(release, SUCCEEDED, "every step and the watch passed their gates", started)
            return
        status, verified = self._rollback(release, failure.get("reason", "gate failed"))
        reason = failure.get("reason", "gate failed") + ("" if verified else "; rollback not verified healthy")
        self._finish(release, status, reason, started, failure=failure)

    def _steps(self, release: ReleaseExecution, progress: ev.ReleaseProgress,
               watch: ReleaseWatch) -> dict[str, Any] | None:
        """Every step then the watch; returns the failure (reason, decided_at, step) or None."""
        units = [(s.index, s.weight, s.bake_minutes, s.scope) for s in release.steps]
        if self.plan.watch_minutes > 0:
            units.append((len(release.steps) + 1, None, self.plan.watch_minutes, "watch"))
        for index, weight, minutes, scope in units:
            if index in progress.completed:
                continue
            step_start = self.clock.now()
            self._event(ev.STEP_STARTED, release, index, weight=weight, scope=scope, bake_minutes=minutes,
                        unit="watch" if weight is None else "step")
            if weight is not None and index not in progress.deployed:
                try:
                    result = self.target.deploy_step(release.service, release.version, RolloutStep(index, weight))
                except DeployError as exc:
                    failure = {"reason": f"deploy of step {index} failed: {exc}", "decided_at": self.clock.now(),
                               "step_start": step_start, "cause": "deploy"}
                    self._event(ev.STEP_FAILED, release, index, status="deploy_error", **failure)
                    return failure
                self._event(ev.STEP_DEPLOYED, release, index, status="ok", weight=weight,
                            attempts=result.attempts, target=self.target.name, detail=result.detail)
            gate = run_gate(self.health, release.service, step_start, minutes, watch, self._sleep_until,
                            self.gate)
            self._event(ev.GATE, release, index, status=gate.phase, analyses=list(gate.analyses),
                        reasons=list(gate.reasons), decided_at=gate.decided_at)
            passed, decided_by, why = self._decide(release, index, gate)
            self._event(ev.DECISION, release, index, status="continue" if passed else "rollback",
                        gate_phase=gate.phase, decided_by=decided_by, reason=why,
                        predicted_minutes_to_breach=gate.predicted_minutes_to_breach)
            if not passed:
                failure = {"reason": why, "decided_at": gate.decided_at, "step_start": step_start,
                           "cause": "gate", "decided_by": decided_by,
                           "predicted_minutes_to_breach": gate.predicted_minutes_to_breach}
                self._event(ev.STEP_FAILED, release, index, status=gate.phase, **failure)
                return failure
            self._event(ev.STEP_COMPLETED, release, index, status="passed", decided_by=decided_by)
        return None

    def _decide(self, release: ReleaseExecution, index: int, gate: GateOutcome) -> tuple[bool, str, str]:
        """successful -> continue; failed -> roll back; inconclusive -> ask a person."""
        if gate.phase == "successful":
            return True, "gate", "; ".join(gate.reasons[:1]) or "gate passed"
        if gate.phase == "failed":
            return False, "gate", "gate failed: " + "; ".join(gate.reasons)
        request = ApprovalRequest(self.plan.plan_id, release.release_id, release.service, index, gate.phase,
                                  gate.reasons, {"analyses": ev.to_jsonable(list(gate.analyses))})
        with self._approval_guard:                  # one question at a time
            self._event(ev.APPROVAL_REQUESTED, release, index, status=gate.phase, reasons=list(gate.reasons))
            try:
                with ev.session_released(self.warehouse):   # a person may take minutes: free the file
                    answer = self.approver(request)
            except Exception as exc:  # noqa: BLE001 - a timeout or a broken channel: nobody approved
                answer = ApprovalAnswer(False, "policy:approval-failed", f"{type(exc).__name__}: {exc}")
            self._event(ev.APPROVAL_ANSWERED, release, index, status="approved" if answer.approve else "rejected",
                        by=answer.by, reason=answer.reason)
        if answer.approve:
            self._approvers.setdefault(release.release_id, []).append(answer.by)
        verb = "approved" if answer.approve else "rolled back"
        return answer.approve, answer.by, f"{gate.phase} gate {verb} by {answer.by}: {answer.reason}"

    def _rollback(self, release: ReleaseExecution, reason: str) -> tuple[str, bool]:
        """Roll back and watch the old version; returns (status, verified healthy)."""
        start = self.clock.now()
        self._event(ev.ROLLBACK_STARTED, release, reason=reason, to_version=release.previous_version)
        try:
            result = self.target.rollback(release.service, release.previous_version)
        except DeployError as exc:
            self._event(ev.ROLLBACK_FAILED, release, status="deploy_error", error=str(exc))
            return ROLLBACK_FAILED, False
        gate = run_gate(self.health, release.service, start, self.plan.rollback_bake_minutes, ReleaseWatch(),
                        self._sleep_until, replace(self.gate, use_detector=False, use_predictive=False))
        self._event(ev.ROLLBACK_COMPLETED, release, status=gate.phase, attempts=result.attempts,
                    analyses=list(gate.analyses), reasons=list(gate.reasons))
        return ROLLED_BACK, gate.phase == "successful"

    def _finish(self, release: ReleaseExecution, status: str, reason: str, started: datetime,
                failure: dict[str, Any] | None = None) -> None:
        detect = None, None
        if failure and failure.get("cause") == "gate":
            detect = self._time_to_detect(release, failure)
        outcome = ReleaseOutcome(
            plan_id=self.plan.plan_id, release_id=release.release_id, service=release.service,
            version=release.version, previous_version=release.previous_version, status=status, reason=reason,
            started_at=started, finished_at=self.clock.now(), time_to_detect_minutes=detect[0],
            detected_from=detect[1],
            decided_by=(failure or {}).get("decided_by") or ", ".join(self._approvers.get(release.release_id, ["gate"])),
            commit_from=release.commit_from, commit_to=release.commit_to,
            predicted_minutes_to_breach=(failure or {}).get("predicted_minutes_to_breach"))
        self._outcomes[release.release_id] = outcome
        self._event(ev.RELEASE_FINISHED, release, status=status, reason=reason, outcome=outcome.as_dict())

    def _time_to_detect(self, release: ReleaseExecution, failure: dict[str, Any]) -> tuple[float, str]:
        decided = ev.as_utc(_parse_time(failure["decided_at"]))
        onset = self.fault_onset(release.service)
        origin, basis = (onset, "fault_onset") if onset is not None else (
            ev.as_utc(_parse_time(failure["step_start"])), "step_start")
        return (decided - origin).total_seconds() / 60.0, basis

    # -- dependents -----------------------------------------------------------------------------------
    def _after_wave(self, wave: tuple[ReleaseExecution, ...]) -> None:
        """Roll back (latest first) or skip the releases that depend on a release rolled back in this wave."""
        plan = self.plan
        failed = [r for r in wave if self._outcomes.get(r.release_id) and
                  self._outcomes[r.release_id].status in (ROLLED_BACK, ROLLBACK_FAILED, HELD)
                  and not self._outcomes[r.release_id].reason.startswith("dependent of")]
        order = [r.release_id for r in plan.releases]
        for bad in failed:
            dependents = plan.dependents_of(bad.release_id)
            for rid in sorted(dependents, key=order.index, reverse=True):
                release = plan.release(rid)
                outcome = self._outcomes.get(rid)
                if outcome is None:
                    started = self.clock.now()
                    self._finish_skipped(release, bad, started)
                elif outcome.status == SUCCEEDED and plan.rollback_dependents:
                    reason = f"dependent of {bad.release_id} ({bad.service}), which was rolled back"
                    status, verified = self._rollback(release, reason)
                    self._finish(release, status, reason + ("" if verified else "; rollback not verified healthy"),
                                 outcome.started_at)

    def _finish_skipped(self, release: ReleaseExecution, cause: ReleaseExecution, at: datetime) -> None:
        what = "held (NO-GO)" if self._outcomes[cause.release_id].status == HELD else "rolled back"
        reason = f"dependent of {cause.release_id} ({cause.service}), which was {what}: not deployed"
        self._finish_not_deployed(release, SKIPPED, reason, at)

    def _finish_not_deployed(self, release: ReleaseExecution, status: str, reason: str, at: datetime) -> None:
        outcome = ReleaseOutcome(self.plan.plan_id, release.release_id, release.service, release.version,
                                 release.previous_version, status, reason, at, at, None, None, "policy",
                                 release.commit_from, release.commit_to, None)
        self._outcomes[release.release_id] = outcome
        self._event(ev.RELEASE_FINISHED, release, status=status, reason=reason, outcome=outcome.as_dict())


def _parse_time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def execute_plan(plan: ExecutionPlan, target: DeployTarget, health: HealthSource, clock: Clock,
                 warehouse: Path | str, **options: Any) -> ExecutionResult:
    """Run or resume `plan` (see `ReleaseExecutor`)."""
    return ReleaseExecutor(plan, target, health, clock, warehouse, **options).execute()


__all__ = ["ApprovalAnswer", "ApprovalRequest", "Approver", "ExecutionResult", "ReleaseExecutor", "execute_plan",
           "refuse"]
