"""Prefect flow: ingest a release-history folder (and local git repos) into the DuckDB warehouse.

Thin on purpose: the body calls `releasepilot.ingest`. The I/O steps (reading the sources, writing the
warehouse) are tasks; only reading retries, since a write that fails has been rolled back and a
validation problem will not go away by retrying. Referenced by prefect.yaml as
`flows/ingest_history.py:ingest_history`.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from releasepilot.ingest import IngestReport, IngestRequest, run_ingest

READ_RETRIES = 2
READ_RETRY_DELAY_SECONDS = 2
ARTIFACT_KEY = "ingest-counts"


@task(retries=READ_RETRIES, retry_delay_seconds=READ_RETRY_DELAY_SECONDS)
def check_sources(request: IngestRequest) -> list[str]:
    """Find the sources (network or mounted folders may be briefly unavailable: retried)."""
    from releasepilot.ingest import plan_sources

    _sources, notes = plan_sources(request)
    return notes


@task
def load_warehouse(request: IngestRequest) -> IngestReport:
    """Read, validate and load in one transaction (all or nothing)."""
    return run_ingest(request)


@flow(name="ingest_history", log_prints=False)
def ingest_history(source_dir: str = "data/sim", warehouse: str | None = None,
                   git_repos: list[str] | None = None) -> dict:
    """Ingest `source_dir` (+ `git_repos`) into `warehouse`; returns the report as a dict."""
    logger = get_run_logger()
    request = IngestRequest(source_dir=Path(source_dir), git_repos=[Path(r) for r in git_repos or []],
                            warehouse=Path(warehouse) if warehouse else None)
    for note in check_sources(request):
        logger.info(note)
    report = load_warehouse(request)
    for row in report.tables:
        logger.info("%s: read %d, inserted %d, rejected %d", row.table_name, row.rows_read,
                    row.rows_inserted, row.rows_rejected)
    create_table_artifact(key=ARTIFACT_KEY, table=[
        {"table": r.table_name, "read": r.rows_read, "inserted": r.rows_inserted, "rejected": r.rows_rejected}
        for r in report.tables], description=f"raw.* counts for run {report.run_id}")
    return report.as_dict()
