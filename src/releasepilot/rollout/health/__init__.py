"""Health sources: where gates and the detector read canary and baseline metrics from."""

from releasepilot.rollout.health.base import HealthSamples, HealthSource, HealthSourceUnavailable

__all__ = ["HealthSamples", "HealthSource", "HealthSourceUnavailable"]
