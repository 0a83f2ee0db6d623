"""Synthetic organisation generator (`releasepilot simulate`): a realistic release history with known truth.

Public surface: `SimulationConfig`, `simulate(config, out_dir, on_progress)` -> `SimulationSummary`.
"""

from __future__ import annotations

from releasepilot.simulation.config import SimulationConfig
from releasepilot.simulation.generator import SimulationSummary, simulate

__all__ = ["SimulationConfig", "SimulationSummary", "simulate"]
