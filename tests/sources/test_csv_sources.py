"""CSV readers (deployments, incidents, on-call, traffic, freezes): happy paths and clear errors."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from releasepilot.errors import InputError
from releasepilot.sources import (
    DeploymentsSource,
    FreezesSource,
    IncidentsSource,
    OncallSource,
    TrafficSource,
)
from releasepilot.sources.schema import RAW_TABLES
from sources.fixtures import write_history


def test_deployments_split_commit_range_and_convert_offsets_to_utc(tmp_path):
    frame = DeploymentsSource.in_folder(write_history(tmp_path)).read()["deployments"]
    assert frame.schema == RAW_TABLES["deployments"].schema
    first = frame.row(0, named=True)
    assert first["commit_from"] is None and first["commit_to"] == "c1"
    assert first["started_at"] == dt.datetime(2025, 3, 4, 11, 0)          # +01:00 -> UTC
    assert frame.row(1, named=True)["commit_from"] == "c1"
    assert frame.filter(pl.col("deployment_id") == "d4")["finished_at"].item() is None


def test_every_csv_source_reads_its_rows(tmp_path):
    folder = write_history(tmp_path)
    counts = {cls.table: cls.in_folder(folder).read()[cls.table].height
              for cls in (IncidentsSource, OncallSource, TrafficSource, FreezesSource)}
    assert counts == {"incidents": 2, "oncall": 3, "traffic": 6, "freezes": 1}
    oncall = OncallSource.in_folder(folder).read()["oncall"]
    assert "user_name" in oncall.columns
    assert oncall.row(2, named=True)["starts_at"] == dt.datetime(2025, 3, 3, 7, 0)   # +02:00 -> UTC
    assert TrafficSource.in_folder(folder).read()["traffic"]["requests"].dtype == pl.Int64


def test_missing_column_names_file_and_column(tmp_path):
    path = tmp_path / "deployments.csv"
    path.write_text("deployment_id,service,version,started_at\nd1,a,1,2025-01-01T00:00:00Z\n")
    with pytest.raises(InputError, match="missing column.*commit_range") as info:
        DeploymentsSource(path).read()
    assert str(path) in str(info.value)


def test_bad_timestamp_names_line_and_field(tmp_path):
    folder = write_history(tmp_path, extra={"incidents.csv": ["i3,checkout-api,x,SEV1,yesterday,,,"]})
    with pytest.raises(InputError) as info:
        IncidentsSource.in_folder(folder).read()
    assert info.value.row == 4 and info.value.field == "created_at"
    assert "yesterday" in str(info.value) and "incidents.csv" in str(info.value)


def test_bad_count_is_an_error(tmp_path):
    folder = write_history(tmp_path, extra={"traffic.csv": ["2025-03-05T03:00:00Z,orders-api,us-east-1,many"]})
    with pytest.raises(InputError, match="whole number") as info:
        TrafficSource.in_folder(folder).read()
    assert info.value.field == "requests" and info.value.row == 8


def test_missing_key_field_is_an_error(tmp_path):
    folder = write_history(tmp_path, extra={"oncall.csv": ["team-orders,,2025-03-20T00:00:00Z,2025-03-21T00:00:00Z"]})
    with pytest.raises(InputError, match="key field") as info:
        OncallSource.in_folder(folder).read()
    assert info.value.field == "user" and info.value.row == 5


def test_malformed_commit_range_is_an_error(tmp_path):
    folder = write_history(tmp_path, extra={"deployments.csv": [
        "d9,orders-api,1,abc,2025-03-06T09:00:00Z,2025-03-06T09:10:00Z,production,x,succeeded"]})
    with pytest.raises(InputError, match="FROM..TO") as info:
        DeploymentsSource.in_folder(folder).read()
    assert info.value.row == 6
