"""build_features keeps one dbt target folder per warehouse so that dbt's partial parse survives builds of
other warehouses in between."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "dbt"))
from fixture_history import write_fixture_history

from releasepilot.features import KEPT_TARGETS, build_features, stale_targets, target_dir


def test_target_dir_is_stable_per_warehouse(tmp_path):
    project = tmp_path / "project"
    first = target_dir(project, Path("/data/a.duckdb"))
    assert first == target_dir(project, Path("/data/a.duckdb"))
    assert first != target_dir(project, Path("/data/b.duckdb"))
    assert first.parent == project / "target" / "by-warehouse"


def test_stale_targets_keeps_the_most_recent():
    folders = [(Path(f"t{i}"), float(i)) for i in range(KEPT_TARGETS + 3)]
    stale = stale_targets(folders)
    assert sorted(stale) == sorted(Path(f"t{i}") for i in range(3))
    assert stale_targets(folders[:2]) == []


def test_second_build_of_a_warehouse_reuses_its_parse(tmp_path, repo_root):
    path = write_fixture_history(tmp_path / "w.duckdb")
    build_features(path, repo_root / "dbt_project")
    target = target_dir((repo_root / "dbt_project").resolve(), path.resolve())
    saved = target / "partial_parse.msgpack"
    assert saved.exists() and (target / "manifest.json").exists()
    report = build_features(path, repo_root / "dbt_project")
    assert report.failed == [] and saved.exists()
