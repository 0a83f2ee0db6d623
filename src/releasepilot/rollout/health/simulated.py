"""A health source backed by the simulator's telemetry model (the default when nothing real is wired).

Each service has a `Telemetry` (minute 0 = `telemetry.start`); `fetch` slices the minutes in the range.
`down` makes every read fail, to exercise the "source down -> inconclusive" path.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from datetime import datetime

from releasepilot.rollout.health.base import (
    HEALTH_METRICS,
    HealthSamples,
    HealthSource,
    HealthSourceUnavailable,
)
from releasepilot.simulation.telemetry import Telemetry


class SimulatedHealthSource(HealthSource):
    """Serves slices of simulated telemetry per service."""

    name = "simulated"

    def __init__(self, fleet: MutableMapping[str, Telemetry] | None = None, *, down: bool = False):
        self.fleet: MutableMapping[str, Telemetry] = fleet if fleet is not None else {}
        self.down = down

    def fetch(self, service: str, start: datetime, end: datetime,
              metrics: Sequence[str] = HEALTH_METRICS) -> HealthSamples:
        if self.down:
            raise HealthSourceUnavailable("simulated health source is down")
        telemetry = self.fleet.get(service)
        if telemetry is None:
            raise HealthSourceUnavailable(f"no telemetry for service {service!r}")
        first = int((start - telemetry.start).total_seconds() // 60)
        last = int((end - telemetry.start).total_seconds() // 60)
        canary, baseline = telemetry.window(first, last)
        if not len(next(iter(canary.values()))):
            raise HealthSourceUnavailable(f"no samples for {service!r} between {start} and {end}")
        return HealthSamples(service, start, end, {m: canary[m] for m in metrics},
                             {m: baseline[m] for m in metrics})
