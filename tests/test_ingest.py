"""run_ingest end to end on a small fixture folder: counts, rejects, idempotency, all-or-nothing."""

from __future__ import annotations

import json
import subprocess

import duckdb
import pytest

from releasepilot.errors import InputError
from releasepilot.ingest import IngestRequest, run_ingest
from sources.fixtures import COMMITS, ROW_COUNTS, write_history


def _ingest(folder, warehouse, **kw):
    return run_ingest(IngestRequest(source_dir=folder, git_repos=kw.pop("git_repos", []), catalog_dir=None,
                                    warehouse=warehouse, **kw))


def _count(warehouse, sql):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_run_twice_is_idempotent_then_appends(tmp_path):
    folder, warehouse = write_history(tmp_path / "h"), tmp_path / "w.duckdb"
    first = _ingest(folder, warehouse)
    assert {t.table_name: t.rows_inserted for t in first.tables} == ROW_COUNTS
    second = _ingest(folder, warehouse)
    assert {t.table_name: t.rows_read for t in second.tables} == ROW_COUNTS
    assert all(t.rows_inserted == 0 for t in second.tables)
    assert _count(warehouse, "select count(*) from raw.deployments")[0][0] == ROW_COUNTS["deployments"]
    assert _count(warehouse, "select count(distinct run_id), count(*) from raw.ingest_runs")[0] == (2, 18)
    # a new deployment appended to the export is the only row the third run inserts
    with open(folder / "deployments.csv", "a") as handle:
        handle.write("d5,orders-api,0.9.1,o1..o1,2025-03-07T09:00:00Z,2025-03-07T09:05:00Z,production,x,succeeded\n")
    third = _ingest(folder, warehouse)
    assert {t.table_name: t.rows_inserted for t in third.tables if t.rows_inserted} == {"deployments": 1}


def test_bad_rows_go_to_rejected_once(tmp_path):
    folder = write_history(tmp_path / "h", extra={"deployments.csv": [
        "d1,checkout-api,9,..c1,2025-03-04T12:00:00Z,2025-03-04T12:10:00Z,production,x,succeeded",
        "d6,ghost-api,1,..x,2025-03-04T12:00:00Z,2025-03-04T12:10:00Z,production,x,succeeded",
        "d7,orders-api,1,..o1,2025-03-04T12:00:00Z,2025-03-04T11:00:00Z,production,x,succeeded",
        "d8,orders-api,1,..o1,2025-03-04T12:00:00Z,2025-03-04T12:10:00Z,production,x,exploded"]})
    warehouse = tmp_path / "w.duckdb"
    report = _ingest(folder, warehouse)
    assert report.table("deployments").rows_rejected == 5            # both copies of d1 + d6, d7, d8
    assert report.table("deployments").rows_inserted == 3
    rows = _count(warehouse, "select reason, row_json, source_file from raw.rejected order by row_json")
    by_id = {json.loads(r[1])["deployment_id"]: r for r in rows}
    assert "duplicate key" in by_id["d1"][0] and "unknown service" in by_id["d6"][0]
    assert "before started_at" in by_id["d7"][0] and "status" in by_id["d8"][0]
    assert by_id["d6"][2].endswith("deployments.csv")
    _ingest(folder, warehouse)
    assert _count(warehouse, "select count(*) from raw.rejected")[0][0] == len(rows)


def test_unreadable_source_writes_nothing(tmp_path):
    folder = write_history(tmp_path / "h", extra={"traffic.csv": ["2025-03-05T03:00:00Z,orders-api,us-east-1,x"]})
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(InputError, match="traffic.csv"):
        _ingest(folder, warehouse)
    assert not warehouse.exists()


def test_absent_files_are_skipped_but_empty_folder_is_an_error(tmp_path):
    folder = write_history(tmp_path / "h", skip=("traffic.csv", "freezes.csv", "catalog"))
    report = _ingest(folder, tmp_path / "w.duckdb")
    assert {t.table_name for t in report.tables} == {"commits", "commit_files", "deployments", "incidents", "oncall"}
    assert any("traffic.csv" in note for note in report.notes)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no history sources"):
        _ingest(tmp_path / "empty", tmp_path / "w2.duckdb")


def test_git_repo_commits_are_added(tmp_path):
    repo = tmp_path / "orders-api"
    env = {"GIT_AUTHOR_NAME": "c", "GIT_AUTHOR_EMAIL": "carol.d@x", "GIT_COMMITTER_NAME": "c",
           "GIT_COMMITTER_EMAIL": "carol.d@x", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    (repo / "a.txt").write_text("hello\n")
    subprocess.run(["git", "-C", str(repo), "add", "a.txt"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "first"], check=True, env=env)
    folder = write_history(tmp_path / "h", commits=COMMITS[:1])
    report = _ingest(folder, tmp_path / "w.duckdb", git_repos=[repo])
    assert report.table("commits").rows_inserted == 2
    assert _count(tmp_path / "w.duckdb", "select count(*) from raw.commits where repo = 'orders-api'")[0][0] == 1
