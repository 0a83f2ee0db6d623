"""The local service stack behind `make up` / `make down`: Prefect server and worker, MLflow UI, dashboard.

`start_stack` starts the Prefect server and the MLflow server side by side, waits for Prefect, creates
the process work pool, registers the deployments of `prefect.yaml`, then starts a worker and (when the
`serve` command exists) the dashboard, and waits until everything answers. `stop_stack` stops them by
the pids recorded under the run folder (the worker with SIGINT, which is what it listens to).
Ports, folders and database URLs come from environment variables (`StackConfig.from_env`), so tests and
teams on PostgreSQL run the same code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from releasepilot import processes
from releasepilot.errors import InputError, ReleasePilotError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PREFECT_PORT = 4200
DEFAULT_MLFLOW_PORT = 5000
DEFAULT_DASHBOARD_PORT = 8000
DEFAULT_WORK_POOL = "releasepilot"
DEFAULT_RUN_DIR = ".run"
DEFAULT_STARTUP_TIMEOUT_SECONDS = 180.0
DEFAULT_DEPLOY_TIMEOUT_SECONDS = 300.0
DEFAULT_MLFLOW_BACKEND = "sqlite:///mlflow.db"
SERVICE_ORDER = ("prefect-server", "mlflow", "worker", "dashboard")
STOP_SIGNALS = {"worker": signal.SIGINT}          # the Prefect worker ignores SIGTERM
QUIET_ENV = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
             "DO_NOT_TRACK": "1", "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


class StackError(ReleasePilotError):
    """A service did not start or the deployments could not be registered."""

    exit_code = 4


@dataclass(frozen=True)
class StackConfig:
    """Where the stack listens and keeps its state."""

    home: Path
    run_dir: Path
    host: str = DEFAULT_HOST
    prefect_port: int = DEFAULT_PREFECT_PORT
    mlflow_port: int = DEFAULT_MLFLOW_PORT
    dashboard_port: int = DEFAULT_DASHBOARD_PORT
    work_pool: str = DEFAULT_WORK_POOL
    mlflow_backend_uri: str = DEFAULT_MLFLOW_BACKEND
    mlflow_artifacts: Path = Path("mlartifacts")
    prefect_database_url: str | None = None        # None: SQLite under RUN_DIR/prefect
    dashboard: bool = True
    worker_poll_seconds: int | None = None
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT_SECONDS
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def prefect_api_url(self) -> str:
        return f"http://{self.host}:{self.prefect_port}/api"

    @property
    def prefect_ui_url(self) -> str:
        return f"http://{self.host}:{self.prefect_port}"

    @property
    def mlflow_url(self) -> str:
        return f"http://{self.host}:{self.mlflow_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://{self.host}:{self.dashboard_port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> StackConfig:
        """Read RELEASEPILOT_STACK_HOST, RELEASEPILOT_{PREFECT,MLFLOW,DASHBOARD}_PORT, RELEASEPILOT_RUN_DIR,
        RELEASEPILOT_MLFLOW_BACKEND_URI, RELEASEPILOT_MLFLOW_ARTIFACTS and PREFECT_API_DATABASE_CONNECTION_URL."""
        from releasepilot.config import get_settings

        env = os.environ if env is None else env
        home = get_settings().home
        backend = env.get("RELEASEPILOT_MLFLOW_BACKEND_URI") or _local_backend(get_settings().tracking_uri())
        values = {
            "home": home,
            "run_dir": _under(home, env.get("RELEASEPILOT_RUN_DIR", DEFAULT_RUN_DIR)),
            "host": env.get("RELEASEPILOT_STACK_HOST", DEFAULT_HOST),
            "prefect_port": _port(env, "RELEASEPILOT_PREFECT_PORT", DEFAULT_PREFECT_PORT),
            "mlflow_port": _port(env, "RELEASEPILOT_MLFLOW_PORT", DEFAULT_MLFLOW_PORT),
            "dashboard_port": _port(env, "RELEASEPILOT_DASHBOARD_PORT", DEFAULT_DASHBOARD_PORT),
            "mlflow_backend_uri": backend,
            "mlflow_artifacts": _under(home, env.get("RELEASEPILOT_MLFLOW_ARTIFACTS", "mlartifacts")),
            "prefect_database_url": env.get("PREFECT_API_DATABASE_CONNECTION_URL") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _under(home: Path, path: str | Path) -> Path:
    path = Path(path)
    return path if path.is_absolute() else home / path


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise InputError(f"expected a TCP port number (1-65535), got {raw!r}", source="environment", field=name)
    return int(raw)


def _local_backend(tracking_uri: str) -> str:
    """The MLflow server's store: the configured database, or SQLite when the client points at a server."""
    return DEFAULT_MLFLOW_BACKEND if tracking_uri.startswith(("http://", "https://")) else tracking_uri


def _bin(name: str) -> str:
    """A console script of this virtualenv (the one running us)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def service_env(config: StackConfig, base: Mapping[str, str]) -> dict[str, str]:
    """The environment every stack process gets: the caller's, quiet defaults, the API URL and home."""
    env = {**QUIET_ENV, **base, **config.extra_env}
    env.update(PREFECT_API_URL=config.prefect_api_url, RELEASEPILOT_HOME=str(config.home),
               PREFECT_HOME=env.get("PREFECT_HOME") or str(config.run_dir / "prefect"))
    env.setdefault("RELEASEPILOT_MLFLOW_UI", config.mlflow_url)     # the dashboard links reports to it
    if config.prefect_database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = config.prefect_database_url
    if config.worker_poll_seconds:
        env["PREFECT_WORKER_QUERY_SECONDS"] = str(config.worker_poll_seconds)
    return env


def service_commands(config: StackConfig) -> dict[str, list[str]]:
    """The command line of each long-running service (the dashboard only when `config.dashboard`)."""
    commands = {
        "prefect-server": [_bin("prefect"), "server", "start", "--host", config.host,
                           "--port", str(config.prefect_port)],
        "mlflow": [_bin("mlflow"), "server", "--host", config.host, "--port", str(config.mlflow_port),
                   "--workers", "1", "--backend-store-uri", config.mlflow_backend_uri,
                   "--artifacts-destination", str(config.mlflow_artifacts)],
        "worker": [_bin("prefect"), "worker", "start", "--pool", config.work_pool, "--type", "process",
                   "--name", f"{config.work_pool}-local"],
    }
    if config.dashboard:
        commands["dashboard"] = [_bin("releasepilot"), "serve", "--host", config.host,
                                 "--port", str(config.dashboard_port)]
    return commands


def health_urls(config: StackConfig) -> dict[str, str]:
    """Where each service says it is up (the worker has none: it is up when it runs)."""
    return {"prefect-server": f"{config.prefect_api_url}/health", "mlflow": f"{config.mlflow_url}/health",
            "dashboard": config.dashboard_url + "/"}


def ports(config: StackConfig) -> dict[str, int]:
    return {"prefect-server": config.prefect_port, "mlflow": config.mlflow_port, "dashboard": config.dashboard_port}


def dashboard_available() -> bool:
    """True when this installation has the `releasepilot serve` command."""
    import typer.main

    from releasepilot.cli import app

    return "serve" in typer.main.get_command(app).commands  # type: ignore[attr-defined]


@dataclass
class StackReport:
    """What `start_stack` did: each service's state and seconds to healthy, and the deployments."""

    services: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    deployments: list[str] = field(default_factory=list)
    skipped_deployments: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"services": self.services, "seconds": {k: round(v, 1) for k, v in self.seconds.items()},
                "deployments": self.deployments, "skipped_deployments": self.skipped_deployments,
                "addresses": self.addresses}


Progress = Callable[[str], None]


def start_stack(config: StackConfig, on_event: Progress | None = None) -> StackReport:
    """Start whatever part of the stack is not running yet; raise StackError naming the failing service."""
    from releasepilot.deployments import deploy_all, ensure_work_pool

    say = on_event or (lambda message: None)
    if config.dashboard and not dashboard_available():
        say("dashboard: `releasepilot serve` is not installed here, skipped")
        config = replace(config, dashboard=False)
    config.run_dir.mkdir(parents=True, exist_ok=True)
    env, commands = service_env(config, os.environ), service_commands(config)
    report, began = StackReport(), time.monotonic()

    try:
        watched = [name for name in ("prefect-server", "mlflow", "dashboard") if name in commands]
        for name in watched:
            report.services[name] = _launch(config, name, commands[name], env)
        watchers = {name: _HealthWatch(config, name, began) for name in watched}
        _finish(watchers["prefect-server"], report)
        say(f"prefect server: healthy after {report.seconds['prefect-server']:.1f} s")
        ensure_work_pool(config.work_pool, env, config.home)
        deployed, skipped = deploy_all(config.home, env, timeout=DEFAULT_DEPLOY_TIMEOUT_SECONDS,
                                       log=config.run_dir / "deploy.log")
        report.deployments, report.skipped_deployments = deployed, skipped
        report.seconds["deploy"] = time.monotonic() - began
        say(f"deployments: {len(deployed)} registered after {report.seconds['deploy']:.1f} s")
        report.services["worker"] = _launch(config, "worker", commands["worker"], env)
        for name in watched[1:]:
            _finish(watchers[name], report)
            say(f"{name}: healthy after {report.seconds[name]:.1f} s")
        time.sleep(1.0)
        if not processes.owns_pid(processes.read_record(config.run_dir, "worker")):  # type: ignore[arg-type]
            raise StackError(f"the Prefect worker exited at start:\n{processes.log_tail(config.run_dir, 'worker')}")
    except BaseException:
        for name, state in report.services.items():          # leave nothing half-started behind
            if state.startswith("started"):
                processes.stop(config.run_dir, name, STOP_SIGNALS.get(name, signal.SIGTERM))
        raise
    report.seconds["total"] = time.monotonic() - began
    report.addresses = addresses(config)
    return report


def addresses(config: StackConfig) -> dict[str, str]:
    found = {"Prefect UI": config.prefect_ui_url, "Prefect API": config.prefect_api_url,
             "MLflow UI": config.mlflow_url}
    if config.dashboard:
        found["Dashboard"] = config.dashboard_url
    return found


def _launch(config: StackConfig, name: str, argv: list[str], env: dict[str, str]) -> str:
    record = processes.read_record(config.run_dir, name)
    if record is not None and processes.owns_pid(record):
        return f"already running (pid {record.pid})"
    port = ports(config).get(name)
    if port is not None and processes.port_in_use(config.host, port):
        raise StackError(f"{name}: port {config.host}:{port} is taken by another program; choose another with "
                         f"RELEASEPILOT_{name.split('-')[0].upper()}_PORT")
    started = processes.spawn(config.run_dir, name, argv, env, config.home)
    return f"started (pid {started.pid})"


class _HealthWatch:
    """Polls one service's health URL in a thread, so each start-up time is measured while others start."""

    def __init__(self, config: StackConfig, name: str, began: float):
        import threading

        self.config, self.name, self.began = config, name, began
        self.seconds: float | None = None
        self.error: str | None = None
        self.thread = threading.Thread(target=self._poll, name=f"health-{name}", daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        config, name = self.config, self.name
        url = health_urls(config)[name]
        deadline = time.monotonic() + config.startup_timeout
        while time.monotonic() < deadline:
            if processes.http_ok(url):
                self.seconds = time.monotonic() - self.began
                return
            record = processes.read_record(config.run_dir, name)
            if record is None or not processes.is_alive(record.pid):
                self.error = (f"{name} exited before answering on {url}; its log "
                              f"({processes.log_file(config.run_dir, name)}) ends with:\n"
                              f"{processes.log_tail(config.run_dir, name)}")
                return
            time.sleep(0.5)
        self.error = (f"{name} did not answer on {url} within {config.startup_timeout:.0f} s; see "
                      f"{processes.log_file(config.run_dir, name)}")


def _finish(watch: _HealthWatch, report: StackReport) -> None:
    """Wait for a watcher; record its time or raise StackError with the service's log."""
    watch.thread.join()
    if watch.seconds is None:
        raise StackError(watch.error or f"{watch.name} did not start")
    report.seconds[watch.name] = watch.seconds


def stop_stack(config: StackConfig) -> dict[str, str]:
    """Stop every recorded service, the worker first; idempotent (nothing recorded: nothing to do)."""
    outcome = {}
    for name in ("worker", "dashboard", "mlflow", "prefect-server"):
        outcome[name] = processes.stop(config.run_dir, name, STOP_SIGNALS.get(name, signal.SIGTERM))
    return outcome


def stack_status(config: StackConfig) -> dict[str, dict]:
    """Each service: pid (or None) and whether it is running the recorded command."""
    status = {}
    for name in SERVICE_ORDER:
        record = processes.read_record(config.run_dir, name)
        running = record is not None and processes.owns_pid(record)
        status[name] = {"pid": record.pid if record else None, "running": running,
                        "log": str(processes.log_file(config.run_dir, name))}
    return status


def run_cli(argv: list[str], env: Mapping[str, str], cwd: Path, timeout: float, log: Path | None = None):
    """Run a short CLI command; its output goes to `log` (appended) and is returned."""
    result = subprocess.run(argv, check=False, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout)
    if log is not None:
        with log.open("a") as handle:
            handle.write(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}\n")
    return result
