"""`incidents.csv`: a PagerDuty-like incident export, one row per incident, into `raw.incidents`."""

from __future__ import annotations

from releasepilot.sources.base import CsvSource


class IncidentsSource(CsvSource):
    """Reads `incident_id,service,title,severity,created_at,acknowledged_at,resolved_at,deployment_id`."""

    filename = "incidents.csv"
    table = "incidents"
    timestamps = ("created_at", "acknowledged_at", "resolved_at")
