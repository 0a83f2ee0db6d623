"""Team metrics computed in DuckDB SQL: DORA by week, coordination, and calibration of stored risk scores.

- DORA (from raw.*): deploy frequency, change failure rate (rolled back, failed, or caused an incident),
  time to restore (incident created -> resolved), lead time (commit authored -> deployment finished,
  via marts.change_features), per team or service per ISO week, production only.
- Coordination (from app.*): the share of planned releases with a risk score, of production deployments
  that went through a plan, of executed releases decided without a person; who needed a person and why;
  mean time to detect; planning time per train.
- Calibration: stored predictions (app.plan_releases) against executed outcomes (app.release_outcomes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from releasepilot.api.store import open_warehouse
from releasepilot.warehouse import query_dicts

DEFAULT_WEEKS = 26
CALIBRATION_BINS = 10
GROUPS = ("team", "service")
FAILED_STATUSES = ("rolled_back", "failed")
AUTOMATIC_DECIDERS = ("gate",)          # plus any `policy:*` decider: nobody was asked
PLANNER = "releasepilot"




def _has(con, schema: str, table: str) -> bool:
    from releasepilot.warehouse import table_exists

    return table_exists(con, schema, table)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _clean(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _iso(v) for k, v in row.items()} for row in rows]


def dora_metrics(warehouse: Path | str, group_by: str = "team", weeks: int = DEFAULT_WEEKS) -> dict[str, Any]:
    """Weekly DORA metrics per team (owner in raw.services) or service, for the last `weeks` weeks of data."""
    from releasepilot.errors import InputError

    if group_by not in GROUPS:
        raise InputError(f"expected one of {', '.join(GROUPS)}, got {group_by!r}", field="group_by")
    if weeks < 1:
        raise InputError("expected a positive number of weeks", field="weeks")
    empty = {"group_by": group_by, "weeks": weeks, "series": [], "note": "no deployments in raw.deployments yet"}
    with open_warehouse(warehouse) as con:
        if not (_has(con, "raw", "deployments") and _has(con, "raw", "services")):
            return empty
        key = "coalesce(s.owner, 'unknown')" if group_by == "team" else "d.service"
        incident_key = "coalesce(s.owner, 'unknown')" if group_by == "team" else "i.service"
        has_incidents = _has(con, "raw", "incidents")
        has_changes = _has(con, "marts", "change_features")
        caused = ("d.deployment_id in (select deployment_id from raw.incidents where deployment_id is not null)"
                  if has_incidents else "false")
        restore = f"""select {incident_key} as grp, date_trunc('week', i.created_at) as week,
                count(*) as incidents, avg(date_diff('second', i.created_at, i.resolved_at)) / 3600.0 as time_to_restore_hours
            from raw.incidents i left join raw.services s on s.service = i.service
            where i.resolved_at is not null group by all""" if has_incidents else \
            "select null::varchar as grp, null::timestamp as week, 0 as incidents, null::double as time_to_restore_hours where false"
        lead = f"""select {key} as grp, date_trunc('week', d.started_at) as week,
                median(date_diff('second', c.authored_at, d.finished_at)) / 3600.0 as lead_time_hours
            from marts.change_features c join raw.deployments d on d.deployment_id = c.deployment_id
            left join raw.services s on s.service = d.service
            where d.environment = 'production' group by all""" if has_changes else \
            "select null::varchar as grp, null::timestamp as week, null::double as lead_time_hours where false"
        rows = query_dicts(con, f"""
            with deploys as (
                select {key} as grp, date_trunc('week', d.started_at) as week, count(*) as deployments,
                    count(*) filter (where d.status in {FAILED_STATUSES} or {caused}) as failed_deployments
                from raw.deployments d left join raw.services s on s.service = d.service
                where d.environment = 'production' group by all),
            restore as ({restore}), lead as ({lead}),
            last as (select max(week) as last_week from deploys)
            select deploys.grp as "{group_by}", deploys.week, deployments, deployments / 7.0 as deploys_per_day,
                failed_deployments, failed_deployments / deployments as change_failure_rate,
                coalesce(restore.incidents, 0) as incidents, restore.time_to_restore_hours, lead.lead_time_hours
            from deploys cross join last
            left join restore on restore.grp = deploys.grp and restore.week = deploys.week
            left join lead on lead.grp = deploys.grp and lead.week = deploys.week
            where deploys.week > last.last_week - to_weeks(?)
            order by deploys.week, deploys.grp""", [weeks])
    if not rows:
        return empty
    return {"group_by": group_by, "weeks": weeks, "series": _clean(rows),
            "note": None if has_changes else "lead time needs marts.change_features: run `releasepilot build`"}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def coordination_metrics(warehouse: Path | str) -> dict[str, Any]:
    """How much of the release work ran through ReleasePilot, what needed a person, and how fast."""
    with open_warehouse(warehouse) as con:
        has_plans = _has(con, "app", "plan_releases")
        has_outcomes = _has(con, "app", "release_outcomes")
        has_events = _has(con, "app", "rollout_events")
        planned = query_dicts(con, "select count(*) as n, count(failure_probability) as scored from app.plan_releases")[0] \
            if has_plans else {"n": 0, "scored": 0}
        outcomes = query_dicts(con, "select plan_id, release_id, status, decided_by, time_to_detect_minutes "
                              "from app.release_outcomes") if has_outcomes else []
        deployments = {"total": 0, "through_plan": 0}
        if has_plans and _has(con, "raw", "deployments"):
            deployments = query_dicts(con, f"""select count(*) as total, count(*) filter (where deployer = '{PLANNER}')
                as through_plan from raw.deployments where environment = 'production'
                and started_at >= (select min(created_at) from app.plans)""")[0]
        answered = query_dicts(con, """select a.plan_id, a.release_id, a.step_index, a.status as answer, a.detail as answer_detail,
                (select r.status from app.rollout_events r where r.plan_id = a.plan_id and r.release_id = a.release_id
                 and r.step_index = a.step_index and r.kind = 'approval_requested' and r.seq < a.seq
                 order by r.seq desc limit 1) as gate_status
            from app.rollout_events a where a.kind = 'approval_answered'""") if has_events else []
        overrides = query_dicts(con, "select plan_id, service, decision, recommended, by_name, reason from app.overrides") \
            if _has(con, "app", "overrides") else []
        planning = query_dicts(con, """select p.plan_id, p.train_name as train, p.created_at,
                try_cast(json_extract(a.details_json, '$.planning_seconds') as double) as planning_seconds
            from app.plans p left join app.audit_log a on a.target = p.plan_id and a.action = 'plan.create'
            order by p.created_at""") if has_plans else []
        if has_events:
            first = {r["plan_id"]: r["first_at"] for r in query_dicts(
                con, "select plan_id, min(event_at) as first_at from app.rollout_events group by plan_id")}
            for p in planning:
                started = first.get(p["plan_id"])
                p["plan_to_rollout_hours"] = None if started is None else \
                    (started - p["created_at"]).total_seconds() / 3600.0
    needed = []
    for a in answered:
        detail = json.loads(a["answer_detail"] or "{}")
        needed.append({"plan_id": a["plan_id"], "release_id": a["release_id"], "kind": "approval",
                       "why": f"{a['gate_status'] or 'undecided'} gate at step {a['step_index']}",
                       "answer": a["answer"], "by": detail.get("by"), "reason": detail.get("reason")})
    for o in overrides:
        needed.append({"plan_id": o["plan_id"], "release_id": o["service"], "kind": "override",
                       "why": f"recommended {o['recommended']}, set {o['decision']}", "answer": o["decision"],
                       "by": o["by_name"], "reason": o["reason"]})
    executed = [o for o in outcomes if o["status"] != "skipped"]
    touched = {(n["plan_id"], n["release_id"]) for n in needed}
    automatic = [o for o in executed if (o["decided_by"] in AUTOMATIC_DECIDERS
                                         or str(o["decided_by"] or "").startswith("policy:"))
                 and (o["plan_id"], o["release_id"]) not in touched and (o["plan_id"], None) not in touched]
    ttd = [o["time_to_detect_minutes"] for o in executed if o["time_to_detect_minutes"] is not None]
    return {
        "planned_releases": planned["n"], "scored_releases": planned["scored"],
        "share_scored": _share(planned["scored"], planned["n"]),
        "production_deployments_since_first_plan": deployments["total"],
        "share_planned": _share(deployments["through_plan"], deployments["total"]),
        "executed_releases": len(executed), "automatic_releases": len(automatic),
        "share_automatic": _share(len(automatic), len(executed)),
        "needed_a_person": needed,
        "share_needed_a_person": _share(len({(n["plan_id"], n["release_id"]) for n in needed if n["release_id"]}),
                                        planned["n"]),
        "mttd_minutes": sum(ttd) / len(ttd) if ttd else None, "detections": len(ttd),
        "planning": _clean(planning)}


def calibration(warehouse: Path | str, bins: int = CALIBRATION_BINS) -> dict[str, Any]:
    """Predicted failure probability (stored with each plan) against what happened, by probability bin,
    and the Brier score and failure rate per week."""
    from releasepilot.errors import InputError

    if not 2 <= bins <= 50:
        raise InputError("expected between 2 and 50 bins", field="bins")
    with open_warehouse(warehouse) as con:
        if not (_has(con, "app", "plan_releases") and _has(con, "app", "release_outcomes")):
            return {"bins": [], "over_time": [], "n": 0, "note": "no scored release has an outcome yet"}
        pairs = query_dicts(con, """select r.failure_probability as p, (o.status <> 'succeeded')::int as failed,
                date_trunc('week', o.started_at) as week
            from app.plan_releases r join app.release_outcomes o on o.plan_id = r.plan_id and o.release_id = r.service
            where r.failure_probability is not null and o.status <> 'skipped'""")
    table: list[dict[str, Any]] = []
    for i in range(bins):
        low, high = i / bins, (i + 1) / bins
        inside = [x for x in pairs if low <= x["p"] < high or (i == bins - 1 and x["p"] == 1.0)]
        table.append({"bin": i, "low": low, "high": high, "n": len(inside),
                      "mean_predicted": sum(x["p"] for x in inside) / len(inside) if inside else None,
                      "observed_rate": sum(x["failed"] for x in inside) / len(inside) if inside else None})
    weeks: dict[Any, list[dict[str, Any]]] = {}
    for x in pairs:
        weeks.setdefault(x["week"], []).append(x)
    over_time = [{"week": _iso(week), "n": len(xs), "mean_predicted": sum(x["p"] for x in xs) / len(xs),
                  "observed_rate": sum(x["failed"] for x in xs) / len(xs),
                  "brier": sum((x["p"] - x["failed"]) ** 2 for x in xs) / len(xs)}
                 for week, xs in sorted(weeks.items())]
    n = len(pairs)
    ece = sum(b["n"] * abs(b["mean_predicted"] - b["observed_rate"]) for b in table if b["n"]) / n if n else None
    return {"bins": table, "over_time": over_time, "n": n, "ece": ece,
            "brier": sum((x["p"] - x["failed"]) ** 2 for x in pairs) / n if n else None,
            "note": None if n else "no scored release has an outcome yet"}
