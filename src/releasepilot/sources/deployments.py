"""`deployments.csv`: a deploy tool's export, one row per deployment, into `raw.deployments`."""

from __future__ import annotations

import polars as pl

from releasepilot.errors import InputError
from releasepilot.sources.base import CSV_FIRST_DATA_LINE, CsvSource

COMMIT_RANGE_SEPARATOR = ".."
HEADER = ("deployment_id", "service", "version", "commit_range", "started_at", "finished_at",
          "environment", "deployer", "status")


class DeploymentsSource(CsvSource):
    """Reads `deployment_id,service,version,commit_range,started_at,finished_at,environment,deployer,status`."""

    filename = "deployments.csv"
    table = "deployments"
    timestamps = ("started_at", "finished_at")

    def columns(self) -> list[str]:
        return list(HEADER)

    def transform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Split `FROM..TO` into `commit_from` (null for a first deployment) and `commit_to`."""
        commit_range = frame["commit_range"]
        bad = (commit_range.is_not_null() & ~commit_range.str.contains(COMMIT_RANGE_SEPARATOR, literal=True))
        if bad.any():
            index = int(bad.arg_true()[0])
            raise InputError(f"expected a git range FROM..TO (FROM may be empty), got {commit_range[index]!r}",
                             source=str(self.path), row=index + CSV_FIRST_DATA_LINE, field="commit_range")
        parts = commit_range.str.split_exact(COMMIT_RANGE_SEPARATOR, 1)
        return frame.with_columns(
            parts.struct.field("field_0").replace("", None).alias("commit_from"),
            parts.struct.field("field_1").replace("", None).alias("commit_to"),
        )
