"""The `DeployTarget` interface: shift a service's traffic to a version step by step, or roll it back.

Values that reach a target (service, version, weight) are checked against strict patterns first, so a
target that builds commands or requests from them never sees anything else.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from releasepilot.errors import InputError, ReleasePilotError

SERVICE_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")          # a DNS label
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")            # semver, git sha, tag


class DeployError(ReleasePilotError):
    """A deploy step or rollback failed (after its retries)."""

    exit_code = 5


@dataclass(frozen=True)
class RolloutStep:
    """One step of a staged rollout: its position and the canary's traffic weight in percent."""

    index: int
    weight: int

    def __post_init__(self) -> None:
        if not isinstance(self.weight, int) or isinstance(self.weight, bool) or not 0 <= self.weight <= 100:
            raise InputError(f"weight {self.weight!r}: expected an integer percentage 0..100", field="weight")
        if not isinstance(self.index, int) or self.index < 0:
            raise InputError(f"step index {self.index!r}: expected an integer >= 0", field="index")


@dataclass(frozen=True)
class DeployResult:
    """What a target did: action, values, success, attempts and any output worth keeping."""

    action: str
    service: str
    version: str
    weight: int | None
    ok: bool
    attempts: int = 1
    detail: dict[str, Any] = field(default_factory=dict)


def validate_service(service: str) -> str:
    if not isinstance(service, str) or not SERVICE_PATTERN.match(service):
        raise InputError(f"service {service!r}: expected a lowercase DNS label like 'checkout-api'",
                         field="service")
    return service


def validate_version(version: str) -> str:
    if not isinstance(version, str) or not VERSION_PATTERN.match(version):
        raise InputError(f"version {version!r}: expected letters, digits and . _ + - (like 1.4.2 or a sha)",
                         field="version")
    return version


class DeployTarget(ABC):
    """Carries out rollout steps and rollbacks for services."""

    name: str = "base"

    @abstractmethod
    def deploy_step(self, service: str, version: str, step: RolloutStep) -> DeployResult:
        """Send `step.weight` percent of `service`'s traffic to `version`."""

    @abstractmethod
    def rollback(self, service: str, previous_version: str) -> DeployResult:
        """Send all of `service`'s traffic back to `previous_version`."""

    @abstractmethod
    def status(self, service: str) -> dict[str, Any]:
        """What the target knows about `service` now (version, weight...)."""
