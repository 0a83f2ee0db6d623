"""A deploy target that runs commands (kubectl, helm, Argo Rollouts...) from argument-list templates.

Each action has a template: a list of arguments where `{service}`, `{version}`, `{weight}` and
`{previous_version}` are replaced by values that were checked against strict patterns first. The command
runs with `subprocess.run(list)` and never through a shell, so no value can become a second command.
A failing command is retried with exponential backoff. Example (Argo Rollouts):

    {"deploy_step": ["kubectl", "argo", "rollouts", "set", "image", "{service}", "app=registry/{service}:{version}"],
     "rollback": ["kubectl", "argo", "rollouts", "undo", "{service}"],
     "status": ["kubectl", "argo", "rollouts", "status", "{service}", "--watch=false"]}
"""

from __future__ import annotations

import string
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from releasepilot.errors import InputError
from releasepilot.rollout.targets.base import (
    DeployError,
    DeployResult,
    DeployTarget,
    RolloutStep,
    validate_service,
    validate_version,
)
from releasepilot.rollout.targets.retry import DEFAULT_ATTEMPTS, DEFAULT_BASE_DELAY, retry_with_backoff

ACTIONS = ("deploy_step", "rollback", "status")
PLACEHOLDERS = frozenset({"service", "version", "weight", "previous_version"})
DEFAULT_TIMEOUT_SECONDS = 120.0
OUTPUT_KEEP = 2000            # characters of stdout/stderr kept in a result


def check_templates(templates: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Every action present, each a non-empty list of strings, only known `{name}` fields (no attributes,
    indexing or format specs)."""
    checked: dict[str, list[str]] = {}
    for action in ACTIONS:
        args = templates.get(action)
        if not isinstance(args, (list, tuple)) or not args or not all(isinstance(a, str) for a in args):
            raise InputError(f"expected a non-empty list of strings for action {action!r}", field=action)
        for arg in args:
            for _, name, spec, conversion in string.Formatter().parse(arg):
                if name is None:
                    continue
                if name not in PLACEHOLDERS or spec or conversion:
                    raise InputError(f"placeholder {{{name}}} in {arg!r}: allowed are "
                                     f"{', '.join(sorted(PLACEHOLDERS))} with no format spec", field=action)
        checked[action] = list(args)
    return checked


def render(template: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """Fill the placeholders of one argument list (values must already be validated)."""
    return [arg.format_map(values) for arg in template]


class CommandTarget(DeployTarget):
    """Runs one command per action, without a shell, retrying failures with backoff."""

    name = "command"

    def __init__(self, templates: Mapping[str, Sequence[str]], *, attempts: int = DEFAULT_ATTEMPTS,
                 base_delay: float = DEFAULT_BASE_DELAY, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                 cwd: str | None = None):
        self.templates = check_templates(templates)
        self.attempts = attempts
        self.base_delay = base_delay
        self.timeout = timeout
        self.cwd = cwd

    def _execute(self, action: str, values: dict[str, str]) -> tuple[subprocess.CompletedProcess, int]:
        argv = render(self.templates[action], values)

        def once() -> subprocess.CompletedProcess:
            try:
                done = subprocess.run(argv, shell=False, capture_output=True, text=True, timeout=self.timeout,
                                      cwd=self.cwd, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise DeployError(f"{action}: could not run {argv[0]!r}: {exc}") from exc
            if done.returncode != 0:
                raise DeployError(f"{action}: {argv[0]!r} exited {done.returncode}: {done.stderr[-OUTPUT_KEEP:]}")
            return done

        return retry_with_backoff(once, attempts=self.attempts, base_delay=self.base_delay,
                                  retry_on=(DeployError,))

    def _result(self, action: str, service: str, version: str, weight: int | None,
                values: dict[str, str]) -> DeployResult:
        done, attempts = self._execute(action, values)
        return DeployResult(action, service, version, weight, True, attempts,
                            {"argv": render(self.templates[action], values),
                             "stdout": done.stdout[-OUTPUT_KEEP:]})

    def deploy_step(self, service: str, version: str, step: RolloutStep) -> DeployResult:
        values = {"service": validate_service(service), "version": validate_version(version),
                  "weight": str(step.weight), "previous_version": ""}
        return self._result("deploy_step", service, version, step.weight, values)

    def rollback(self, service: str, previous_version: str) -> DeployResult:
        values = {"service": validate_service(service), "version": validate_version(previous_version),
                  "weight": "100", "previous_version": previous_version}
        return self._result("rollback", service, previous_version, None, values)

    def status(self, service: str) -> dict[str, Any]:
        values = {"service": validate_service(service), "version": "", "weight": "", "previous_version": ""}
        done, _ = self._execute("status", values)
        return {"service": service, "output": done.stdout[-OUTPUT_KEEP:]}
