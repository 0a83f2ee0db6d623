"""Determinism and atomic writing of `simulate`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from releasepilot.errors import InputError
from releasepilot.simulation import SimulationConfig, generator, simulate

TINY = dict(services=6, teams=2, days=45)
EXPECTED_FILES = {"commits.jsonl", "deployments.csv", "incidents.csv", "oncall.csv", "traffic.csv",
                  "freezes.csv", "ground_truth.parquet", "catalog/groups.yaml"}


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tmp_path):
    simulate(SimulationConfig(seed=11, **TINY), tmp_path / "a")
    simulate(SimulationConfig(seed=11, **TINY), tmp_path / "b")
    a, b = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert EXPECTED_FILES <= set(a)
    assert sum(name.endswith("catalog-info.yaml") for name in a) == TINY["services"]
    assert a == b


def test_different_seed_gives_different_history(tmp_path):
    simulate(SimulationConfig(seed=11, **TINY), tmp_path / "a")
    simulate(SimulationConfig(seed=12, **TINY), tmp_path / "b")
    a, b = digest(tmp_path / "a"), digest(tmp_path / "b")
    for name in ("commits.jsonl", "deployments.csv", "traffic.csv", "ground_truth.parquet"):
        assert a[name] != b[name], name


def test_failed_run_writes_nothing_and_keeps_previous_history(tmp_path, monkeypatch):
    target = tmp_path / "sim"
    simulate(SimulationConfig(seed=1, **TINY), target)
    before = digest(target)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(generator, "write_incidents", broken)
    with pytest.raises(OSError, match="disk full"):
        simulate(SimulationConfig(seed=2, **TINY), target)
    assert digest(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sim"]  # no temp folder left behind

    fresh = tmp_path / "fresh"
    with pytest.raises(OSError):
        simulate(SimulationConfig(seed=2, **TINY), fresh)
    assert not fresh.exists()


def test_refuses_to_replace_a_folder_that_is_not_a_history(tmp_path):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a simulated history"):
        simulate(SimulationConfig(seed=1, **TINY), precious)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_more_teams_than_services_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="teams"):
        simulate(SimulationConfig(services=4, teams=6, days=30), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_summary_is_a_plain_dict(small_history):
    _, summary = small_history
    for key in ("failure_rate", "bayes_auc", "bayes_accuracy_at_0.5", "majority_accuracy", "seconds",
                "out_dir", "rows_deployments.csv", "rows_commits.jsonl", "rows_traffic.csv"):
        assert key in summary
    assert 0.5 < summary["bayes_auc"] <= 1.0
