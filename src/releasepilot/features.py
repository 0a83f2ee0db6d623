"""Build the feature marts: run the dbt project (staging -> intermediate -> marts, with all its tests).

dbt runs in-process (dbtRunner, ~2 s instead of a new process) against the DuckDB warehouse given as an
absolute path in RELEASEPILOT_WAREHOUSE; its DuckDB connections are closed afterwards so that other
steps can open the file. A failing model or test raises ReleasePilotError naming the nodes.

dbt re-parses the whole project (~8 s instead of ~2 s) whenever the profile differs from the one its
saved parse was made with, and the warehouse path is part of the profile. So each warehouse gets its
own target folder (`target/by-warehouse/<hash of the path>`): builds of one warehouse reuse their parse
even when builds of other warehouses (tests, benchmarks) run in between or at the same time. Only the
most recently used `KEPT_TARGETS` folders are kept.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from releasepilot.errors import NotReadyError, ReleasePilotError

WAREHOUSE_ENV = "RELEASEPILOT_WAREHOUSE"
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
MAX_MESSAGE_CHARS = 400
TARGETS_FOLDER = Path("target") / "by-warehouse"
KEPT_TARGETS = 8


@dataclass(frozen=True)
class NodeResult:
    """One dbt node of a build: a model, a data test or a unit test."""

    name: str
    kind: str
    status: str
    rows: int | None
    seconds: float
    message: str | None = None


@dataclass
class BuildReport:
    """What a build did: per-node results and the wall-clock time."""

    warehouse: Path
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)

    @property
    def failed(self) -> list[NodeResult]:
        return [node for node in self.nodes if node.status in FAILED_STATUSES]

    def count(self, kind: str) -> int:
        return sum(1 for node in self.nodes if node.kind == kind)

    def as_dict(self) -> dict[str, Any]:
        return {
            "warehouse": str(self.warehouse),
            "seconds": round(self.seconds, 3),
            "models": self.count("model"),
            "tests": self.count("test"),
            "unit_tests": self.count("unit_test"),
            "failed": [node.name for node in self.failed],
            "nodes": [asdict(node) for node in self.nodes],
        }


def node_kind(resource_type: str) -> str:
    """Map dbt resource types to model / test / unit_test (others keep their dbt name)."""
    return {"model": "model", "test": "test", "unit_test": "unit_test"}.get(resource_type, resource_type)


def failure_message(failed: list[NodeResult]) -> str:
    """One readable message naming each failed node and why."""
    parts = [f"{node.kind} {node.name}: {(node.message or node.status)[:MAX_MESSAGE_CHARS]}" for node in failed]
    return "dbt build failed: " + "; ".join(parts)


@contextmanager
def _env(name: str, value: str):
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _rows(result: Any) -> int | None:
    response = getattr(result, "adapter_response", None) or {}
    rows = response.get("rows_affected") if isinstance(response, dict) else None
    return int(rows) if isinstance(rows, int) and rows >= 0 else None


def _node_result(result: Any) -> NodeResult:
    node = result.node
    kind = node_kind(str(getattr(node.resource_type, "value", node.resource_type)))
    status = str(getattr(result.status, "value", result.status))
    return NodeResult(
        name=node.name,
        kind=kind,
        status=status,
        rows=_rows(result) if kind == "model" else None,
        seconds=round(float(result.execution_time or 0.0), 3),
        message=None if status not in FAILED_STATUSES else str(result.message),
    )


def _table_rows(warehouse: Path, nodes: list[NodeResult], schemas: dict[str, str]) -> list[NodeResult]:
    """Fill row counts of table models (dbt-duckdb does not report rows for `create table as`)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        filled = []
        for node in nodes:
            if node.kind == "model" and node.rows is None and node.name in schemas and node.status == "success":
                count = con.execute(f'select count(*) from "{schemas[node.name]}"."{node.name}"').fetchone()
                node = NodeResult(**{**asdict(node), "rows": int(count[0])})
            filled.append(node)
    return filled


def target_dir(project_dir: Path, warehouse: Path) -> Path:
    """The dbt target folder of one warehouse (stable per absolute path, so partial parsing works)."""
    digest = hashlib.sha1(str(warehouse).encode()).hexdigest()[:16]
    return project_dir / TARGETS_FOLDER / digest


def stale_targets(folders: list[tuple[Path, float]], keep: int = KEPT_TARGETS) -> list[Path]:
    """Folders to delete: all but the `keep` most recently used (given as (folder, mtime) pairs)."""
    ordered = sorted(folders, key=lambda item: item[1], reverse=True)
    return [folder for folder, _ in ordered[keep:]]


def _prune_targets(parent: Path, current: Path) -> None:
    if not parent.is_dir():
        return
    folders = [(f, f.stat().st_mtime) for f in parent.iterdir() if f.is_dir() and f != current]
    for folder in stale_targets(folders, KEPT_TARGETS - 1):
        shutil.rmtree(folder, ignore_errors=True)


def build_features(warehouse: Path, project_dir: Path, select: str | None = None) -> BuildReport:
    """Run `dbt build` (models, data tests, unit tests) on `warehouse`; raise ReleasePilotError on failure."""
    warehouse = Path(warehouse).resolve()
    project_dir = Path(project_dir).resolve()
    if not warehouse.exists():
        raise NotReadyError(f"warehouse {warehouse} does not exist: run `releasepilot ingest` first")
    if not (project_dir / "dbt_project.yml").exists():
        raise ReleasePilotError(f"{project_dir}: no dbt_project.yml (expected the ReleasePilot dbt project)")

    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    target = target_dir(project_dir, warehouse)
    target.mkdir(parents=True, exist_ok=True)
    os.utime(target)
    _prune_targets(target.parent, target)
    args = ["build", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--quiet",
            "--no-use-colors", "--target-path", str(target)]
    if select:
        args += ["--select", select]
    started = time.perf_counter()
    with _env(WAREHOUSE_ENV, str(warehouse)):
        try:
            outcome = dbtRunner().invoke(args)
        finally:
            DuckDBConnectionManager.close_all_connections()
    seconds = time.perf_counter() - started
    if outcome.exception is not None and outcome.result is None:
        raise ReleasePilotError(f"dbt build could not run: {outcome.exception}")
    results = list(getattr(outcome.result, "results", None) or [])
    nodes = [_node_result(result) for result in results]
    report = BuildReport(warehouse=warehouse, seconds=seconds, nodes=nodes)
    if report.failed or not outcome.success:
        raise ReleasePilotError(failure_message(report.failed) if report.failed
                                else f"dbt build failed: {outcome.exception}")
    schemas = {r.node.name: r.node.schema for r in results
               if str(getattr(r.node.resource_type, "value", "")) == "model"
               and str(getattr(r.node.config, "materialized", "")) == "table"}
    report.nodes = _table_rows(warehouse, nodes, schemas)
    return report
