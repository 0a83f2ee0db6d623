"""The Prefect deployments of `prefect.yaml`: which can be registered, the work pool, and `prefect deploy`.

A deployment whose entrypoint file is missing (a flow still being written) is skipped with its reason
instead of failing the whole `prefect deploy --all`; the others are registered in one `prefect deploy`
call. Used by `releasepilot up` (stack.py) and by tests that check what the server holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PREFECT_YAML = "prefect.yaml"
PROCESS_POOL_TYPE = "process"
WORK_POOL_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class DeploymentSpec:
    """One entry of prefect.yaml's `deployments:` list (the parts we check)."""

    name: str
    entrypoint: str
    work_pool: str | None
    schedules: list[dict]
    triggers: list[dict]

    @property
    def flow_file(self) -> str:
        return self.entrypoint.split(":", 1)[0]

    @property
    def flow_function(self) -> str:
        return self.entrypoint.split(":", 1)[1] if ":" in self.entrypoint else ""


def read_deployments(home: Path) -> list[DeploymentSpec]:
    """The deployments listed in HOME/prefect.yaml (InputError naming the entry when one is malformed)."""
    import yaml

    from releasepilot.errors import InputError

    path = home / PREFECT_YAML
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the Prefect project file: {exc}", source=str(path)) from None
    specs = []
    for index, entry in enumerate(document.get("deployments") or []):
        if not isinstance(entry, dict) or not entry.get("name") or ":" not in str(entry.get("entrypoint", "")):
            raise InputError("expected a mapping with `name` and `entrypoint: FILE:FUNCTION`", source=str(path),
                             row=index + 1, field="deployments")
        pool = entry.get("work_pool") or {}
        specs.append(DeploymentSpec(name=str(entry["name"]), entrypoint=str(entry["entrypoint"]),
                                    work_pool=pool.get("name") if isinstance(pool, dict) else None,
                                    schedules=list(entry.get("schedules") or []),
                                    triggers=list(entry.get("triggers") or [])))
    return specs


def split_deployable(specs: list[DeploymentSpec], home: Path) -> tuple[list[DeploymentSpec], dict[str, str]]:
    """The deployments whose flow file exists, and the others with the reason they are skipped."""
    ready, skipped = [], {}
    for spec in specs:
        if (home / spec.flow_file).is_file():
            ready.append(spec)
        else:
            skipped[spec.name] = f"{spec.flow_file} does not exist yet"
    return ready, skipped


def deploy_command(prefect: str, names: list[str]) -> list[str]:
    """`prefect --no-prompt deploy --name A --name B ...`."""
    argv = [prefect, "--no-prompt", "deploy"]
    for name in names:
        argv += ["--name", name]
    return argv


def ensure_work_pool(name: str, env: Mapping[str, str], cwd: Path) -> bool:
    """Create the process work pool `name` unless the server has it; True when it was created."""
    import httpx

    from releasepilot.stack import StackError, _bin, run_cli

    response = httpx.get(f"{env['PREFECT_API_URL']}/work_pools/{name}", timeout=10)
    if response.status_code == 200:
        return False
    result = run_cli([_bin("prefect"), "work-pool", "create", name, "--type", PROCESS_POOL_TYPE], env, cwd,
                     timeout=WORK_POOL_TIMEOUT_SECONDS)
    if result.returncode != 0:
        raise StackError(f"could not create the work pool {name!r}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return True


def deploy_all(home: Path, env: Mapping[str, str], timeout: float, log: Path | None = None,
               ) -> tuple[list[str], dict[str, str]]:
    """Register every deployable deployment of HOME/prefect.yaml; returns (registered, skipped with reason)."""
    from releasepilot.stack import StackError, _bin, run_cli

    ready, skipped = split_deployable(read_deployments(home), home)
    if not ready:
        return [], skipped
    result = run_cli(deploy_command(_bin("prefect"), [spec.name for spec in ready]), env, home, timeout, log)
    if result.returncode != 0:
        raise StackError(f"`prefect deploy` failed (exit {result.returncode}); see {log}:\n"
                         f"{(result.stdout + result.stderr)[-3000:]}")
    return [spec.name for spec in ready], skipped


async def registered_deployments(api_url: str) -> dict[str, dict]:
    """The deployments the server holds, by deployment name: flow, schedules, pool (Prefect client API)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}):
        async with get_client() as client:
            found = {}
            for deployment in await client.read_deployments():
                flow = await client.read_flow(deployment.flow_id)
                found[deployment.name] = {
                    "id": str(deployment.id), "flow": flow.name, "work_pool": deployment.work_pool_name,
                    "entrypoint": deployment.entrypoint, "pull_steps": deployment.pull_steps,
                    "schedules": [getattr(s.schedule, "cron", None) for s in deployment.schedules],
                    "parameters": deployment.parameters,
                }
            return found
