"""Trains built from history: unshipped commits per service."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from releasepilot.errors import InputError
from releasepilot.planning.from_git import bump, train_from_history


def test_bump_moves_the_minor_version():
    assert bump("2.4.1") == "2.5.0" and bump("v1.9") == "1.10.0" and bump("nightly") == "nightly-next"


def test_fully_deployed_history_has_nothing_to_release(built_history):
    with pytest.raises(InputError, match="already deployed"):
        train_from_history(built_history[1])


def test_commits_after_the_last_production_release_form_the_train(built_history, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built_history[1], warehouse)
    con = duckdb.connect(str(warehouse))
    service, deployment = con.execute(
        "select service, deployment_id from raw.deployments where environment = 'production' "
        "and status = 'succeeded' order by started_at desc limit 1").fetchall()[0]
    con.execute("delete from raw.deployments where deployment_id = ?", [deployment])
    start = con.execute("select arg_max(commit_to, started_at) from raw.deployments where service = ? "
                        "and environment = 'production' and status = 'succeeded'", [service]).fetchall()[0][0]
    ordered = [r[0] for r in con.execute("select sha from raw.commits where repo = ? order by authored_at, sha",
                                         [service]).fetchall()]
    con.close()
    train = train_from_history(warehouse, name="unshipped")
    assert train.services == [service]
    expected = ordered[ordered.index(start) + 1:]
    assert [c.sha for c in train.releases[0].commits] == expected and expected
