"""Read functions behind every GET of the API and the dashboard: each returns plain dicts and lists.

Each function opens the warehouse briefly (api/store.py) and closes it before returning. Decisions are
shown as they apply: a release's latest override wins over its recommendation (planning.decision
.apply_overrides), a whole-train override wins for the train. The metrics (DORA, coordination,
calibration) live in api/analytics.py and are re-exported here; model status comes from MLflow.
"""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

from releasepilot.api.analytics import calibration, coordination_metrics, dora_metrics
from releasepilot.api.store import open_warehouse, warehouse_lock
from releasepilot.planning.decision import effective_decisions
from releasepilot.planning.types import Decision
from releasepilot.rollout import events as ev

__all__ = [
    "GATE_EXIT_CODES",
    "calibration",
    "coordination_metrics",
    "dora_metrics",
    "effective_decisions",
    "gate_verdict",
    "list_plans",
    "list_rollouts",
    "model_status",
    "pending_approvals",
    "plan_detail",
    "release_detail",
    "rollout_events",
]

GATE_EXIT_CODES = {Decision.GO.value: 0, Decision.NO_GO.value: 1, Decision.GO_WITH_CONDITIONS.value: 3}
MODEL_NAMES = ("release-risk", "change-risk")
RELEASE_PATTERN = r"^[^/\s]+(/[^/\s]+)?$"   # PLAN_ID/SERVICE, or PLAN_ID for the whole train


def _iso(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return (value.replace(tzinfo=UTC) if getattr(value, "tzinfo", 1) is None else value).isoformat()
    return value


def _stored(con, plan_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(the get_plan row, the stored Plan.as_dict document or {}) for a plan id."""
    from releasepilot.audit import get_plan

    row = get_plan(con, plan_id)
    if row is None:
        return None
    found = con.execute("select plan_json from app.plans where plan_id = ?", [plan_id]).fetchall()
    document = json.loads(found[0][0]) if found and found[0][0] else {}
    return row, document


def _window(document: dict[str, Any]) -> dict[str, str] | None:
    """The span of the releases' planned windows."""
    windows = [r["window"] for r in document.get("releases", []) if r.get("window")]
    if not windows:
        return None
    return {"start": min(w["start"] for w in windows), "end": max(w["end"] for w in windows)}


def list_plans(warehouse: Path | str) -> list[dict[str, Any]]:
    """Stored plans, newest first: id, train, decision (after overrides), p_fail, created_at, window, releases."""
    from releasepilot.audit import list_overrides
    from releasepilot.warehouse import table_exists

    out = []
    with open_warehouse(warehouse) as con:
        if not table_exists(con, "app", "plans"):
            return []
        ids = [r[0] for r in con.execute("select plan_id from app.plans order by created_at desc, plan_id").fetchall()]
        for plan_id in ids:
            row, document = _stored(con, plan_id)
            effective = effective_decisions(row, document, list_overrides(con, plan_id))
            scored = sum(r["failure_probability"] is not None for r in row["releases"])
            out.append({"plan_id": plan_id, "train": row["train_name"], "decision": effective["train"]["decision"],
                        "recommended": row["decision"], "p_fail": row["failure_probability"],
                        "created_at": _iso(row["created_at"]), "created_by": row["created_by"],
                        "window": _window(document), "releases": len(row["releases"]),
                        "scored_releases": scored,
                        "release_decisions": {s: d["decision"] for s, d in effective["releases"].items()}})
    return out


def plan_detail(warehouse: Path | str, plan_id: str) -> dict[str, Any] | None:
    """The whole stored plan (Plan.as_dict) with its overrides and the decisions as they apply; None if unknown."""
    from releasepilot.audit import list_overrides

    with open_warehouse(warehouse) as con:
        found = _stored(con, plan_id)
        if found is None:
            return None
        row, document = found
        overrides = list_overrides(con, plan_id)
    plan = dict(document) or {"plan_id": plan_id, "train": row["train_name"], "releases": row["releases"]}
    plan.update({"plan_id": plan_id, "created_by": row["created_by"], "stored_at": _iso(row["created_at"]),
                 "overrides": [o.as_dict() for o in overrides],
                 "effective": effective_decisions(row, document, overrides)})
    return plan


def graph_of(release: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Nodes and edges (dependent -> released service, along shortest paths) of a release's blast radius."""
    blast = release.get("blast_radius") or {}
    service = release["service"]
    nodes = [{"id": service, "role": "released", "tier": None, "owner": release.get("team"), "distance": 0}]
    impacted = blast.get("impacted") or []
    by_distance: dict[int, list[str]] = {}
    for item in impacted:
        nodes.append({"id": item["service"], "role": "dependent", "tier": item.get("tier"), "owner": item.get("owner"),
                      "distance": item.get("distance"), "traffic_share": item.get("traffic_share")})
        by_distance.setdefault(int(item.get("distance") or 1), []).append(item["service"])
    edges = [{"source": s, "target": service} for s in by_distance.get(1, [])]
    for distance, services in sorted(by_distance.items()):
        if distance > 1:   # the stored radius keeps distances, not paths: link to the layer nearer the release
            nearer = by_distance.get(distance - 1, [])
            edges.extend({"source": s, "target": nearer[0], "approximate": True} for s in services if nearer)
    for provider in release.get("providers") or []:
        nodes.append({"id": provider, "role": "provider", "tier": None, "owner": None, "distance": -1})
        edges.append({"source": service, "target": provider})
    return {"nodes": nodes, "edges": edges}


def heat_map(release: dict[str, Any]) -> list[dict[str, Any]]:
    """Window cells {start, weekday, hour, p_fail, expected_impact, excluded, rank} from the stored windows
    (every window when the plan kept them under windows.all, else the best ones and the requested one)."""
    from datetime import datetime

    windows = release.get("windows") or {}
    cells = list(windows.get("all") or windows.get("best") or [])
    if windows.get("requested"):
        cells.append(windows["requested"])
    seen, out = set(), []
    for w in cells:
        if w["start"] in seen:
            continue
        seen.add(w["start"])
        start = datetime.fromisoformat(w["start"])
        out.append({"start": w["start"], "weekday": start.strftime("%a"), "hour": start.hour, "p_fail": w.get("p_fail"),
                    "expected_impact": w.get("expected_impact"), "excluded": w.get("excluded"), "rank": w.get("rank")})
    return sorted(out, key=lambda c: c["start"])


def release_detail(warehouse: Path | str, plan_id: str, service: str) -> dict[str, Any] | None:
    """One release of a plan: risk, reasons, blast radius graph, window heat map, rollout steps, readiness,
    decision (+override), notes, rollout events and audit trail; None when the plan or release is unknown."""
    from releasepilot.audit import audit_entries

    plan = plan_detail(warehouse, plan_id)
    if plan is None:
        return None
    release = next((r for r in plan.get("releases", []) if r.get("service") == service), None)
    if release is None:
        return None
    with open_warehouse(warehouse) as con:
        trail = [e for e in audit_entries(con, plan_id)
                 if e["target"] in (plan_id, f"{plan_id}/{service}", f"{plan_id}/*")]
    decision = release.get("decision") if isinstance(release.get("decision"), dict) else {"decision": release.get("decision")}
    events = [e for e in rollout_events(warehouse, plan_id)["events"] if e["release_id"] in (service, None)]
    return {"plan_id": plan_id, "train": plan.get("train"), "service": service, "version": release.get("version"),
            "team": release.get("team"), "risk": release.get("risk"), "reasons": decision.get("reasons", []),
            "blast_radius": release.get("blast_radius"), "graph": graph_of(release), "heat_map": heat_map(release),
            "window": release.get("window"), "rollout": release.get("rollout"), "readiness": decision.get("checks", []),
            "conflicts": decision.get("conflicts", []), "decision": plan["effective"]["releases"][service],
            "recommendation": decision, "train_decision": plan["effective"]["train"], "notes": plan.get("notes"),
            "commits": release.get("commits", []), "events": events,
            "audit": [{**e, "at": _iso(e["at"])} for e in trail]}


def gate_verdict(warehouse: Path | str, release: str) -> dict[str, Any] | None:
    """The CI gate of `PLAN_ID/SERVICE` (or a whole `PLAN_ID`): the decision after overrides and its exit
    code (GO 0, NO-GO 1, GO WITH CONDITIONS 3). A whole-train NO-GO override stops each of its releases.
    None when the plan or the release is unknown."""
    plan_id, _, service = release.partition("/")
    plan = plan_detail(warehouse, plan_id)
    if plan is None:
        return None
    effective = plan["effective"]
    if service:
        if service not in effective["releases"]:
            return None
        mine = effective["releases"][service]
        decision = Decision.parse(mine["decision"])
        train_override = effective["train"]["override"]
        halted = train_override is not None and train_override["decision"] == Decision.NO_GO.value
        if halted:
            decision = Decision.NO_GO
        verdict = {"decision": decision.value, "recommended": mine["recommended"], "conditions": mine["conditions"],
                   "override": train_override if halted else mine["override"]}
    else:
        train = effective["train"]
        conditions = sorted({c for r in effective["releases"].values() for c in r["conditions"]})
        verdict = {"decision": train["decision"], "recommended": train["recommended"], "conditions": conditions,
                   "override": train["override"]}
    return {"release": release, "plan_id": plan_id, "service": service or None, **verdict,
            "exit_code": GATE_EXIT_CODES[verdict["decision"]]}


def list_rollouts(warehouse: Path | str) -> list[dict[str, Any]]:
    """One summary per rollout (plan): status, first/last event, runs, per-release status; newest first."""
    if not Path(warehouse).exists():
        return []
    with warehouse_lock(warehouse):   # serialise with the other API readers
        rollouts = ev.list_rollouts(warehouse)
    for r in rollouts:
        r["started"] = r["first_at"]
    return sorted(rollouts, key=lambda r: r["first_at"], reverse=True)


def pending_approvals(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Approval requests not answered yet (pure), with the Prefect flow run to resume when one was recorded."""
    open_requests: dict[tuple[str, int], dict[str, Any]] = {}
    for e in events:
        key = (e["release_id"], e["step_index"])
        if e["kind"] == ev.APPROVAL_REQUESTED:
            open_requests[key] = {"release_id": e["release_id"], "service": e["service"], "step_index": e["step_index"],
                                  "status": e["status"], "reasons": e["detail"].get("reasons", []), "since": e["at"],
                                  "seq": e["seq"], "run_id": e["run_id"],
                                  "flow_run_id": e["detail"].get("flow_run_id"), "key": e["detail"].get("key")}
        elif e["kind"] == ev.APPROVAL_WAITING and key in open_requests:
            open_requests[key].update(flow_run_id=e["detail"].get("flow_run_id"), key=e["detail"].get("key"))
        elif e["kind"] == ev.APPROVAL_ANSWERED:
            open_requests.pop(key, None)
    return list(open_requests.values())



def health_series(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per release, the gate's metric readings (canary vs baseline medians) in order: the live health view."""
    out: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e["kind"] != ev.GATE or e["release_id"] is None:
            continue
        for analysis in e["detail"].get("analyses", []):
            window = analysis.get("window") or [None, None]
            for metric in (analysis.get("judge") or {}).get("metrics", []):
                out.setdefault(e["release_id"], []).append({
                    "seq": e["seq"], "step_index": e["step_index"], "at": window[-1], "metric": metric["name"],
                    "canary": metric.get("canary_median"), "baseline": metric.get("baseline_median"),
                    "classification": metric.get("classification")})
    return out


def rollout_events(warehouse: Path | str, plan_id: str, after: int | None = None) -> dict[str, Any]:
    """A rollout's events (only those with seq > `after` when given), its pending approvals and the live
    health metrics per release; `last_seq` is what to pass as `after` next time."""
    if not Path(warehouse).exists():
        return {"plan_id": plan_id, "events": [], "pending_approvals": [], "health": {}, "last_seq": after or 0}
    with warehouse_lock(warehouse):
        everything = [e.as_dict() for e in ev.read_events(warehouse, plan_id)]
    shown = [e for e in everything if after is None or e["seq"] > after]
    return {"plan_id": plan_id, "events": shown, "pending_approvals": pending_approvals(everything),
            "health": health_series(shown), "last_seq": max((e["seq"] for e in everything), default=after or 0)}


def model_status(tracking_uri: str | None = None) -> dict[str, Any]:
    """Registered models with versions, aliases (champion/challenger), metrics, and the last drift check."""
    from releasepilot.risk.registry import list_models

    versions = list_models(list(MODEL_NAMES), tracking_uri)
    models: dict[str, dict[str, Any]] = {}
    for v in versions:
        entry = models.setdefault(v["model"], {"model": v["model"], "versions": [], "aliases": {}})
        entry["versions"].append({**v, "created": v["created"]})
        for alias in v["aliases"]:
            entry["aliases"][alias] = v["version"]
    from releasepilot.config import get_settings

    ui = get_settings().mlflow_ui_url
    drift = _last_drift(tracking_uri)
    if drift and ui:
        drift["report_url"] = (f"{ui.rstrip('/')}/#/experiments/{drift['experiment_id']}/runs/{drift['run_id']}"
                               "/artifacts/monitoring/drift.html")
    return {"models": list(models.values()), "drift": drift, "mlflow_ui": ui,
            "note": None if models else "no registered models yet: run `releasepilot train`"}


def _last_drift(tracking_uri: str | None) -> dict[str, Any] | None:
    """The latest monitoring run (releasepilot monitor) with its verdict, or None."""
    import mlflow

    from releasepilot.config import get_settings
    from releasepilot.risk.registry import configure_mlflow

    configure_mlflow(tracking_uri)
    experiment = mlflow.MlflowClient().get_experiment_by_name(f"{get_settings().mlflow_experiment_prefix}-monitoring")
    if experiment is None:
        return None
    runs = mlflow.MlflowClient().search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"],
                                             max_results=1)
    if not runs:
        return None
    run = runs[0]
    return {"run_id": run.info.run_id, "experiment_id": experiment.experiment_id, "at": run.info.start_time, "retrain": run.data.tags.get("retrain") == "True",
            "reasons": run.data.tags.get("reasons", ""), "metrics": dict(run.data.metrics),
            "report": f"runs:/{run.info.run_id}/monitoring/drift.html"}
