"""`freezes.csv`: the change-freeze calendar, one window per row, into `raw.freezes`."""

from __future__ import annotations

from releasepilot.sources.base import CsvSource


class FreezesSource(CsvSource):
    """Reads `freeze_id,name,starts_at,ends_at,scope,reason` (`scope` is `all` or a system name)."""

    filename = "freezes.csv"
    table = "freezes"
    timestamps = ("starts_at", "ends_at")
