"""Every written file parses and has exactly the columns of docs/data_model.md."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl
import yaml

CONTRACT = {
    "deployments.csv": ["deployment_id", "service", "version", "commit_range", "started_at", "finished_at",
                        "environment", "deployer", "status"],
    "incidents.csv": ["incident_id", "service", "title", "severity", "created_at", "acknowledged_at",
                      "resolved_at", "deployment_id"],
    "oncall.csv": ["team", "user", "starts_at", "ends_at"],
    "traffic.csv": ["hour", "service", "region", "requests"],
    "freezes.csv": ["freeze_id", "name", "starts_at", "ends_at", "scope", "reason"],
}
TRUTH = ["deployment_id", "p_fail", "failed", "fault_shape", "fault_metric", "fault_onset_min",
         "fault_magnitude", "fault_duration_min"]
SEMVER = r"^\d+\.\d+\.\d+(-rc\.\d+)?$"


def read(folder, name):
    return pl.read_csv(folder / name, infer_schema=False)


def test_csv_columns_match_contract(small_history):
    folder, _ = small_history
    for name, columns in CONTRACT.items():
        assert read(folder, name).columns == columns, name
    assert pl.read_parquet(folder / "ground_truth.parquet").columns == TRUTH


def test_deployments_values(small_history):
    folder, _ = small_history
    dep = read(folder, "deployments.csv")
    assert dep["deployment_id"].is_unique().all()
    assert set(dep["status"]) <= {"succeeded", "rolled_back", "failed"}
    assert set(dep["environment"]) == {"production", "staging"}
    assert dep["version"].str.contains(SEMVER).all()
    parts = dep["commit_range"].str.split_exact("..", 1).struct.unnest()
    assert parts["field_1"].str.len_chars().eq(40).all()
    froms = parts.filter(pl.col("field_0") != "")["field_0"]
    assert froms.is_in(parts["field_1"]).all()  # FROM is a previous release's TO
    started = dep["started_at"].str.to_datetime("%Y-%m-%dT%H:%M:%SZ")
    finished = dep["finished_at"].str.to_datetime("%Y-%m-%dT%H:%M:%SZ")
    assert (finished > started).all()
    first = dep.filter(pl.col("environment") == "production").group_by("service").first()
    assert first["commit_range"].str.starts_with("..").all()


def test_commits_are_git_log_like(small_history):
    folder, _ = small_history
    shas, binary = set(), 0
    for line in (folder / "commits.jsonl").read_text().splitlines():
        row = json.loads(line)
        assert set(row) == {"sha", "repo", "author", "timestamp", "message", "files"}
        assert len(row["sha"]) == 40 and row["sha"] not in shas
        shas.add(row["sha"])
        assert datetime.fromisoformat(row["timestamp"]).utcoffset() is not None
        assert row["message"].split(":")[0].rstrip("!").split("(")[0] in {
            "feat", "fix", "chore", "refactor", "perf", "docs", "test"}
        assert row["files"]
        for f in row["files"]:
            if f["added"] == "-":
                assert f["deleted"] == "-"
                binary += 1
            else:
                assert f["added"] >= 0 and f["deleted"] >= 0
    assert binary > 0
    dep = read(folder, "deployments.csv")
    ends = dep["commit_range"].str.split("..").list.get(1)
    assert set(ends) <= shas


def test_incidents_traffic_oncall_freezes(small_history):
    folder, _ = small_history
    inc = read(folder, "incidents.csv")
    assert set(inc["severity"]) <= {"SEV1", "SEV2", "SEV3", "SEV4"}
    linked = inc.filter(pl.col("deployment_id").is_not_null())
    assert linked["deployment_id"].is_in(read(folder, "deployments.csv")["deployment_id"]).all()
    assert inc["deployment_id"].is_null().sum() > 0
    traffic = read(folder, "traffic.csv").with_columns(pl.col("requests").cast(pl.Int64))
    assert traffic["hour"].str.ends_with(":00:00Z").all()
    assert traffic.select(["hour", "service", "region"]).is_unique().all()
    assert (traffic["requests"] > 0).all()
    oncall = read(folder, "oncall.csv")
    assert (oncall["ends_at"] > oncall["starts_at"]).all()
    freezes = read(folder, "freezes.csv")
    assert freezes["name"].str.contains("End of year").any()
    truth = pl.read_parquet(folder / "ground_truth.parquet")
    assert set(truth["fault_shape"]) <= {"step", "ramp", "spike", "leak", "none", "surge"}
    assert set(truth.filter("failed")["fault_shape"]) <= {"step", "ramp", "spike", "leak"}
    assert set(truth.filter(pl.col("fault_shape") != "none")["fault_metric"]) <= {
        "error_rate", "latency_p99", "saturation"}


def test_groups_hold_every_author(small_history):
    folder, _ = small_history
    groups = list(yaml.safe_load_all((folder / "catalog" / "groups.yaml").read_text()))
    assert all(g["kind"] == "Group" and g["spec"]["type"] == "team" for g in groups)
    members = {m for g in groups for m in g["spec"]["members"]}
    authors = {json.loads(line)["author"] for line in (folder / "commits.jsonl").read_text().splitlines()}
    assert authors <= members
