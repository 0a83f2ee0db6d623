"""Sane rates and realistic shapes at a small size; drift=0 is stationary, drift>0 is not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from releasepilot.simulation import SimulationConfig, simulate


def frames(folder: Path):
    dep = pl.read_csv(folder / "deployments.csv", infer_schema=False)
    inc = pl.read_csv(folder / "incidents.csv", infer_schema=False)
    truth = pl.read_parquet(folder / "ground_truth.parquet")
    return dep.join(truth, on="deployment_id"), inc


def test_rates_are_sane(small_history):
    folder, summary = small_history
    dep, inc = frames(folder)
    prod = dep.filter(pl.col("environment") == "production")
    assert 0.03 < prod["failed"].mean() < 0.3
    assert 0.05 < (dep["environment"] == "staging").mean() < 0.4
    assert abs(summary["failure_rate"] - prod["failed"].mean()) < 1e-12
    failed = prod.filter("failed")
    # most failed releases are rolled back or failed; some succeeded and then caused an incident
    assert 0.6 < failed["status"].is_in(["rolled_back", "failed"]).mean() < 0.95
    assert (prod.filter(~pl.col("failed"))["status"] == "succeeded").all()
    linked = set(inc["deployment_id"].drop_nulls())
    silent = failed.filter(pl.col("status") == "succeeded")
    assert silent.height > 0 and silent["deployment_id"].is_in(list(linked)).all()
    # the label is recoverable from deployments + incidents alone
    label = prod["status"].is_in(["rolled_back", "failed"]) | prod["deployment_id"].is_in(list(linked))
    assert (label == prod["failed"]).all()
    # background incidents exist and linked incidents point at failed production releases
    assert inc["deployment_id"].is_null().sum() > 0
    linked_rows = dep.filter(pl.col("deployment_id").is_in(list(linked)))
    assert linked_rows["failed"].all() and (linked_rows["environment"] == "production").all()


def test_deploys_mostly_in_working_hours_and_traffic_has_seasonality(small_history):
    folder, _ = small_history
    dep, _ = frames(folder)
    started = dep["started_at"].str.to_datetime("%Y-%m-%dT%H:%M:%SZ")
    weekend = (started.dt.weekday() >= 6).mean()
    assert 0.01 < weekend < 0.15
    traffic = pl.read_csv(folder / "traffic.csv").with_columns(
        pl.col("hour").str.to_datetime("%Y-%m-%dT%H:%M:%SZ").dt.hour().alias("h"))
    by_hour = traffic.group_by("service", "region", "h").agg(pl.col("requests").mean())
    spread = by_hour.group_by("service", "region").agg((pl.col("requests").max() / pl.col("requests").min()).alias("r"))
    assert (spread["r"] > 1.8).all()  # daily seasonality


def test_oncall_has_weekly_rotation_with_gaps(small_history):
    folder, _ = small_history
    oncall = pl.read_csv(folder / "oncall.csv", infer_schema=False).with_columns(
        pl.col("starts_at").str.to_datetime("%Y-%m-%dT%H:%M:%SZ"), pl.col("ends_at").str.to_datetime("%Y-%m-%dT%H:%M:%SZ"))
    hours = ((oncall["ends_at"] - oncall["starts_at"]).dt.total_hours())
    assert ((hours >= 167) & (hours <= 169)).mean() > 0.7
    nxt = oncall.sort("team", "starts_at").with_columns(pl.col("starts_at").shift(-1).over("team").alias("next"))
    gaps = nxt.filter(pl.col("next").is_not_null() & (pl.col("next") > pl.col("ends_at")))
    assert gaps.height > 0


def test_authors_mostly_commit_to_their_teams_services(small_history):
    import yaml

    folder, _ = small_history
    team_of = {}
    for g in yaml.safe_load_all((folder / "catalog" / "groups.yaml").read_text()):
        for m in g["spec"]["members"]:
            team_of[m] = g["metadata"]["name"]
    owner = {p.parent.name: yaml.safe_load(p.read_text())["spec"]["owner"].split("/")[-1]
             for p in (folder / "catalog").glob("*/catalog-info.yaml")}
    rows = [json.loads(line) for line in (folder / "commits.jsonl").read_text().splitlines()]
    own = np.mean([team_of[r["author"]] == owner[r["repo"]] for r in rows])
    assert 0.7 < own < 0.97
    api = np.mean([any(f["path"].startswith("api/") for f in r["files"]) for r in rows])
    tests = np.mean([any(f["path"].startswith("tests/") for f in r["files"]) for r in rows])
    assert 0.01 < api < 0.15 and 0.2 < tests < 0.8
    assert any("BREAKING CHANGE" in r["message"] or "!:" in r["message"] for r in rows)


def _yearly_churn(folder: Path) -> tuple[float, float]:
    """Mean log churn per commit in the first and the second year of the history (2024-11-01 start)."""
    rows = [json.loads(line) for line in (folder / "commits.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["timestamp"] >= "2024-11-02" and r["message"] != "chore: initial commit"]
    frame = pl.DataFrame({
        "second": [r["timestamp"] >= "2025-11-01" for r in rows],
        "churn": [sum(f["added"] + f["deleted"] for f in r["files"] if f["added"] != "-") for r in rows],
    })
    years = frame.group_by("second").agg(pl.col("churn").log1p().mean()).sort("second")["churn"].to_list()
    return years[0], years[1]


@pytest.mark.parametrize("drift", [0.0, 2.0])
def test_drift_zero_is_stationary(tmp_path, drift):
    out = tmp_path / "sim"
    simulate(SimulationConfig(seed=5, services=10, teams=3, days=730, drift=drift), out)
    early, late = _yearly_churn(out)
    if drift == 0:
        assert abs(late - early) < 0.08
    else:
        assert early - late > 0.12  # changes get smaller as the org matures
