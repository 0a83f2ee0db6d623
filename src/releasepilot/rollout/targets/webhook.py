"""A deploy target that POSTs each action as JSON to a webhook (a CD system, a chat-ops bot...).

Body: `{"action", "service", "version", "weight", "step"}`. A connection error, a timeout or a 5xx is
retried with backoff; a 4xx is the receiver refusing the request and is not retried.
"""

from __future__ import annotations

from typing import Any

from releasepilot.rollout.targets.base import (
    DeployError,
    DeployResult,
    DeployTarget,
    RolloutStep,
    validate_service,
    validate_version,
)
from releasepilot.rollout.targets.retry import DEFAULT_ATTEMPTS, DEFAULT_BASE_DELAY, retry_with_backoff

DEFAULT_TIMEOUT_SECONDS = 10.0


class _Transient(DeployError):
    """A failure worth retrying."""


class WebhookTarget(DeployTarget):
    """POSTs JSON to `url`; optional extra headers (e.g. a token the operator configured)."""

    name = "webhook"

    def __init__(self, url: str, *, headers: dict[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                 attempts: int = DEFAULT_ATTEMPTS, base_delay: float = DEFAULT_BASE_DELAY):
        if not url.startswith(("http://", "https://")):
            raise DeployError(f"webhook url {url!r}: expected http:// or https://")
        self.url = url
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.attempts = attempts
        self.base_delay = base_delay

    def _post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        import httpx

        def once() -> dict[str, Any]:
            try:
                response = httpx.post(self.url, json=body, headers=self.headers, timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise _Transient(f"webhook {self.url}: {exc}") from exc
            if response.status_code >= 500:
                raise _Transient(f"webhook {self.url} answered HTTP {response.status_code}")
            if response.status_code >= 400:
                raise DeployError(f"webhook {self.url} refused {body['action']}: HTTP {response.status_code} "
                                  f"{response.text[:200]}")
            try:
                return response.json() if response.content else {}
            except ValueError:
                return {"text": response.text[:2000]}

        try:
            return retry_with_backoff(once, attempts=self.attempts, base_delay=self.base_delay,
                                      retry_on=(_Transient,))
        except _Transient as exc:
            raise DeployError(f"{exc} (after {self.attempts} attempts)") from exc

    def deploy_step(self, service: str, version: str, step: RolloutStep) -> DeployResult:
        body = {"action": "deploy_step", "service": validate_service(service),
                "version": validate_version(version), "weight": step.weight, "step": step.index}
        reply, attempts = self._post(body)
        return DeployResult("deploy_step", service, version, step.weight, True, attempts, {"response": reply})

    def rollback(self, service: str, previous_version: str) -> DeployResult:
        body = {"action": "rollback", "service": validate_service(service),
                "version": validate_version(previous_version), "weight": 100, "step": None}
        reply, attempts = self._post(body)
        return DeployResult("rollback", service, previous_version, None, True, attempts, {"response": reply})

    def status(self, service: str) -> dict[str, Any]:
        reply, _ = self._post({"action": "status", "service": validate_service(service), "version": None,
                               "weight": None, "step": None})
        return reply
