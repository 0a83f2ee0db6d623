"""The rollout event log: DuckDB `app.rollout_events`, append-only, one row per thing that happened.

The executor writes an event before and after every step (and for every gate, decision, approval and
rollback), each carrying its evidence as JSON. Running a plan again reads the log back
(`release_progress`) to continue from the last completed step: nothing is done twice, nothing is lost.
Connections are opened briefly (`open_store`): one at a time inside this process, and retried for a
while when another process holds the warehouse file.
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

EVENTS_TABLE = "app.rollout_events"
_MUTEXES: dict[str, threading.RLock] = {}
_MUTEXES_GUARD = threading.Lock()

# Event kinds (the executor's vocabulary).
STEP_STARTED, STEP_DEPLOYED, STEP_COMPLETED, STEP_FAILED = "step_started", "step_deployed", "step_completed", "step_failed"
GATE, DECISION = "gate", "decision"
ROLLBACK_STARTED, ROLLBACK_COMPLETED, ROLLBACK_FAILED = "rollback_started", "rollback_completed", "rollback_failed"
RELEASE_STARTED, RELEASE_FINISHED = "release_started", "release_finished"
PLAN_STARTED, PLAN_FINISHED = "plan_started", "plan_finished"
APPROVAL_REQUESTED, APPROVAL_ANSWERED = "approval_requested", "approval_answered"
APPROVAL_WAITING = "approval_waiting"   # where a person answers: e.g. the paused Prefect flow run's id


def _mutex(path: Path) -> threading.RLock:
    key = str(path.resolve())
    with _MUTEXES_GUARD:
        return _MUTEXES.setdefault(key, threading.RLock())


_SESSIONS: dict[str, list[Any]] = {}      # path -> [connection, users]


def _connect(path: Path) -> Any:
    from releasepilot.warehouse import open_connection

    return open_connection(path)


@contextmanager
def store_session(warehouse: Path | str) -> Iterator[None]:
    """Keep one connection open for a whole run (opening DuckDB costs ~0.1 s; a run writes hundreds of
    events). Inside it, `open_store` hands out that connection; other processes wait for the file."""
    path = Path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    with _mutex(path):
        if key in _SESSIONS:
            _SESSIONS[key][1] += 1
        else:
            _SESSIONS[key] = [_connect(path), 1]
    try:
        yield
    finally:
        with _mutex(path):
            _SESSIONS[key][1] -= 1
            if _SESSIONS[key][1] == 0:
                con = _SESSIONS.pop(key)[0]
                if con is not None:
                    con.close()


@contextmanager
def session_released(warehouse: Path | str) -> Iterator[None]:
    """Let other processes (the API, the dashboard, the CLI) at the file while the run waits for a person
    or a wall-clock bake; the next event reopens the session's connection."""
    path = Path(warehouse)
    with _mutex(path):
        session = _SESSIONS.get(str(path.resolve()))
        if session is not None and session[0] is not None:
            session[0].close()
            session[0] = None
    yield


@contextmanager
def open_store(warehouse: Path | str) -> Iterator[Any]:
    """A read-write connection for one piece of work, serialised inside the process: the session's when
    one is open, else a short-lived one (retried while another process holds the file)."""
    path = Path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _mutex(path):
        session = _SESSIONS.get(str(path.resolve()))
        if session is not None:
            if session[0] is None:            # let go while the run waited: take the file again
                session[0] = _connect(path)
            yield session[0]
            return
        con = _connect(path)
        try:
            yield con
        finally:
            con.close()


def to_jsonable(value: Any) -> Any:
    """Plain JSON values from dataclasses, numpy scalars/arrays, datetimes; NaN and inf become null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return to_jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):
        return to_jsonable(value.item())
    return str(value)


def utc_naive(moment: datetime) -> datetime:
    """DuckDB TIMESTAMP holds UTC without an offset."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def ensure_events_table(con: Any) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS app")
    con.execute(f"""CREATE TABLE IF NOT EXISTS {EVENTS_TABLE} (
        seq BIGINT, plan_id VARCHAR, run_id VARCHAR, release_id VARCHAR, service VARCHAR, step_index INTEGER,
        kind VARCHAR, status VARCHAR, event_at TIMESTAMP, recorded_at TIMESTAMP, detail VARCHAR)""")


@dataclass(frozen=True)
class Event:
    seq: int
    plan_id: str
    run_id: str
    release_id: str | None
    service: str | None
    step_index: int | None
    kind: str
    status: str | None
    at: datetime
    recorded_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


class EventLog:
    """Appends events of one run of one plan; reads the plan's whole log."""

    def __init__(self, warehouse: Path | str, plan_id: str, run_id: str):
        self.warehouse, self.plan_id, self.run_id = Path(warehouse), plan_id, run_id
        with open_store(self.warehouse) as con:
            ensure_events_table(con)

    def append(self, kind: str, *, at: datetime, release_id: str | None = None, service: str | None = None,
               step_index: int | None = None, status: str | None = None,
               detail: dict[str, Any] | None = None) -> None:
        """Write one event (its own transaction: it is on disk when this returns)."""
        payload = json.dumps(to_jsonable(detail or {}))
        with open_store(self.warehouse) as con:
            con.execute("BEGIN TRANSACTION")
            seq = con.execute(f"SELECT coalesce(max(seq), 0) + 1 FROM {EVENTS_TABLE}").fetchone()[0]
            con.execute(f"INSERT INTO {EVENTS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [seq, self.plan_id, self.run_id, release_id, service, step_index, kind, status,
                         utc_naive(at), utc_naive(datetime.now(UTC)), payload])
            con.execute("COMMIT")

    def events(self) -> list[Event]:
        return read_events(self.warehouse, self.plan_id)


def read_events(warehouse: Path | str, plan_id: str | None = None) -> list[Event]:
    """Every event (of one plan, or all), in the order written."""
    with open_store(warehouse) as con:
        ensure_events_table(con)
        where, params = ("WHERE plan_id = ?", [plan_id]) if plan_id else ("", [])
        rows = con.execute(f"SELECT seq, plan_id, run_id, release_id, service, step_index, kind, status, event_at, "
                           f"recorded_at, detail FROM {EVENTS_TABLE} {where} ORDER BY seq", params).fetchall()
    return [Event(*row[:8], as_utc(row[8]), as_utc(row[9]), json.loads(row[10] or "{}")) for row in rows]


@dataclass
class ReleaseProgress:
    """What the log says about one release: steps deployed/completed, failure, rollback, final status."""

    started_at: datetime | None = None
    deployed: set[int] = field(default_factory=set)
    completed: set[int] = field(default_factory=set)
    failure: dict[str, Any] | None = None
    rollback_done: bool = False
    finished: str | None = None
    last_at: datetime | None = None


def release_progress(events: list[Event]) -> dict[str, ReleaseProgress]:
    """Fold a plan's events into per-release progress (the resume point). Pure."""
    out: dict[str, ReleaseProgress] = {}
    for e in events:
        if e.release_id is None:
            continue
        p = out.setdefault(e.release_id, ReleaseProgress())
        p.last_at = e.at if p.last_at is None else max(p.last_at, e.at)
        if e.kind == RELEASE_STARTED and p.started_at is None:
            p.started_at = e.at
        elif e.kind == STEP_DEPLOYED and e.step_index is not None:
            p.deployed.add(e.step_index)
        elif e.kind == STEP_COMPLETED and e.step_index is not None:
            p.completed.add(e.step_index)
        elif e.kind == STEP_FAILED and p.failure is None:
            p.failure = dict(e.detail, step_index=e.step_index, at=e.at.isoformat())
        elif e.kind in (ROLLBACK_COMPLETED, ROLLBACK_FAILED):
            p.rollback_done = True
        elif e.kind == RELEASE_FINISHED:
            p.finished = e.status
    return out


def list_rollouts(warehouse: Path | str) -> list[dict[str, Any]]:
    """One summary per plan: first/last event, runs, status and per-release status."""
    plans: dict[str, dict[str, Any]] = {}
    for e in read_events(warehouse):
        p = plans.setdefault(e.plan_id, {"plan_id": e.plan_id, "first_at": e.at, "last_at": e.at, "runs": [],
                                         "events": 0, "status": "running", "releases": {}})
        p["events"] += 1
        p["last_at"] = max(p["last_at"], e.at)
        if e.run_id not in p["runs"]:
            p["runs"].append(e.run_id)
        if e.kind == PLAN_FINISHED:
            p["status"] = e.status
        elif e.kind == PLAN_STARTED:
            p["status"] = "running"
        if e.kind == RELEASE_FINISHED and e.release_id:
            p["releases"][e.release_id] = e.status
    return [to_jsonable(p) for p in plans.values()]


def record_approval_waiting(warehouse: Path | str, plan_id: str, release_id: str, step_index: int,
                            **detail: Any) -> bool:
    """Note where an open approval request waits (e.g. `flow_run_id`, `key`), as an `approval_waiting` event of
    the same run, release, step and time as the request; False when there is no such request."""
    with open_store(warehouse) as con:
        ensure_events_table(con)
        found = con.execute(f"SELECT run_id, service, event_at FROM {EVENTS_TABLE} WHERE plan_id = ? AND release_id = ? "
                            f"AND step_index = ? AND kind = ? ORDER BY seq DESC LIMIT 1",
                            [plan_id, release_id, step_index, APPROVAL_REQUESTED]).fetchall()
    if not found:
        return False
    run_id, service, at = found[0]
    EventLog(warehouse, plan_id, run_id).append(APPROVAL_WAITING, at=as_utc(at), release_id=release_id,
                                                service=service, step_index=step_index, status="waiting",
                                                detail=detail)
    return True
