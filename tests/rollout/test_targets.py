"""Deploy targets: strict values before templating, no shell, retries with backoff, a real webhook."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from releasepilot.errors import InputError
from releasepilot.rollout.targets import DeployError, RolloutStep
from releasepilot.rollout.targets.command import CommandTarget, check_templates
from releasepilot.rollout.targets.retry import backoff_delays, retry_with_backoff
from releasepilot.rollout.targets.simulated import SimulatedTarget
from releasepilot.rollout.targets.webhook import WebhookTarget


def _templates(tmp_path, deploy=None):
    marker = str(tmp_path / "{service}-{version}-{weight}")
    return {
        "deploy_step": ["touch", marker] if deploy is None else deploy,
        "rollback": ["touch", str(tmp_path / "rolled-back-{service}-{previous_version}")],
        "status": [sys.executable, "-c", "print('{service} ok')"],
    }


def test_command_target_runs_argument_lists(tmp_path):
    target = CommandTarget(_templates(tmp_path), base_delay=0.0)
    result = target.deploy_step("checkout-api", "1.4.2", RolloutStep(0, 25))
    assert result.ok and result.attempts == 1
    assert (tmp_path / "checkout-api-1.4.2-25").exists()
    target.rollback("checkout-api", "1.4.1")
    assert (tmp_path / "rolled-back-checkout-api-1.4.1").exists()
    assert target.status("checkout-api")["output"].strip() == "checkout-api ok"


@pytest.mark.parametrize(("service", "version"), [
    ("x; rm -rf /", "1.0.0"),
    ("$(touch pwned)", "1.0.0"),
    ("Checkout", "1.0.0"),
    ("checkout-api", "1.0.0; touch pwned"),
    ("checkout-api", "../../etc/passwd"),
    ("checkout-api", "`id`"),
])
def test_hostile_values_are_rejected_and_nothing_runs(tmp_path, service, version):
    shell_probe = ["sh", "-c", f"touch {tmp_path}/ran"]     # would run if a value reached a command
    target = CommandTarget(_templates(tmp_path, deploy=shell_probe + ["{service}", "{version}"]))
    with pytest.raises(InputError):
        target.deploy_step(service, version, RolloutStep(0, 10))
    with pytest.raises(InputError):
        target.rollback(service, version)
    assert list(tmp_path.iterdir()) == []


def test_weight_is_checked(tmp_path):
    with pytest.raises(InputError, match="weight"):
        RolloutStep(0, 101)
    with pytest.raises(InputError, match="weight"):
        RolloutStep(0, "10; rm -rf /")  # type: ignore[arg-type]


def test_values_with_shell_syntax_stay_one_argument(tmp_path):
    # even a valid value is passed as one argv entry: no shell ever splits or interprets it
    target = CommandTarget(_templates(tmp_path, deploy=[sys.executable, "-c",
                                                        "import sys, json; print(json.dumps(sys.argv[1:]))",
                                                        "{service}", "--image=app:{version}"]))
    result = target.deploy_step("a-b", "1.0.0+build.7", RolloutStep(1, 50))
    assert json.loads(result.detail["stdout"]) == ["a-b", "--image=app:1.0.0+build.7"]


def test_unknown_or_tricky_placeholders_are_refused(tmp_path):
    for bad in (["echo", "{service.__class__}"], ["echo", "{token}"], ["echo", "{weight:>10}"], []):
        with pytest.raises(InputError):
            check_templates(_templates(tmp_path, deploy=bad))


def test_failing_command_is_retried_with_backoff_then_succeeds(tmp_path):
    counter = tmp_path / "count"
    script = (f"import pathlib, sys; p = pathlib.Path({str(counter)!r}); n = int(p.read_text()) if p.exists() "
              "else 0; p.write_text(str(n + 1)); sys.exit(0 if n >= 2 else 1)")
    flaky = [sys.executable, "-c", script]
    target = CommandTarget(_templates(tmp_path, deploy=flaky), attempts=4, base_delay=0.01)
    result = target.deploy_step("checkout-api", "2.0.0", RolloutStep(0, 5))
    assert result.attempts == 3 and counter.read_text() == "3"
    always = CommandTarget(_templates(tmp_path, deploy=[sys.executable, "-c", "import sys; sys.exit(3)"]),
                           attempts=2, base_delay=0.01)
    with pytest.raises(DeployError, match="exited 3"):
        always.deploy_step("checkout-api", "2.0.0", RolloutStep(0, 5))


def test_backoff_doubles_and_is_capped():
    assert backoff_delays(5, 0.5, 3.0) == [0.5, 1.0, 2.0, 3.0]
    sleeps: list[float] = []
    calls = iter([ValueError("a"), ValueError("b"), "done"])

    def action():
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    assert retry_with_backoff(action, attempts=3, base_delay=1.0, sleep=sleeps.append) == ("done", 3)
    assert sleeps == [1.0, 2.0]


def test_simulated_target_keeps_state_and_retries():
    target = SimulatedTarget(fail_next=1)
    result = target.deploy_step("checkout-api", "2.0.0", RolloutStep(0, 10))
    assert result.attempts == 2
    target.deploy_step("checkout-api", "2.0.0", RolloutStep(1, 100))
    assert target.status("checkout-api") == {"version": "2.0.0", "weight": 100, "stable_version": "2.0.0"}
    target.rollback("checkout-api", "1.9.0")
    assert target.status("checkout-api")["version"] == "1.9.0"
    broken = SimulatedTarget(fail_next=5, attempts=3)
    with pytest.raises(DeployError):
        broken.deploy_step("checkout-api", "2.0.0", RolloutStep(0, 10))


@pytest.fixture()
def webhook_server():
    received: list[dict] = []
    failures = {"left": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"body": body, "content_type": self.headers["Content-Type"],
                             "token": self.headers.get("X-Token")})
            if failures["left"] > 0:
                failures["left"] -= 1
                code, reply = 503, {"error": "busy"}
            elif body["service"] == "refused-svc":
                code, reply = 409, {"error": "locked"}
            else:
                code, reply = 200, {"accepted": body["action"]}
            data = json.dumps(reply).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/deploy", received, failures
    server.shutdown()


def test_webhook_posts_json_and_retries_5xx(webhook_server):
    url, received, failures = webhook_server
    target = WebhookTarget(url, headers={"X-Token": "t0k"}, base_delay=0.01)
    failures["left"] = 2
    result = target.deploy_step("checkout-api", "1.2.3", RolloutStep(2, 50))
    assert result.ok and result.attempts == 3 and result.detail["response"] == {"accepted": "deploy_step"}
    assert received[-1]["body"] == {"action": "deploy_step", "service": "checkout-api", "version": "1.2.3",
                                    "weight": 50, "step": 2}
    assert received[-1]["content_type"] == "application/json" and received[-1]["token"] == "t0k"
    target.rollback("checkout-api", "1.2.2")
    assert received[-1]["body"]["action"] == "rollback" and received[-1]["body"]["version"] == "1.2.2"


def test_webhook_4xx_is_not_retried_and_hostile_values_never_sent(webhook_server):
    url, received, _ = webhook_server
    target = WebhookTarget(url, base_delay=0.01)
    with pytest.raises(DeployError, match="HTTP 409"):
        target.deploy_step("refused-svc", "1.0.0", RolloutStep(0, 5))
    assert len(received) == 1
    with pytest.raises(InputError):
        target.deploy_step("x; rm -rf /", "1.0.0", RolloutStep(0, 5))
    assert len(received) == 1


def test_webhook_down_fails_after_retries():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = WebhookTarget(f"http://127.0.0.1:{port}/x", attempts=2, base_delay=0.01, timeout=1.0)
    with pytest.raises(DeployError, match="after 2 attempts"):
        target.deploy_step("checkout-api", "1.0.0", RolloutStep(0, 5))
