"""Fixtures for the simulator tests: one small generated history shared by the format tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasepilot.simulation import SimulationConfig, simulate

SMALL = dict(seed=3, services=12, teams=4, days=120, scale=1.0)


@pytest.fixture(scope="module")
def small_history(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sim") / "history"
    summary = simulate(SimulationConfig(**SMALL), out)
    return out, summary.as_dict()
