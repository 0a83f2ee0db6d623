"""A simulated fleet: the simulated deploy target plus the telemetry its services emit.

When a service's new version is deployed, its telemetry (from `simulation.telemetry`) starts at the
clock's time, with the canary's traffic weight following the steps and the service's injected
`FaultSpec` (onset counted from the first step). A rollback replaces it with healthy telemetry of the old
version. `SimulatedHealthSource(fleet.telemetry)` reads it, so gates see what the deploys did.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np

from releasepilot.rollout.clock import Clock
from releasepilot.rollout.targets.base import DeployResult, RolloutStep
from releasepilot.rollout.targets.simulated import SimulatedTarget
from releasepilot.simulation.telemetry import FaultSpec, ServiceProfile, Telemetry, simulate_telemetry

DEFAULT_HORIZON_MINUTES = 3 * 24 * 60    # telemetry length per deployment (longer than any plan's bakes)
ROLLED_BACK_WEIGHT = 0.5                 # after a rollback both pools run the old version


class FleetTarget(SimulatedTarget):
    """The simulated target, generating each deployed service's telemetry at the clock's time."""

    name = "simulated"

    def __init__(self, clock: Clock, faults: Mapping[str, FaultSpec] | None = None, *, seed: int = 0,
                 horizon_minutes: int = DEFAULT_HORIZON_MINUTES,
                 profiles: Mapping[str, ServiceProfile] | None = None, **target_options):
        super().__init__(**target_options)
        self.clock = clock
        self.faults = dict(faults or {})
        self.seed = seed
        self.horizon_minutes = horizon_minutes
        self.profiles = dict(profiles or {})
        self.telemetry: dict[str, Telemetry] = {}
        self._deploys: dict[str, tuple[str, datetime, list[tuple[int, float]]]] = {}
        self._first_deploy: dict[str, datetime] = {}

    def _seed(self, service: str, salt: str) -> int:
        return (self.seed * 1_000_003 + zlib.crc32(f"{service}/{salt}".encode())) % 2**32

    def deploy_step(self, service: str, version: str, step: RolloutStep) -> DeployResult:
        result = super().deploy_step(service, version, step)
        now = self.clock.now()
        current = self._deploys.get(service)
        if current is None or current[0] != version:
            current = (version, now, [])
            self._deploys[service] = current
            self._first_deploy[service] = now
        _, start, changes = current
        minute = max(int((now - start).total_seconds() // 60), 0)
        changes.append((minute, step.weight / 100.0))
        weights = np.full(self.horizon_minutes, changes[0][1])
        for at, weight in changes:
            weights[min(at, self.horizon_minutes - 1):] = weight
        self.telemetry[service] = simulate_telemetry(
            self.horizon_minutes, profile=self.profiles.get(service), start=start,
            fault=self.faults.get(service, FaultSpec()), canary_weight=weights,
            seed=self._seed(service, version))
        return result

    def rollback(self, service: str, previous_version: str) -> DeployResult:
        result = super().rollback(service, previous_version)
        self._deploys.pop(service, None)
        self.telemetry[service] = simulate_telemetry(
            self.horizon_minutes, profile=self.profiles.get(service), start=self.clock.now(),
            canary_weight=ROLLED_BACK_WEIGHT, seed=self._seed(service, f"rollback-{previous_version}"))
        return result

    def fault_onset(self, service: str) -> datetime | None:
        """When the injected fault of `service`'s last new version started (None when healthy or not deployed)."""
        fault = self.faults.get(service)
        started = self._first_deploy.get(service)
        if fault is None or not fault.is_fault or started is None:
            return None
        return started + timedelta(minutes=fault.onset_min)


def parse_fault(text: str) -> tuple[str, FaultSpec]:
    """`service=shape:metric:size[:onset[:duration]]` -> (service, FaultSpec); raises InputError."""
    from releasepilot.errors import InputError

    try:
        service, spec = text.split("=", 1)
        parts = spec.split(":")
        shape, metric, size = parts[0], parts[1], float(parts[2])
        onset = int(parts[3]) if len(parts) > 3 else 0
        duration = int(parts[4]) if len(parts) > 4 else (0 if shape == "step" else 30)
        return service.strip(), FaultSpec(shape, metric, onset, size, duration)
    except (ValueError, IndexError) as exc:
        raise InputError(f"{text!r}: expected service=shape:metric:size[:onset_min[:duration_min]] "
                         f"like checkout-api=step:error_rate:4 ({exc})", field="--fault") from None
