"""The Prometheus health source against a real Prometheus server scraping a small exporter.

The test starts an exporter (http.server emitting the text exposition format) and `prometheus` with a
1 s scrape interval, then reads canary and baseline through PromQL. Skipped only when the binary is
absent (CI installs it from .ci/debian-packages).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from releasepilot.rollout.gates import judge_canary
from releasepilot.rollout.health import HealthSourceUnavailable
from releasepilot.rollout.health.prometheus import PrometheusHealthSource, render_query

pytestmark = pytest.mark.slow
PROMETHEUS = shutil.which("prometheus")
SERVICE = "checkout-api"
RPS = {"canary": 50.0, "baseline": 50.0}
ERROR_SHARE = {"canary": 0.20, "baseline": 0.01}
# share of requests at or under each latency bucket: the canary's p99 lies in (0.25, 0.5] s
BUCKETS = {"canary": {"0.1": 0.50, "0.25": 0.90, "0.5": 1.0, "+Inf": 1.0},
           "baseline": {"0.1": 0.80, "0.25": 1.0, "0.5": 1.0, "+Inf": 1.0}}
SATURATION = {"canary": 0.7, "baseline": 0.4}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _exposition(elapsed: float) -> str:
    lines = ["# TYPE http_requests_total counter", "# TYPE http_request_duration_seconds histogram",
             "# TYPE process_saturation_ratio gauge"]
    for role in ("canary", "baseline"):
        total = RPS[role] * elapsed
        errors = total * ERROR_SHARE[role]
        labels = f'service="{SERVICE}",role="{role}"'
        lines.append(f'http_requests_total{{{labels},code="200"}} {total - errors:.3f}')
        lines.append(f'http_requests_total{{{labels},code="500"}} {errors:.3f}')
        for le, share in BUCKETS[role].items():
            lines.append(f'http_request_duration_seconds_bucket{{{labels},le="{le}"}} {total * share:.3f}')
        lines.append(f"http_request_duration_seconds_count{{{labels}}} {total:.3f}")
        lines.append(f"process_saturation_ratio{{{labels}}} {SATURATION[role]}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory):
    if PROMETHEUS is None:
        pytest.skip("prometheus binary absent (CI installs it from .ci/debian-packages)")
    started = time.monotonic()

    class Exporter(BaseHTTPRequestHandler):
        def do_GET(self):
            body = _exposition(time.monotonic() - started).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    exporter = ThreadingHTTPServer(("127.0.0.1", 0), Exporter)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    folder = tmp_path_factory.mktemp("prometheus")
    config = folder / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: exporter\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{exporter.server_address[1]}']\n")
    port = _free_port()
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        query = render_query("throughput", SERVICE, "canary", window="3s")
        while time.monotonic() < deadline:       # ready, and a rate has at least two scrapes
            try:
                reply = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=1).json()
                if reply.get("status") == "success" and reply["data"]["result"]:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("prometheus did not serve the exporter's series within 15 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        exporter.shutdown()


def test_reads_canary_and_baseline_through_promql(prometheus_url):
    time.sleep(3.0)              # every point of the range below has a full 3 s rate window of scrapes
    source = PrometheusHealthSource(prometheus_url, window="3s", step_seconds=0.25)
    end = datetime.now(UTC)
    samples = source.fetch(SERVICE, end - timedelta(seconds=2), end)
    assert len(samples.canary["error_rate"]) >= 8
    assert samples.canary["error_rate"].mean() == pytest.approx(0.20, abs=0.02)
    assert samples.baseline["error_rate"].mean() == pytest.approx(0.01, abs=0.005)
    assert samples.canary["throughput"].mean() == pytest.approx(50.0 * 60, rel=0.1)
    assert samples.canary["saturation"].mean() == pytest.approx(0.7)
    assert samples.canary["latency_p99"].min() > 250.0          # ms: p99 inside (0.25, 0.5] s
    assert samples.baseline["latency_p99"].max() <= 250.0
    judgement = judge_canary(samples.canary, samples.baseline, min_samples=3)
    assert judgement.status == "fail"
    assert {m.name for m in judgement.metrics if m.failed} >= {"error_rate", "latency_p99"}


def test_unknown_service_is_empty_and_unavailable(prometheus_url):
    source = PrometheusHealthSource(prometheus_url, window="3s", step_seconds=1.0)
    end = datetime.now(UTC)
    with pytest.raises(HealthSourceUnavailable, match="no samples"):
        source.fetch("nobody-here", end - timedelta(seconds=4), end)


def test_server_down_is_unavailable():
    source = PrometheusHealthSource(f"http://127.0.0.1:{_free_port()}", timeout=1.0)
    end = datetime.now(UTC)
    with pytest.raises(HealthSourceUnavailable, match="unreachable"):
        source.fetch(SERVICE, end - timedelta(minutes=5), end)


def test_hostile_service_never_reaches_a_query():
    with pytest.raises(ValueError, match="not a valid label value"):
        render_query("error_rate", 'x"} or vector(1) #', "canary")
