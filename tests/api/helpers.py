"""Helpers shared by the API tests: a small stored plan, bearer headers, audit and row counts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from releasepilot import audit
from releasepilot.api.store import open_warehouse

PLAN_AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def small_plan_document(plan_id: str) -> dict:
    """A stored plan document shaped like Plan.as_dict for two releases (train reasons included)."""
    def release(service: str, decision: str, p: float) -> dict:
        return {"service": service, "version": "2.0.0", "team": "team-a", "commits": [{"sha": "abc", "author": "x",
                                                                                         "message": "feat: y"}],
                "previous_version": "1.9.0", "risk": {"probability": p, "model": "m", "drivers": []},
                "window": {"start": "2025-03-04T10:00:00+00:00", "end": "2025-03-04T12:00:00+00:00"},
                "decision": {"service": service, "decision": decision, "recommended": decision, "reasons": [],
                             "conditions": [], "checks": [], "conflicts": []}}
    return {"plan_id": plan_id, "train": "train-small", "releases": [release("alpha-api", "GO", 0.02),
                                                                     release("beta-api", "GO WITH CONDITIONS", 0.2)],
            "decision": {"decision": "GO WITH CONDITIONS", "recommended": "GO WITH CONDITIONS",
                         "reasons": [{"kind": "risk", "code": "train_failure_probability", "decision": "GO",
                                      "text": "low"},
                                     {"kind": "release", "code": "beta-api", "decision": "GO WITH CONDITIONS",
                                      "text": "beta-api is GO WITH CONDITIONS"}]}}


def store_small_plan(path: Path, plan_id: str = "plan-small") -> str:
    releases = [{"service": "alpha-api", "version": "2.0.0", "decision": "GO", "failure_probability": 0.02},
                {"service": "beta-api", "version": "2.0.0", "decision": "GO WITH CONDITIONS",
                 "failure_probability": 0.2, "conditions": ["run the contract tests"]}]
    with open_warehouse(path) as con:
        return audit.save_plan(con, train_name="train-small", decision="GO WITH CONDITIONS", created_by="tests",
                               releases=releases, failure_probability=0.216, plan=small_plan_document(plan_id),
                               plan_id=plan_id, at=PLAN_AT)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_actions(path: Path) -> list[dict]:
    with open_warehouse(path) as con:
        return audit.audit_entries(con)


def row_count(path: Path, table: str) -> int:
    from releasepilot.warehouse import table_exists

    schema, name = table.split(".")
    with open_warehouse(path) as con:
        if not table_exists(con, schema, name):
            return 0
        return con.execute(f"select count(*) from {table}").fetchall()[0][0]
