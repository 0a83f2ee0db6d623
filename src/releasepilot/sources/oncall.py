"""`oncall.csv`: a PagerDuty-like on-call export, one shift per row, into `raw.oncall`."""

from __future__ import annotations

from typing import ClassVar

import polars as pl

from releasepilot.sources.base import CsvSource

HEADER = ("team", "user", "starts_at", "ends_at")


class OncallSource(CsvSource):
    """Reads `team,user,starts_at,ends_at`; `user` becomes `user_name` (a reserved word in SQL)."""

    filename = "oncall.csv"
    table = "oncall"
    timestamps = ("starts_at", "ends_at")
    header_names: ClassVar[dict[str, str]] = {"user_name": "user"}

    def columns(self) -> list[str]:
        return list(HEADER)

    def transform(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.rename({"user": "user_name"})
