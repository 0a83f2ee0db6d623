"""Background services started by `releasepilot up`: spawn, record, check and stop them by pid.

Each service runs in its own session (process group), writes its output to `RUN_DIR/NAME.log`, and is
recorded in `RUN_DIR/NAME.pid` (JSON: pid, argv, start time). Stopping signals that group only, and only
when the recorded pid still runs the recorded command, so a reused pid is never signalled.
Liveness reads /proc (Linux), which also tells a zombie from a running process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STOP_TIMEOUT_SECONDS = 20.0
DEFAULT_POLL_SECONDS = 0.25
HTTP_PROBE_TIMEOUT_SECONDS = 2.0
CMDLINE_RETRIES = 20


@dataclass(frozen=True)
class Record:
    """What `up` wrote down about a started service."""

    name: str
    pid: int
    argv: list[str]
    started: float

    def as_dict(self) -> dict:
        return {"name": self.name, "pid": self.pid, "argv": self.argv, "started": self.started}


def pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.pid"


def log_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.log"


def read_record(run_dir: Path, name: str) -> Record | None:
    """The record of `name`, or None when there is none (or it is unreadable)."""
    path = pid_file(run_dir, name)
    try:
        data = json.loads(path.read_text())
        return Record(name=name, pid=int(data["pid"]), argv=list(data["argv"]), started=float(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _proc_state(pid: int) -> str | None:
    """The /proc state letter of `pid` (R, S, Z...), or None when it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _cmdline(pid: int) -> list[str]:
    try:
        return [p for p in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0") if p]
    except OSError:
        return []


def is_alive(pid: int) -> bool:
    """True when `pid` exists and is not a zombie."""
    state = _proc_state(pid)
    return state is not None and state not in ("Z", "X")


def owns_pid(record: Record) -> bool:
    """True when the recorded pid is alive and still runs the recorded command (not a reused pid)."""
    if not is_alive(record.pid):
        return False
    cmdline = _cmdline(record.pid)
    for _ in range(CMDLINE_RETRIES):         # empty while the kernel is still loading a just-started program
        if cmdline or not is_alive(record.pid):
            break
        time.sleep(DEFAULT_POLL_SECONDS)
        cmdline = _cmdline(record.pid)
    return same_command(cmdline, record.argv)


def same_command(cmdline: Sequence[str], argv: Sequence[str]) -> bool:
    """True when a /proc cmdline runs `argv` (a console script shows as `python /path/to/script ARGS`)."""
    if not cmdline or not argv:
        return False
    program, args = Path(argv[0]).name, list(argv[1:])
    if len(cmdline) <= len(args):
        return False
    head = list(cmdline[:len(cmdline) - len(args)])
    return list(cmdline[len(head):]) == args and any(Path(part).name == program for part in head)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def spawn(run_dir: Path, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> Record:
    """Start `argv` in its own session with output to NAME.log, and record it in NAME.pid."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with log_file(run_dir, name).open("ab") as log:
        process = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    record = Record(name=name, pid=process.pid, argv=list(argv), started=time.time())
    pid_file(run_dir, name).write_text(json.dumps(record.as_dict()))
    return record


def _reap(pid: int) -> None:
    """Collect an exited child of this process (a no-op for processes we did not start)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop(run_dir: Path, name: str, sig: int = signal.SIGTERM,
         timeout: float = DEFAULT_STOP_TIMEOUT_SECONDS) -> str:
    """Stop the recorded service: `sig` to its group, SIGKILL after `timeout`. Returns what happened."""
    record = read_record(run_dir, name)
    if record is None:
        pid_file(run_dir, name).unlink(missing_ok=True)
        return "not running"
    if not owns_pid(record):
        _reap(record.pid)
        pid_file(run_dir, name).unlink(missing_ok=True)
        return "not running (stale pid file removed)"
    outcome = f"stopped ({signal.Signals(sig).name})"
    try:
        os.killpg(record.pid, sig)
    except ProcessLookupError:
        pass
    if not wait_gone(record.pid, timeout):
        outcome = f"killed (no exit {timeout:.0f} s after {signal.Signals(sig).name})"
        try:
            os.killpg(record.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        wait_gone(record.pid, DEFAULT_STOP_TIMEOUT_SECONDS)
    pid_file(run_dir, name).unlink(missing_ok=True)
    return outcome


def wait_gone(pgid: int, timeout: float) -> bool:
    """Wait until no live process is left in group `pgid`; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pgid)
        if not group_members(pgid):
            return True
        time.sleep(DEFAULT_POLL_SECONDS)
    _reap(pgid)
    return not group_members(pgid)


def http_ok(url: str, accept_below: int = 500) -> bool:
    """True when `url` answers with a status below `accept_below`."""
    import httpx

    try:
        return httpx.get(url, timeout=HTTP_PROBE_TIMEOUT_SECONDS).status_code < accept_below
    except httpx.HTTPError:
        return False


def port_in_use(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def log_tail(run_dir: Path, name: str, lines: int = 15) -> str:
    """The last lines of a service's log, for error messages."""
    try:
        return "\n".join(log_file(run_dir, name).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
