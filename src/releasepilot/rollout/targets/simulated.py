"""A deploy target that only keeps state: which version takes how much traffic, per service.

The default target: with a simulated health source it lets a release flow run end to end with no
cluster. `fail_next` makes the next N calls fail, to exercise the retry and rollback paths.
"""

from __future__ import annotations

from typing import Any

from releasepilot.rollout.targets.base import (
    DeployError,
    DeployResult,
    DeployTarget,
    RolloutStep,
    validate_service,
    validate_version,
)
from releasepilot.rollout.targets.retry import DEFAULT_ATTEMPTS, retry_with_backoff


class SimulatedTarget(DeployTarget):
    """In-memory fleet: `state[service] = {"version", "weight", "stable_version"}` plus a history."""

    name = "simulated"

    def __init__(self, *, fail_next: int = 0, attempts: int = DEFAULT_ATTEMPTS, base_delay: float = 0.0):
        self.state: dict[str, dict[str, Any]] = {}
        self.history: list[DeployResult] = []
        self.fail_next = fail_next
        self.attempts = attempts
        self.base_delay = base_delay

    def _maybe_fail(self) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise DeployError("simulated deploy failure")

    def _run(self, action: str, service: str, version: str, weight: int | None) -> DeployResult:
        def once() -> None:
            self._maybe_fail()
            entry = self.state.setdefault(service, {"version": None, "weight": 0, "stable_version": None})
            if action == "rollback":
                entry.update(version=version, weight=100, stable_version=version)
            else:
                entry.update(version=version, weight=weight)
                if weight == 100:
                    entry["stable_version"] = version

        try:
            _, attempts = retry_with_backoff(once, attempts=self.attempts, base_delay=self.base_delay,
                                             retry_on=(DeployError,))
        except DeployError as exc:
            result = DeployResult(action, service, version, weight, False, self.attempts, {"error": str(exc)})
            self.history.append(result)
            raise DeployError(f"{action} of {service} {version} failed after {self.attempts} attempts") from exc
        result = DeployResult(action, service, version, weight, True, attempts)
        self.history.append(result)
        return result

    def deploy_step(self, service: str, version: str, step: RolloutStep) -> DeployResult:
        return self._run("deploy_step", validate_service(service), validate_version(version), step.weight)

    def rollback(self, service: str, previous_version: str) -> DeployResult:
        return self._run("rollback", validate_service(service), validate_version(previous_version), None)

    def status(self, service: str) -> dict[str, Any]:
        return dict(self.state.get(validate_service(service), {"version": None, "weight": 0}))
