"""Turn a release train into a plan: gather facts, run every planning decision, store the result.

`build_plan(train, warehouse, policy)` reads the warehouse once (planning/gather.py), computes pending
release features (planning/pending_features.py), scores risk (planning/risk_source.py: the champion, a
given scorer, or unavailable), then calls the pure parts in order: blast radius, window scoring, conflicts,
readiness, decisions, deploy waves, staged rollout, release notes. `store_plan` saves it with
`audit.save_plan`. A bad train (unknown service, dependency cycle, bad commit range) raises InputError
before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import networkx as nx

from releasepilot.catalog_graph import BlastRadius, assert_acyclic, blast_radius, traffic_shares
from releasepilot.errors import NotReadyError
from releasepilot.planning.calendar import hourly_candidates
from releasepilot.planning.conflicts import ConflictInputs, find_conflicts, module_changes, touches_contract
from releasepilot.planning.decision import ReleaseDecision, TrainDecision, decide_release, decide_train
from releasepilot.planning.gather import History, planning_time, read_commits, read_end, read_history
from releasepilot.planning.notes import NotesRelease, release_notes
from releasepilot.planning.ordering import DeployOrder, OrderRelease, plan_waves
from releasepilot.planning.pending_features import PendingRelease, pending_changes, pending_features
from releasepilot.planning.readiness import ReadinessFacts, assess_readiness
from releasepilot.planning.risk_source import RiskSource, Scorer, champion_risk, custom_risk
from releasepilot.planning.rollout_plan import RolloutPlan, RolloutRelease, plan_rollout
from releasepilot.planning.schedule import SchedulePolicy, ScheduleRelease, schedule_releases
from releasepilot.planning.types import Conflict, ReleaseRisk, TimeWindow
from releasepilot.planning.windows import WindowRanking, WindowRelease, score_windows
from releasepilot.policy import Policy
from releasepilot.train import Train, check_services

UNKNOWN_RISK_BAND = "high"   # with no risk score, rollout, waves and the schedule treat a release as this band
CREATED_BY = "releasepilot plan"


def impact_only(rows: list[dict[str, Any]]) -> list[float]:
    """With no risk model, windows are ranked by impact alone: p_fail is set to 1 (not a prediction)."""
    return [1.0] * len(rows)


@dataclass
class ReleasePlan:
    """Everything planned for one release."""

    service: str
    version: str
    team: str | None
    commits: list[dict[str, Any]]
    previous_version: str | None
    risk: ReleaseRisk | None
    blast: BlastRadius
    windows: WindowRanking
    window: TimeWindow | None          # the window the release is planned in (requested, else the best)
    rollout: RolloutPlan
    decision: ReleaseDecision
    features: dict[str, Any]
    planning_risk: float = 0.0           # the risk rollout, waves and the schedule used (see UNKNOWN_RISK_BAND)
    providers: tuple[str, ...] = ()      # services it depends on, directly or through others

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service, "version": self.version, "team": self.team,
            "commits": [{k: c.get(k) for k in ("sha", "author", "message")} for c in self.commits],
            "previous_version": self.previous_version,
            "risk": None if self.risk is None else {
                "probability": self.risk.probability, "model": self.risk.model,
                "drivers": [{"feature": d.feature, "value": d.value, "contribution": d.contribution,
                             "text": d.text} for d in self.risk.drivers]},
            "blast_radius": self.blast.as_dict(), "windows": self.windows.as_dict(),
            "window": self.window.as_dict() if self.window else None, "rollout": self.rollout.as_dict(),
            "decision": self.decision.as_dict(), "planning_risk": self.planning_risk,
            "providers": list(self.providers),
            "features": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.features.items()}}


@dataclass
class Plan:
    """A train's plan: per-release plans, conflicts, waves, the train decision and release notes."""

    train: str
    created_at: datetime
    planned_at: datetime
    note: str
    risk_available: bool
    risk_note: str
    model: str | None
    releases: list[ReleasePlan]
    conflicts: list[Conflict]
    order: DeployOrder
    decision: TrainDecision
    notes: str
    source_file: str | None = None
    plan_id: str | None = None
    policy: dict[str, Any] = field(default_factory=dict)
    planning_seconds: float | None = None     # wall time of build_plan (the dashboard's planning time per train)

    def release(self, service: str) -> ReleasePlan:
        return next(r for r in self.releases if r.service == service)

    def as_dict(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "train": self.train, "created_at": self.created_at.isoformat(),
                "planned_at": self.planned_at.isoformat(), "note": self.note, "source_file": self.source_file,
                "planning_seconds": self.planning_seconds,
                "risk": {"available": self.risk_available, "note": self.risk_note, "model": self.model,
                         "train_failure_probability": self.decision.failure_probability},
                "decision": self.decision.as_dict(), "conflicts": [c.as_dict() for c in self.conflicts],
                "order": self.order.as_dict(), "releases": [r.as_dict() for r in self.releases],
                "notes": self.notes}

    def to_markdown(self) -> str:
        from releasepilot.planning.render import plan_markdown

        return plan_markdown(self)


def _risk_source(scorer: Scorer | RiskSource | None, tracking_uri: str | None) -> RiskSource:
    if isinstance(scorer, RiskSource):
        return scorer
    if scorer is not None:
        return custom_risk(scorer)
    return champion_risk(tracking_uri)


def _teams(history: History, service: str, owner: str | None) -> tuple[str, ...]:
    """The owning team and the owners of direct dependents: the teams that must be on call."""
    owners = {history.graph.nodes[d].get("owner") for d in history.graph.predecessors(service)}
    return tuple(sorted({t for t in {owner, *owners} if t}))


def choose_windows(train: Train, rankings: dict[str, WindowRanking], order: DeployOrder, length: timedelta, *,
                   teams: dict[str, str | None], risk: dict[str, float], blast: dict[str, frozenset[str]],
                   policy: SchedulePolicy) -> dict[str, TimeWindow]:
    """The window of each release: the requested one, else the one CP-SAT picks to minimise the train's
    expected impact while providers start before their consumers (wave order), one release per team per
    window and high-risk releases with overlapping blast radius apart; a release with no feasible window
    gets none (its readiness and conflicts say so)."""
    planned = {r.service: w.to_time_window() for r in train.releases if (w := train.window_for(r.service))}
    before: dict[str, set[str]] = {}
    for first, then, _ in order.constraints:
        before.setdefault(then, set()).add(first)
    releases = []
    for service in (s for s in train.services if s not in planned):
        not_before = max((planned[b].end for b in before.get(service, ()) if b in planned), default=None)
        options = {w.start: w.expected_impact for w in rankings[service].allowed
                   if not_before is None or w.start >= not_before}
        releases.append(ScheduleRelease(
            release_id=service, team=teams.get(service) or "unowned", risk=risk[service],
            blast_radius=blast[service], options=options,
            after=tuple(sorted(b for b in before.get(service, ()) if b not in planned))))
    if releases:
        result = schedule_releases(releases, policy)
        planned.update({s: TimeWindow(start, start + length) for s, start in result.assignment.items()})
    return planned


def build_plan(train: Train, warehouse: Path | str, policy: Policy | None = None, now: datetime | None = None,
               scorer: Scorer | RiskSource | None = None, *, tracking_uri: str | None = None,
               source_file: str | None = None) -> Plan:
    """Plan a train against the warehouse's history (read-only); nothing is stored here."""
    import time

    from releasepilot.warehouse import connect

    started = time.perf_counter()
    policy = policy or Policy()
    path = Path(warehouse)
    if not path.exists():
        raise NotReadyError(f"warehouse {path} does not exist: run `releasepilot ingest` and `build` first")
    source = source_file or train.name
    with connect(path, read_only=True) as con:
        if now is None:
            planned_at, note = planning_time(read_end(con), datetime.now(UTC), policy.windows.horizon_days)
        else:
            planned_at, note = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC), "planned as of the given time"
        history = read_history(con, planned_at)
        check_services(train, history.graph.nodes, source=source)
        assert_acyclic(history.graph, train.services, source=source)
        commits = {r.service: read_commits(con, r.service, [c.sha for c in r.commits], r.commit_bounds,
                                           source=source, index=i) for i, r in enumerate(train.releases)}
        for r in train.releases:   # commit details given in the train file win over history
            inline = {c.sha: c for c in r.commits}
            for c in commits[r.service]:
                given = inline.get(c["sha"])
                if given is not None:
                    c.update({k: v for k, v in (("message", given.message), ("author", given.author),
                                                ("files", list(given.files) or None)) if v})
        at = {r.service: (train.window_for(r.service).start if train.window_for(r.service) else planned_at)
              for r in train.releases}
        pending = [PendingRelease(f"pending:{r.service}", r.service, tuple(c["sha"] for c in commits[r.service]),
                                  at[r.service]) for r in train.releases]
        features = pending_features(con, pending)
        changes = pending_changes(con, pending)
    risk_source = _risk_source(scorer, tracking_uri)
    features = risk_source.stack(features, changes)
    risks = {k.removeprefix("pending:"): v for k, v in risk_source.score(features, changes).items()}
    rows = {row["service"]: row for row in features.to_dicts()}
    plan = _assemble(train, policy, history, planned_at, note, risk_source, risks, rows, commits, source_file)
    plan.planning_seconds = round(time.perf_counter() - started, 3)
    return plan


def _assemble(train: Train, policy: Policy, history: History, planned_at: datetime, note: str,
              risk_source: RiskSource, risks: dict[str, ReleaseRisk], rows: dict[str, dict[str, Any]],
              commits: dict[str, list[dict[str, Any]]], source_file: str | None) -> Plan:
    graph = history.graph
    unknown_p = policy.rollout.band_floors[UNKNOWN_RISK_BAND]
    risk_of = {s: (risks[s].probability if s in risks else unknown_p) for s in train.services}
    shares = traffic_shares(history.requests)
    blasts = {s: blast_radius(graph, s, shares=shares) for s in train.services}
    owner = {r.service: r.team or graph.nodes[r.service].get("owner") for r in train.releases}
    window_releases = []
    for r in train.releases:
        requested = train.window_for(r.service)
        window_releases.append(WindowRelease(
            release_id=r.service, service=r.service, tier=graph.nodes[r.service].get("tier"),
            blast_radius=float(blasts[r.service].size), system=graph.nodes[r.service].get("system"),
            teams=_teams(history, r.service, owner[r.service]),
            related_services=frozenset(graph.predecessors(r.service)) | frozenset(graph.successors(r.service)),
            features=rows.get(r.service, {}), requested_window=requested.start if requested else None))
    candidates = hourly_candidates(planned_at, policy.windows.horizon_days, policy.windows.step_hours)
    rankings = score_windows(window_releases, candidates, history.calendar, risk_source.scorer() or impact_only,
                             policy.windows)
    order = plan_waves([OrderRelease(s, s, risk_of[s]) for s in train.services], graph, policy.ordering)
    planned = choose_windows(train, rankings, order, timedelta(hours=policy.windows.window_hours), teams=owner,
                             risk=risk_of, blast={s: frozenset({s, *b.transitive}) for s, b in blasts.items()},
                             policy=policy.schedule)
    contract_changes = tuple(r.service for r in train.releases
                             if r.flags.contract_change or touches_contract(commits[r.service],
                                                                             policy.conflicts.contract_paths))
    changes = tuple(m for r in train.releases
                    for m in module_changes(r.service, commits[r.service], history.author_team, owner[r.service]))
    conflicts = find_conflicts(ConflictInputs(graph=graph, train_services=tuple(train.services), windows=planned,
                                              calendar=history.calendar, module_changes=changes,
                                              contract_changes=contract_changes, teams=owner), policy.conflicts)
    releases: list[ReleasePlan] = []
    for r in train.releases:
        previous = r.previous_version or history.previous.get(r.service, {}).get("version")
        dependencies = tuple(sorted(graph.successors(r.service)))
        facts = ReadinessFacts(
            service=r.service, ci_status=r.ci_status, approvals=r.approvals, previous_version=previous,
            previous_version_source="train file" if r.previous_version else "raw.deployments",
            history_known=history.has_deployments, team=owner[r.service], window=planned.get(r.service),
            system=graph.nodes[r.service].get("system"), dependencies=dependencies,
            dependency_health={d: not history.open_incidents.get(d) for d in dependencies},
            error_budget_remaining=history.budget_left.get(r.service), db_migration=r.flags.db_migration,
            migration_reversible=r.flags.migration_reversible, feature_flagged=r.flags.feature_flagged)
        checks = assess_readiness(facts, history.calendar, policy.readiness)
        decision = decide_release(r.service, risks.get(r.service), checks, conflicts, policy)
        info = history.services.get(r.service, {})
        rollout = plan_rollout(RolloutRelease(
            release_id=r.service, service=r.service, risk=risk_of[r.service], blast_radius=float(blasts[r.service].size),
            regions=tuple(info.get("regions") or ()), region_traffic=history.calendar.region_traffic(r.service),
            tenants=tuple(info.get("tenants") or ())), policy.rollout)
        releases.append(ReleasePlan(r.service, r.version, owner[r.service], commits[r.service], previous,
                                    risks.get(r.service), blasts[r.service], rankings[r.service],
                                    planned.get(r.service), rollout, decision, rows.get(r.service, {}),
                                    risk_of[r.service], tuple(sorted(nx.descendants(graph, r.service)))))
    train_decision = decide_train(train.name, [r.decision for r in releases], policy)
    notes = release_notes(train.name, [NotesRelease(
        r.service, r.version, [{"sha": c["sha"], "message": c.get("message") or ""} for c in r.commits],
        r.decision.decision.value, r.decision.failure_probability, r.decision.conditions) for r in releases])
    return Plan(train=train.name, created_at=datetime.now(UTC), planned_at=planned_at, note=note,
                risk_available=risk_source.available, risk_note=risk_source.note, model=risk_source.name,
                releases=releases, conflicts=conflicts, order=order, decision=train_decision, notes=notes,
                source_file=source_file, policy=policy.model_dump(mode="json"))


def store_plan(plan: Plan, warehouse: Path | str, created_by: str = CREATED_BY) -> str:
    """Save the plan and its release decisions (audited) and the executor's form of it, so that
    `run_release(plan_id)` can carry it out; sets and returns plan.plan_id."""
    from releasepilot.audit import _new_id, save_plan
    from releasepilot.rollout.execution_plan import write_execution_plan
    from releasepilot.warehouse import connect

    plan.plan_id = plan.plan_id or _new_id("plan")
    execution = to_execution_plan(plan)           # built first: a plan that cannot run is not stored
    rows = [{"service": r.service, "version": r.version, "decision": r.decision.decision.value,
             "failure_probability": r.decision.failure_probability,
             "reasons": [x.as_dict() for x in r.decision.reasons], "conditions": list(r.decision.conditions)}
            for r in plan.releases]
    with connect(warehouse) as con:
        save_plan(con, train_name=plan.train, decision=plan.decision.decision.value, created_by=created_by,
                  releases=rows, failure_probability=plan.decision.failure_probability, source_file=plan.source_file,
                  policy=plan.policy, plan=plan.as_dict(), plan_id=plan.plan_id, at=plan.created_at,
                  planning_seconds=plan.planning_seconds)
        write_execution_plan(con, execution)
    return plan.plan_id


def to_execution_plan(plan: Plan | dict[str, Any]):
    """The executor's ExecutionPlan (rollout/execution_plan.py) from a plan or its stored dict."""
    from releasepilot.rollout.execution_plan import ExecutionPlan, ReleaseExecution, StepSpec

    data = plan.as_dict() if isinstance(plan, Plan) else plan
    by_service = {r["service"]: r for r in data["releases"]}
    after: dict[str, set[str]] = {s: set() for s in by_service}
    for c in data["order"]["constraints"]:
        after[c["after"]].add(c["before"])
    waves = []
    for wave in data["order"]["waves"]:
        items = []
        for service in wave["services"]:
            r = by_service[service]
            steps = tuple(StepSpec(index=s["index"], weight=int(s["weight_percent"]),
                                   scope=None if s["scope"] == "traffic" else ",".join(s["targets"]),
                                   bake_minutes=int(s["bake_minutes"]), gate=s["gate"]) for s in r["rollout"]["steps"])
            shas = [c["sha"] for c in r["commits"]]
            items.append(ReleaseExecution(
                release_id=service, service=service, version=r["version"],
                previous_version=r["previous_version"] or "", depends_on_release_ids=tuple(sorted(after[service])),
                steps=steps, commit_from=None, commit_to=shas[-1] if shas else None))
        waves.append(tuple(items))
    return ExecutionPlan(plan_id=data.get("plan_id") or "unsaved", train=data["train"], waves=tuple(waves),
                         meta={"decision": data["decision"]["decision"]})
