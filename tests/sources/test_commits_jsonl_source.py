"""commits.jsonl reader: commits and files, binary counts, offsets, and errors with line numbers."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from releasepilot.errors import InputError
from releasepilot.sources import CommitsJsonlSource
from releasepilot.sources.schema import RAW_TABLES
from sources.fixtures import COMMITS, write_history


def test_reads_commits_and_files(tmp_path):
    data = CommitsJsonlSource.in_folder(write_history(tmp_path)).read()
    commits, files = data["commits"], data["commit_files"]
    assert commits.schema == RAW_TABLES["commits"].schema
    assert commits["sha"].to_list() == ["c1", "c2", "p1", "o1"]
    by_sha = {row["sha"]: row for row in commits.iter_rows(named=True)}
    assert by_sha["c1"]["authored_at"] == dt.datetime(2025, 3, 4, 9, 15)
    assert by_sha["p1"]["authored_at"] == dt.datetime(2025, 3, 5, 17, 0)      # -05:00 -> UTC
    assert "BREAKING CHANGE" in by_sha["c1"]["message"]
    assert files.height == 5
    assert files.filter(files["path"] == "assets/logo.png").select("added", "deleted").row(0) == (0, 0)


def _write(tmp_path, lines):
    path = tmp_path / "commits.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return CommitsJsonlSource(path)


def test_invalid_json_names_the_line(tmp_path):
    source = _write(tmp_path, [json.dumps(COMMITS[0]), '{"sha": "x", oops'])
    with pytest.raises(InputError, match="not valid JSON") as info:
        source.read()
    assert info.value.row == 2


def test_missing_key_field_names_line_and_field(tmp_path):
    record = {k: v for k, v in COMMITS[1].items() if k != "sha"}
    source = _write(tmp_path, [json.dumps(COMMITS[0]), json.dumps(record)])
    with pytest.raises(InputError) as info:
        source.read()
    assert (info.value.row, info.value.field) == (2, "sha")


def test_bad_timestamp_is_an_error(tmp_path):
    record = dict(COMMITS[0], timestamp="04/03/2025 10:15")
    with pytest.raises(InputError, match="ISO 8601") as info:
        _write(tmp_path, [json.dumps(record)]).read()
    assert info.value.field == "timestamp"


def test_bad_file_count_is_an_error(tmp_path):
    record = dict(COMMITS[0], files=[{"path": "a.py", "added": "lots", "deleted": 1}])
    with pytest.raises(InputError, match="added/deleted"):
        _write(tmp_path, [json.dumps(record)]).read()


def test_blank_lines_extra_fields_and_mixed_timestamp_forms(tmp_path):
    first = dict(COMMITS[0], timestamp="2025-03-04T10:15:00+01:00", extra="ignored")
    second = dict(COMMITS[1], timestamp="2025-03-05 09:00:00")      # no offset: read as UTC
    data = _write(tmp_path, [json.dumps(first), "", json.dumps(second)]).read()
    assert data["commits"]["authored_at"].to_list() == [dt.datetime(2025, 3, 4, 9, 15), dt.datetime(2025, 3, 5, 9)]
