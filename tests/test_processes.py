"""Background service records: spawn, ownership check against pid reuse, stop by group, stale pid files."""

from __future__ import annotations

import json
import signal
import sys

from releasepilot import processes

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
IGNORES_TERM = [sys.executable, "-c",
                ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
                "time.sleep(60)")]


def test_same_command_matches_console_scripts_and_rejects_others():
    argv = ["/venv/bin/prefect", "worker", "start", "--pool", "p"]
    assert processes.same_command(["/venv/bin/python", "/venv/bin/prefect", "worker", "start", "--pool", "p"], argv)
    assert processes.same_command(argv, argv)
    assert not processes.same_command(["/usr/bin/python", "/venv/bin/mlflow", "worker", "start", "--pool", "p"], argv)
    assert not processes.same_command(["/venv/bin/prefect", "worker", "start"], argv)
    assert not processes.same_command([], argv)


def test_spawn_records_and_stop_ends_the_group(tmp_path):
    record = processes.spawn(tmp_path, "sleeper", SLEEPER, {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert processes.read_record(tmp_path, "sleeper") == record
    assert processes.owns_pid(record) and processes.group_members(record.pid) == [record.pid]
    assert processes.stop(tmp_path, "sleeper") == "stopped (SIGTERM)"
    assert not processes.is_alive(record.pid)
    assert not processes.pid_file(tmp_path, "sleeper").exists()
    assert processes.stop(tmp_path, "sleeper") == "not running"


def test_a_process_that_ignores_the_signal_is_killed_after_the_timeout(tmp_path):
    record = processes.spawn(tmp_path, "stubborn", IGNORES_TERM, {"PATH": "/usr/bin:/bin"}, tmp_path)
    while "ready" not in processes.log_file(tmp_path, "stubborn").read_text():
        pass
    outcome = processes.stop(tmp_path, "stubborn", signal.SIGTERM, timeout=1.0)
    assert outcome.startswith("killed") and not processes.is_alive(record.pid)


def test_a_reused_pid_is_never_signalled(tmp_path):
    record = processes.spawn(tmp_path, "sleeper", SLEEPER, {"PATH": "/usr/bin:/bin"}, tmp_path)
    try:
        # The pid file claims another command: stop must leave the live process alone.
        processes.pid_file(tmp_path, "other").write_text(json.dumps(
            {"pid": record.pid, "argv": ["/venv/bin/mlflow", "server"], "started": 0}))
        assert processes.stop(tmp_path, "other") == "not running (stale pid file removed)"
        assert processes.is_alive(record.pid)
    finally:
        processes.stop(tmp_path, "sleeper")
