"""`releasepilot backtest` on the small simulated history: out-of-time scores replayed under the policy."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from releasepilot.cli import app


@pytest.fixture(scope="module")
def report(built_history):
    result = CliRunner().invoke(app, ["backtest", "--warehouse", str(built_history[1]), "--folds", "3",
                                      "--iterations", "40", "--window-sample", "150", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_counts_add_up(report):
    c = report["counts"]
    assert c["scored"] == c["failed"] + c["good"] > 100
    assert c["failed_stopped"] + c["failed_slowed"] + c["failed_missed"] == c["failed"] > 0
    assert c["good_delayed"] + c["good_slowed"] <= c["good"]
    assert c["windows_replayed"] == 150   # the window replay is a seeded sample of the scored releases


def test_policy_stops_failures_more_often_than_good_releases(report):
    c = report["counts"]
    assert report["auc"] > 0.6   # out-of-time scores carry signal on the simulated history
    assert c["failed_stopped"] / c["failed"] > c["good_delayed"] / c["good"]


def test_best_windows_never_cost_more_than_the_hours_used(report):
    assert 0 <= report["impact_best"] <= report["impact_actual"]
    assert report["impact_moved"] == pytest.approx(report["impact_actual"] - report["impact_best"], abs=1e-5)
    assert report["table"][0]["measure"].startswith("releases replayed")
