"""One dbt build of the hand-made history per session (a build costs a few seconds)."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from fixture_history import write_fixture_history


@pytest.fixture(scope="session")
def fixture_warehouse(tmp_path_factory, repo_root):
    """The hand-made history, built into marts."""
    from releasepilot.features import build_features

    path = write_fixture_history(tmp_path_factory.mktemp("fixture") / "warehouse.duckdb")
    report = build_features(path, repo_root / "dbt_project")
    return path, report


def read_table(path, table: str, order_by: str) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(f"select * from {table} order by {order_by}").pl()
