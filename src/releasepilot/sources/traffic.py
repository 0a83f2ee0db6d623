"""`traffic.csv`: hourly request counts per service and region, into `raw.traffic`."""

from __future__ import annotations

from releasepilot.sources.base import CsvSource


class TrafficSource(CsvSource):
    """Reads `hour,service,region,requests` (hour in UTC, truncated to the hour)."""

    filename = "traffic.csv"
    table = "traffic"
    timestamps = ("hour",)
    integers = ("requests",)
