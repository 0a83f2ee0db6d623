"""Release outcomes go back into the history that training reads.

Each executed release becomes one row of `raw.deployments` (the data contract: deployment_id
`<plan_id>/<release_id>`, status succeeded | rolled_back | failed, environment production, deployer
releasepilot), so the next model learns from it, and one row of `app.release_outcomes` with the reason
and the time to detect (minutes from the fault's onset, or the failing step's start, to the decision).
Writes are idempotent: running a resumed plan again adds nothing twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from releasepilot.rollout.events import as_utc, open_store, to_jsonable, utc_naive

OUTCOMES_TABLE = "app.release_outcomes"
DEPLOYER = "releasepilot"
ENVIRONMENT = "production"
# executor status -> raw.deployments status (skipped releases were never deployed: no row)
RAW_STATUS = {"succeeded": "succeeded", "rolled_back": "rolled_back", "rollback_failed": "failed"}


@dataclass(frozen=True)
class ReleaseOutcome:
    plan_id: str
    release_id: str
    service: str
    version: str
    previous_version: str
    status: str
    reason: str
    started_at: datetime
    finished_at: datetime
    time_to_detect_minutes: float | None
    detected_from: str | None
    decided_by: str | None
    commit_from: str | None
    commit_to: str | None
    predicted_minutes_to_breach: float | None

    @property
    def deployment_id(self) -> str:
        return deployment_id(self.plan_id, self.release_id)

    def as_dict(self) -> dict[str, Any]:
        return to_jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReleaseOutcome:
        values = dict(data)
        for key in ("started_at", "finished_at"):
            if isinstance(values[key], str):
                values[key] = as_utc(datetime.fromisoformat(values[key]))
        return cls(**{k: values.get(k) for k in cls.__dataclass_fields__})


def deployment_id(plan_id: str, release_id: str) -> str:
    return f"{plan_id}/{release_id}"


def ensure_outcome_tables(con: Any) -> None:
    from releasepilot.sources.schema import RAW_TABLES

    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(RAW_TABLES["deployments"].ddl())
    con.execute("CREATE SCHEMA IF NOT EXISTS app")
    con.execute(f"""CREATE TABLE IF NOT EXISTS {OUTCOMES_TABLE} (
        deployment_id VARCHAR PRIMARY KEY, plan_id VARCHAR, release_id VARCHAR, service VARCHAR, version VARCHAR,
        previous_version VARCHAR, status VARCHAR, reason VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
        time_to_detect_minutes DOUBLE, detected_from VARCHAR, decided_by VARCHAR,
        predicted_minutes_to_breach DOUBLE, recorded_at TIMESTAMP)""")


def record_outcomes(warehouse: Path | str, outcomes: list[ReleaseOutcome]) -> int:
    """Append the outcomes not yet recorded (one transaction); returns how many raw.deployments rows were added."""
    now = utc_naive(datetime.now(UTC))
    added = 0
    with open_store(warehouse) as con:
        ensure_outcome_tables(con)
        con.execute("BEGIN TRANSACTION")
        for o in outcomes:
            did = o.deployment_id
            if not con.execute(f"SELECT 1 FROM {OUTCOMES_TABLE} WHERE deployment_id = ?", [did]).fetchall():
                con.execute(f"INSERT INTO {OUTCOMES_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [did, o.plan_id, o.release_id, o.service, o.version, o.previous_version, o.status,
                             o.reason, utc_naive(o.started_at), utc_naive(o.finished_at), o.time_to_detect_minutes,
                             o.detected_from, o.decided_by, o.predicted_minutes_to_breach, now])
            raw_status = RAW_STATUS.get(o.status)
            if raw_status is None:
                continue
            if con.execute("SELECT 1 FROM raw.deployments WHERE deployment_id = ?", [did]).fetchall():
                continue
            con.execute("INSERT INTO raw.deployments (deployment_id, service, version, commit_from, commit_to, "
                        "started_at, finished_at, environment, deployer, status, _ingested_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [did, o.service, o.version, o.commit_from, o.commit_to, utc_naive(o.started_at),
                         utc_naive(o.finished_at), ENVIRONMENT, DEPLOYER, raw_status, now])
            added += 1
        con.execute("COMMIT")
    return added


def read_outcomes(warehouse: Path | str, plan_id: str | None = None) -> list[dict[str, Any]]:
    with open_store(warehouse) as con:
        ensure_outcome_tables(con)
        where, params = ("WHERE plan_id = ?", [plan_id]) if plan_id else ("", [])
        cursor = con.execute(f"SELECT * FROM {OUTCOMES_TABLE} {where} ORDER BY started_at, release_id", params)
        names = [d[0] for d in cursor.description]
        return [to_jsonable(dict(zip(names, row))) for row in cursor.fetchall()]
