"""Point-in-time correctness: features of releases started before T do not change when history after T
is added. The marts are built on a history cut at T and on the full history and compared."""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from random_history import write_cut_history, write_random_history

RELEASE_OUTCOMES = ["is_failure", "label_known_at", "finished_at", "status"]
CHANGE_OUTCOMES = ["deployment_id", "deployed_at", "is_defective", "label_known_at"]
CUTS = [datetime(2025, 3, 9, 7, 30), datetime(2025, 3, 16, 18, 0)]


def _read(path, query: str) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(query).pl()


@pytest.fixture(scope="module")
def full_history(tmp_path_factory, repo_root):
    from releasepilot.features import build_features

    path = write_random_history(tmp_path_factory.mktemp("pit") / "full.duckdb")
    build_features(path, repo_root / "dbt_project", select="+marts")
    return path


@pytest.mark.parametrize("cut", CUTS)
def test_features_before_cut_are_identical(full_history, cut, tmp_path, repo_root):
    from releasepilot.features import build_features

    cut_path = write_cut_history(full_history, tmp_path / "cut.duckdb", cut)
    build_features(cut_path, repo_root / "dbt_project", select="+marts")
    query = (f"select * exclude ({', '.join(RELEASE_OUTCOMES)}) from marts.release_features "
             f"where started_at < '{cut}' order by deployment_id")
    full, truncated = _read(full_history, query), _read(cut_path, query)
    assert full.height > 20 and full.height == truncated.height
    # the comparison must be able to fail: some release features vary across releases
    assert full["svc_fail_rate_30d"].drop_nulls().n_unique() > 1
    assert_frame_equal(full, truncated, check_exact=False, rel_tol=1e-9)
    # the cut really hides the future (otherwise the comparison proves nothing)
    count = "select count(*) as n from marts.release_features"
    assert _read(cut_path, count)["n"][0] < _read(full_history, count)["n"][0]

    query = (f"select * exclude ({', '.join(CHANGE_OUTCOMES)}) from marts.change_features "
             f"where authored_at < '{cut}' order by sha")
    assert_frame_equal(_read(full_history, query), _read(cut_path, query), check_exact=False, rel_tol=1e-9)

