"""Stored plans, decisions and overrides, with an append-only audit trail (DuckDB schema `app`).

A plan and its per-release decisions are written once; a person who disagrees records an override (name,
reason, decision) instead of editing anything. Every write also appends an `app.audit_log` row saying who
did what, when and why. This module only ever INSERTs and SELECTs: no row is updated or deleted, so the
history of decisions can be trusted. Each write is one transaction: all of it lands, or none.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb

from releasepilot.errors import InputError
from releasepilot.planning.types import Decision, Override
from releasepilot.warehouse import table_exists

SCHEMA = "app"
DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {SCHEMA}.plans (
        plan_id varchar primary key, train_name varchar not null, created_at timestamp not null,
        created_by varchar not null, source_file varchar, decision varchar not null,
        failure_probability double, policy_json json, plan_json json)""",
    f"""create table if not exists {SCHEMA}.plan_releases (
        plan_id varchar not null, service varchar not null, version varchar, decision varchar not null,
        failure_probability double, reasons_json json, conditions_json json, primary key (plan_id, service))""",
    f"""create table if not exists {SCHEMA}.overrides (
        override_id varchar primary key, plan_id varchar not null, service varchar, decision varchar not null,
        recommended varchar not null, by_name varchar not null, reason varchar not null, overridden_at timestamp not null)""",
    f"""create table if not exists {SCHEMA}.audit_log (
        audit_id varchar primary key, logged_at timestamp not null, who varchar not null, action varchar not null,
        target varchar not null, reason varchar, details_json json)""",
)


def _now() -> datetime:
    return datetime.now(UTC)


def _naive_utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


def _aware(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `app` schema and its tables when missing (never alters existing ones)."""
    for statement in DDL:
        con.execute(statement)


def _ready(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Readers do not create anything (the connection may be read-only): no table means no rows."""
    return table_exists(con, SCHEMA, table)


def _decision(value: Decision | str, field: str) -> Decision:
    try:
        return value if isinstance(value, Decision) else Decision.parse(str(value))
    except ValueError as exc:
        raise InputError(str(exc), source="audit", field=field) from None


def _text(value: str | None, field: str) -> str:
    if value is None or not str(value).strip():
        raise InputError("a non-empty value is required", source="override", field=field)
    return str(value).strip()


def _append_audit(con: duckdb.DuckDBPyConnection, who: str, action: str, target: str, reason: str | None,
                  details: Mapping[str, Any] | None, at: datetime) -> str:
    audit_id = _new_id("audit")
    con.execute(f"insert into {SCHEMA}.audit_log values (?, ?, ?, ?, ?, ?, ?)",
                [audit_id, _naive_utc(at), who, action, target, reason,
                 json.dumps(dict(details or {}), default=str)])
    return audit_id


class _Transaction:
    """`with _Transaction(con):` commits on success and rolls back on any error."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con.begin()
        return self.con

    def __exit__(self, kind, value, tb) -> bool:
        if kind is None:
            self.con.commit()
        else:
            self.con.rollback()
        return False


def record_audit(con: duckdb.DuckDBPyConnection, who: str, action: str, target: str, reason: str | None = None,
                 details: Mapping[str, Any] | None = None, at: datetime | None = None) -> str:
    """Append one audit entry (for writes other than plans and overrides); returns its id."""
    ensure_schema(con)
    with _Transaction(con):
        return _append_audit(con, _text(who, "who"), _text(action, "action"), _text(target, "target"), reason,
                             details, at or _now())


def save_plan(con: duckdb.DuckDBPyConnection, *, train_name: str, decision: str, created_by: str,
              releases: list[Mapping[str, Any]], failure_probability: float | None = None,
              source_file: str | None = None, policy: Mapping[str, Any] | None = None,
              plan: Mapping[str, Any] | None = None, plan_id: str | None = None,
              at: datetime | None = None, planning_seconds: float | None = None) -> str:
    """Store a plan and its release decisions ({service, version, decision, failure_probability, reasons,
    conditions}) in one transaction, with an audit entry; returns the plan id."""
    ensure_schema(con)
    plan_id = plan_id or _new_id("plan")
    at = at or _now()
    verdict = _decision(decision, "decision")
    verdicts = [_decision(row.get("decision", ""), f"releases[{i}].decision") for i, row in enumerate(releases)]
    created_by = _text(created_by, "created_by")
    seen: set[str] = set()
    for i, row in enumerate(releases):
        service = _text(row.get("service"), f"releases[{i}].service")
        if service in seen:
            raise InputError(f"service {service!r} appears twice", source="audit", field=f"releases[{i}].service")
        seen.add(service)
    with _Transaction(con):
        con.execute(f"insert into {SCHEMA}.plans values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [plan_id, train_name, _naive_utc(at), created_by, source_file, verdict.value, failure_probability,
                     json.dumps(dict(policy or {}), default=str), json.dumps(dict(plan or {}), default=str)])
        for row, row_verdict in zip(releases, verdicts):
            con.execute(f"insert into {SCHEMA}.plan_releases values (?, ?, ?, ?, ?, ?, ?)",
                        [plan_id, row["service"], row.get("version"), row_verdict.value,
                         row.get("failure_probability"), json.dumps(list(row.get("reasons") or []), default=str),
                         json.dumps(list(row.get("conditions") or []), default=str)])
        _append_audit(con, created_by, "plan.create", plan_id, None,
                      {"train": train_name, "decision": verdict.value, "releases": len(releases),
                       "planning_seconds": planning_seconds}, at)
    return plan_id


def get_plan(con: duckdb.DuckDBPyConnection, plan_id: str) -> dict[str, Any] | None:
    """A stored plan with its releases, or None."""
    if not _ready(con, "plans"):
        return None
    cur = con.cursor()
    try:
        row = cur.execute(f"select plan_id, train_name, created_at, created_by, source_file, decision, "
                          f"failure_probability from {SCHEMA}.plans where plan_id = ?", [plan_id]).fetchall()
        if not row:
            return None
        keys = ("plan_id", "train_name", "created_at", "created_by", "source_file", "decision",
                "failure_probability")
        plan = dict(zip(keys, row[0]))
        plan["created_at"] = _aware(plan["created_at"])
        rows = cur.execute(f"select service, version, decision, failure_probability, conditions_json from "
                           f"{SCHEMA}.plan_releases where plan_id = ? order by service", [plan_id]).fetchall()
    finally:
        cur.close()
    plan["releases"] = [{"service": s, "version": v, "decision": d, "failure_probability": p,
                         "conditions": json.loads(c) if c else []} for s, v, d, p, c in rows]
    return plan


def record_override(con: duckdb.DuckDBPyConnection, plan_id: str, decision: Decision | str, by: str, reason: str,
                    service: str | None = None, at: datetime | None = None) -> Override:
    """Append a person's override of a plan's (or one release's) recommendation, with an audit entry."""
    by, reason = _text(by, "by"), _text(reason, "reason")
    decision = _decision(decision, "decision")
    plan = get_plan(con, plan_id)
    if plan is None:
        raise InputError(f"no stored plan {plan_id!r}", source="override", field="plan")
    if service is None:
        recommended = plan["decision"]
    else:
        match = [r for r in plan["releases"] if r["service"] == service]
        if not match:
            names = ", ".join(r["service"] for r in plan["releases"])
            raise InputError(f"plan {plan_id} has no release of {service!r} (it has: {names})", source="override",
                             field="release")
        recommended = match[0]["decision"]
    ensure_schema(con)
    override = Override(_new_id("override"), plan_id, service, decision, by, reason, _aware(at or _now()))
    with _Transaction(con):
        con.execute(f"insert into {SCHEMA}.overrides values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [override.override_id, plan_id, service, decision.value, recommended, by, reason,
                     _naive_utc(override.at)])
        _append_audit(con, by, "override", f"{plan_id}/{service or '*'}", reason,
                      {"override_id": override.override_id, "decision": decision.value,
                       "recommended": recommended}, override.at)
    return override


def list_overrides(con: duckdb.DuckDBPyConnection, plan_id: str) -> list[Override]:
    """Every override of a plan, oldest first."""
    if not _ready(con, "overrides"):
        return []
    cur = con.cursor()
    try:
        rows = cur.execute(f"select override_id, plan_id, service, decision, by_name, reason, overridden_at from "
                           f"{SCHEMA}.overrides where plan_id = ? order by overridden_at, override_id", [plan_id]).fetchall()
    finally:
        cur.close()
    return [Override(o, p, s, Decision.parse(d), b, r, _aware(a)) for o, p, s, d, b, r, a in rows]


def audit_entries(con: duckdb.DuckDBPyConnection, target_prefix: str | None = None) -> list[dict[str, Any]]:
    """Audit entries, oldest first (optionally those whose target starts with `target_prefix`)."""
    if not _ready(con, "audit_log"):
        return []
    cur = con.cursor()
    try:
        rows = cur.execute(f"select audit_id, logged_at, who, action, target, reason, details_json from {SCHEMA}.audit_log "
                           f"where ? is null or starts_with(target, ?) order by logged_at, audit_id",
                           [target_prefix, target_prefix]).fetchall()
    finally:
        cur.close()
    return [{"audit_id": i, "at": _aware(a), "who": w, "action": act, "target": t, "reason": r,
             "details": json.loads(d) if d else {}} for i, a, w, act, t, r, d in rows]
