"""The `HealthSource` interface: per-metric samples for a service's canary and baseline over a time range.

Implementations raise `HealthSourceUnavailable` when the source is down or returns nothing, so that a gate
turns that into an `error` analysis (and, past the limit, `inconclusive`): never a pass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from releasepilot.errors import ReleasePilotError

HEALTH_METRICS: tuple[str, ...] = ("error_rate", "latency_p99", "saturation", "throughput")


class HealthSourceUnavailable(ReleasePilotError):
    """The health source could not be reached, failed, or returned no samples."""

    exit_code = 4


@dataclass(frozen=True)
class HealthSamples:
    """Samples per metric for the canary and the baseline between `start` and `end`."""

    service: str
    start: datetime
    end: datetime
    canary: dict[str, np.ndarray] = field(default_factory=dict)
    baseline: dict[str, np.ndarray] = field(default_factory=dict)


class HealthSource(ABC):
    """Reads health metrics; one implementation per backend (simulated, prometheus)."""

    name: str = "base"

    @abstractmethod
    def fetch(self, service: str, start: datetime, end: datetime,
              metrics: Sequence[str] = HEALTH_METRICS) -> HealthSamples:
        """Samples in [start, end); raise `HealthSourceUnavailable` when down or empty."""
