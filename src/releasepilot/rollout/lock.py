"""One rollout per service at a time: a lock row per service in DuckDB `app.rollout_locks`.

A plan takes the locks of all its services (sorted, so two plans cannot deadlock) before it deploys
anything and gives them back when it ends. A second plan wanting a locked service waits up to a timeout,
then is refused with a message naming the plan that holds it. The same plan may take its own locks again:
that is how a run resumes after a crash left them held.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from releasepilot.errors import ReleasePilotError
from releasepilot.rollout.events import as_utc, open_store, utc_naive

LOCKS_TABLE = "app.rollout_locks"
DEFAULT_LOCK_TIMEOUT_SECONDS = 0.0     # refuse at once unless asked to wait
DEFAULT_LOCK_POLL_SECONDS = 0.5


class ServiceLocked(ReleasePilotError):
    """Another plan is rolling out this service."""

    exit_code = 6


@dataclass(frozen=True)
class LockHolder:
    service: str
    plan_id: str
    run_id: str
    acquired_at: datetime


def ensure_locks_table(con: Any) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS app")
    con.execute(f"CREATE TABLE IF NOT EXISTS {LOCKS_TABLE} (service VARCHAR PRIMARY KEY, plan_id VARCHAR, "
                "run_id VARCHAR, acquired_at TIMESTAMP)")


def _try_take(warehouse: Path, services: list[str], plan_id: str, run_id: str) -> LockHolder | None:
    """Take every lock in one transaction, or none; returns the first foreign holder when refused."""
    with open_store(warehouse) as con:
        ensure_locks_table(con)
        con.execute("BEGIN TRANSACTION")
        placeholders = ", ".join("?" for _ in services)
        rows = con.execute(f"SELECT service, plan_id, run_id, acquired_at FROM {LOCKS_TABLE} "
                           f"WHERE service IN ({placeholders}) AND plan_id <> ? ORDER BY service",
                           [*services, plan_id]).fetchall()
        if rows:
            con.execute("ROLLBACK")
            s, p, r, at = rows[0]
            return LockHolder(s, p, r, as_utc(at))
        now = utc_naive(datetime.now(UTC))
        con.execute(f"DELETE FROM {LOCKS_TABLE} WHERE service IN ({placeholders})", services)
        for service in services:
            con.execute(f"INSERT INTO {LOCKS_TABLE} VALUES (?, ?, ?, ?)", [service, plan_id, run_id, now])
        con.execute("COMMIT")
    return None


def acquire_services(warehouse: Path | str, services: Iterable[str], plan_id: str, run_id: str, *,
                     timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
                     poll: float = DEFAULT_LOCK_POLL_SECONDS) -> None:
    """Lock `services` for `plan_id`, waiting up to `timeout` seconds; raises `ServiceLocked` naming the holder."""
    wanted = sorted(set(services))
    if not wanted:
        return
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        holder = _try_take(Path(warehouse), wanted, plan_id, run_id)
        if holder is None:
            return
        if time.monotonic() >= deadline:
            raise ServiceLocked(
                f"service {holder.service!r} is being rolled out by plan {holder.plan_id!r} (run {holder.run_id}, "
                f"since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC); waited {timeout:g} s. Retry when that plan "
                f"has finished (see `releasepilot rollouts --plan {holder.plan_id}`)")
        time.sleep(min(poll, max(deadline - time.monotonic(), 0.0)) or poll)


def release_services(warehouse: Path | str, plan_id: str) -> int:
    """Give back every lock `plan_id` holds; returns how many."""
    with open_store(warehouse) as con:
        ensure_locks_table(con)
        count = con.execute(f"SELECT count(*) FROM {LOCKS_TABLE} WHERE plan_id = ?", [plan_id]).fetchone()[0]
        con.execute(f"DELETE FROM {LOCKS_TABLE} WHERE plan_id = ?", [plan_id])
    return int(count)


def current_locks(warehouse: Path | str) -> list[LockHolder]:
    with open_store(warehouse) as con:
        ensure_locks_table(con)
        rows = con.execute(f"SELECT service, plan_id, run_id, acquired_at FROM {LOCKS_TABLE} ORDER BY service"
                           ).fetchall()
    return [LockHolder(s, p, r, as_utc(at)) for s, p, r, at in rows]
