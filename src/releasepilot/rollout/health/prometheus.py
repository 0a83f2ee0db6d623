"""A health source that asks Prometheus (PromQL over the HTTP API, `/api/v1/query_range`).

One PromQL template per metric in `PROMQL_TEMPLATES` (documented in docs/health_sources.md). Templates
use `{service}`, `{role}` (`canary` or `baseline`) and `{window}` (a rate window such as `1m`); the
service name is checked against a strict pattern before it goes into a query. Any failure (connection,
HTTP status, `status != success`) or an empty result raises `HealthSourceUnavailable`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np

from releasepilot.rollout.health.base import (
    HEALTH_METRICS,
    HealthSamples,
    HealthSource,
    HealthSourceUnavailable,
)

PROMQL_TEMPLATES: dict[str, str] = {
    "error_rate": (
        'sum(rate(http_requests_total{{service="{service}",role="{role}",code=~"5.."}}[{window}]))'
        ' / sum(rate(http_requests_total{{service="{service}",role="{role}"}}[{window}]))'
    ),
    "latency_p99": (
        'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket'
        '{{service="{service}",role="{role}"}}[{window}]))) * 1000'
    ),
    "saturation": 'avg(process_saturation_ratio{{service="{service}",role="{role}"}})',
    "throughput": 'sum(rate(http_requests_total{{service="{service}",role="{role}"}}[{window}])) * 60',
}
ROLES = ("canary", "baseline")
DEFAULT_WINDOW = "1m"
DEFAULT_STEP_SECONDS = 60.0
DEFAULT_TIMEOUT_SECONDS = 5.0
LABEL_VALUE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
DURATION = re.compile(r"^[0-9]+(ms|s|m|h)$")


def render_query(metric: str, service: str, role: str, *, window: str = DEFAULT_WINDOW,
                 templates: Mapping[str, str] = PROMQL_TEMPLATES) -> str:
    """The PromQL for one metric, after checking every value that goes into it."""
    if metric not in templates:
        raise ValueError(f"no PromQL template for metric {metric!r}")
    if not LABEL_VALUE.match(service):
        raise ValueError(f"service {service!r} is not a valid label value (lowercase DNS label)")
    if role not in ROLES:
        raise ValueError(f"role {role!r}: expected canary or baseline")
    if not DURATION.match(window):
        raise ValueError(f"window {window!r} is not a Prometheus duration like 1m")
    return templates[metric].format(service=service, role=role, window=window)


class PrometheusHealthSource(HealthSource):
    """Reads canary and baseline series from a Prometheus server."""

    name = "prometheus"

    def __init__(self, base_url: str, *, templates: Mapping[str, str] = PROMQL_TEMPLATES,
                 window: str = DEFAULT_WINDOW, step_seconds: float = DEFAULT_STEP_SECONDS,
                 timeout: float = DEFAULT_TIMEOUT_SECONDS):
        self.base_url = base_url.rstrip("/")
        self.templates = dict(templates)
        self.window = window
        self.step_seconds = step_seconds
        self.timeout = timeout

    def query_range(self, query: str, start: datetime, end: datetime) -> np.ndarray:
        """Values of a range query (all series concatenated, NaN dropped); raises when down or empty."""
        import httpx

        params = {"query": query, "start": f"{start.timestamp():.3f}", "end": f"{end.timestamp():.3f}",
                  "step": f"{self.step_seconds:g}"}
        try:
            response = httpx.get(f"{self.base_url}/api/v1/query_range", params=params, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise HealthSourceUnavailable(f"prometheus at {self.base_url} unreachable: {exc}") from exc
        if response.status_code != 200:
            raise HealthSourceUnavailable(
                f"prometheus returned HTTP {response.status_code} for {query!r}: {response.text[:200]}")
        body = response.json()
        if body.get("status") != "success":
            raise HealthSourceUnavailable(f"prometheus query failed: {body.get('error', body)}")
        values = [float(v) for series in body["data"]["result"] for _, v in series.get("values", [])]
        array = np.asarray(values, dtype=float)
        array = array[np.isfinite(array)]
        if not len(array):
            raise HealthSourceUnavailable(f"prometheus returned no samples for {query!r} in [{start}, {end}]")
        return array

    def fetch(self, service: str, start: datetime, end: datetime,
              metrics: Sequence[str] = HEALTH_METRICS) -> HealthSamples:
        canary: dict[str, np.ndarray] = {}
        baseline: dict[str, np.ndarray] = {}
        for metric in metrics:
            for role, out in (("canary", canary), ("baseline", baseline)):
                query = render_query(metric, service, role, window=self.window, templates=self.templates)
                out[metric] = self.query_range(query, start, end)
        return HealthSamples(service, start, end, canary, baseline)
