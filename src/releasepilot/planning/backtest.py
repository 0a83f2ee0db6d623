"""`releasepilot backtest`: replay the history as if the policy had been applied to every release.

Each past production release gets an out-of-time risk score: the history is cut into expanding time
blocks (as in risk/train.py); a release of block k is scored by change and release models fitted only on
releases whose outcome was known before block k started. The policy then decides each release from that
score plus what its features say about its window (freeze, on-call) with `decide_release`, sizes its
rollout with `plan_rollout`, and ranks the hourly windows of the following horizon with `score_windows`
(the block's model recomputing the time features). Counted: failed releases stopped (NO-GO), slowed
(conditions or smaller first steps than the low band) or missed; good releases delayed (NO-GO) or slowed;
and the expected impact (p_fail x traffic x tier x blast radius) at the hour actually used versus the best
allowed hour, i.e. how much expected impact the window choice would have moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from releasepilot.errors import InputError
from releasepilot.planning.types import CheckResult, Decision, ReleaseRisk

DEFAULT_FOLDS = 4
DEFAULT_WINDOW_SAMPLE = 1500   # releases whose window impact is replayed (each costs horizon x 24 model rows)
SAMPLE_SEED = 0
SOURCE = "marts.release_features"
ProgressFn = Callable[[str, int, int], None]


def _noop(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class BacktestReport:
    """Counts and impact totals of the replay, plus one row per scored release."""

    counts: dict[str, int]
    impact_actual: float
    impact_best: float
    auc: float | None
    seconds: float
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def impact_moved(self) -> float:
        return self.impact_actual - self.impact_best

    def table(self) -> list[tuple[str, str]]:
        c = self.counts
        failed, good = c["failed"], c["good"]

        def share(n: int, of: int) -> str:
            return f"{n} ({n / of:.0%})" if of else str(n)

        moved = self.impact_moved / self.impact_actual if self.impact_actual else 0.0
        return [
            ("releases replayed (out-of-time scores)", str(c["scored"])),
            ("out-of-time AUC", "n/a" if self.auc is None else f"{self.auc:.3f}"),
            ("failed releases", str(failed)),
            ("  stopped (NO-GO)", share(c["failed_stopped"], failed)),
            ("  slowed (conditions / smaller steps)", share(c["failed_slowed"], failed)),
            ("  let through as GO with the low band", share(c["failed_missed"], failed)),
            ("good releases", str(good)),
            ("  delayed (NO-GO)", share(c["good_delayed"], good)),
            ("  slowed (conditions / smaller steps)", share(c["good_slowed"], good)),
            ("releases whose windows were replayed", str(c.get("windows_replayed", c["scored"]))),
            ("expected impact at the hours used", f"{self.impact_actual:.2f}"),
            ("expected impact at the best allowed hours", f"{self.impact_best:.2f}"),
            ("expected impact moved to better windows", f"{self.impact_moved:.2f} ({moved:.0%})"),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {"counts": self.counts, "impact_actual": round(self.impact_actual, 6),
                "impact_best": round(self.impact_best, 6), "impact_moved": round(self.impact_moved, 6),
                "auc": self.auc, "seconds": round(self.seconds, 3),
                "table": [{"measure": k, "value": v} for k, v in self.table()]}


def out_of_time_scores(releases: pl.DataFrame, changes: pl.DataFrame, specs: dict[str, Any], folds: int,
                       on_progress: ProgressFn = _noop) -> tuple[pl.DataFrame, dict[str, tuple[Any, Any]]]:
    """deployment_id, block and p_fail for every release after the first block; and each block's model."""
    from releasepilot.risk.split import expanding_folds, in_block, known_before
    from releasepilot.risk.train import (
        fit_catboost,
        out_of_time_change_scores,
        predict_raw,
        with_stacked_scores,
    )

    change_spec, release_spec = specs["change_risk"], specs["release_risk"]
    change_spec = change_spec.model_copy(update={"split": change_spec.split.model_copy(update={"stacking_folds": folds})})
    stacked = with_stacked_scores(releases, out_of_time_change_scores(changes, releases, change_spec, release_spec))
    blocks = expanding_folds(releases[release_spec.time_column], folds)
    labelled = stacked.filter(pl.col(release_spec.target).is_not_null() & pl.col("change_risk_max").is_not_null())
    pieces, models = [], {}
    for index, (start, end) in enumerate(blocks[1:], start=1):
        on_progress("out-of-time release scores", index - 1, len(blocks) - 1)
        history = known_before(labelled, release_spec.time_column, start, release_spec.label_known_column)
        block = in_block(stacked, release_spec.time_column, start, end)
        if block.height == 0 or history.height == 0:
            continue
        try:
            model = fit_catboost(history, release_spec)
        except InputError:   # the history before this block lacks one outcome: the block is not scored
            continue
        models[str(index)] = (model, release_spec)
        pieces.append(block.with_columns(pl.Series("p_fail", predict_raw(model, block, release_spec)),
                                         pl.lit(str(index)).alias("block")))
    on_progress("out-of-time release scores", len(blocks) - 1, len(blocks) - 1)
    if not pieces:
        from releasepilot.errors import NotReadyError

        raise NotReadyError("the history is too short to score any release out of time")
    return pl.concat(pieces, how="diagonal_relaxed"), models


def _checks(row: dict[str, Any]) -> list[CheckResult]:
    """What the history says about the window the release used."""
    return [CheckResult("no_freeze", "failed" if row["in_freeze"] else "passed", SOURCE,
                        "started inside a change freeze" if row["in_freeze"] else "no freeze"),
            CheckResult("oncall", "passed" if row["oncall_present"] else "failed", SOURCE,
                        "owning team on call" if row["oncall_present"] else "nobody on call")]


def run_backtest(warehouse: Path | str, policy: Any = None, *, folds: int = DEFAULT_FOLDS,
                 iterations: int | None = None, window_sample: int | None = DEFAULT_WINDOW_SAMPLE,
                 on_progress: ProgressFn = _noop) -> BacktestReport:
    """Replay every production release of the warehouse's history under the policy.

    Decisions and rollout bands are counted for every scored release; the window impact is replayed for a
    seeded random sample of `window_sample` of them (all of them when None or when there are fewer).
    """
    import time

    from releasepilot.catalog_graph import load_graph
    from releasepilot.planning.calendar import HourlyCalendar, hourly_candidates
    from releasepilot.planning.decision import decide_release
    from releasepilot.planning.gather import weekly_traffic_rows
    from releasepilot.warehouse import query_dicts
    from releasepilot.planning.rollout_plan import RolloutRelease, plan_rollout
    from releasepilot.planning.windows import WindowRelease
    from releasepilot.policy import Policy
    from releasepilot.risk.metrics import roc_auc
    from releasepilot.risk.scoring import read_marts
    from releasepilot.risk.spec import load_specs
    from releasepilot.warehouse import connect

    began = time.perf_counter()
    policy = policy or Policy()
    specs = load_specs()
    if iterations is not None:
        specs = {k: s.model_copy(update={"catboost": {**s.catboost, "iterations": iterations}})
                 for k, s in specs.items()}
    releases, changes = read_marts(warehouse)
    releases = releases.filter(pl.col("is_failure").is_not_null())
    scored, models = out_of_time_scores(releases, changes, specs, folds, on_progress)
    with connect(warehouse, read_only=True) as con:
        graph = load_graph(con)
        calendar = HourlyCalendar.from_rows(
            traffic=weekly_traffic_rows(con),
            freezes=query_dicts(con, "select freeze_id, name, starts_at, ends_at, scope, reason from raw.freezes"),
            oncall=query_dicts(con, "select team, user_name, starts_at, ends_at from raw.oncall where ends_at > starts_at"))
        regions = {r["service"]: r["regions"] or [] for r in query_dicts(con, "select service, regions from raw.services")}
    low_first = policy.rollout.ladders["low"][0]
    counts = dict.fromkeys(("scored", "failed", "good", "failed_stopped", "failed_slowed", "failed_missed",
                            "good_delayed", "good_slowed"), 0)
    out_rows: list[dict[str, Any]] = []
    impact_actual = impact_best = 0.0
    if window_sample is not None and scored.height > window_sample:
        sampled = set(scored.sample(window_sample, seed=SAMPLE_SEED)["deployment_id"].to_list())
    else:
        sampled = set(scored["deployment_id"].to_list())
    counts["windows_replayed"] = len(sampled)
    blocks = scored.partition_by("block", as_dict=True)
    for n, (key, block) in enumerate(sorted(blocks.items())):
        on_progress("windows", n, len(blocks))
        model, spec = models[key[0] if isinstance(key, tuple) else key]
        from releasepilot.risk.train import predict_raw

        def scorer(rows: list[dict[str, Any]], model=model, spec=spec) -> list[float]:
            return [float(p) for p in predict_raw(model, pl.DataFrame(rows, infer_schema_length=None), spec)]

        window_releases, candidates = [], []
        for row in block.iter_rows(named=True):
            if row["deployment_id"] not in sampled:
                continue
            service = row["service"]
            start = row["started_at"].replace(tzinfo=UTC).replace(minute=0, second=0, microsecond=0)
            dependents = graph.predecessors(service) if service in graph else []
            owners = {graph.nodes[d].get("owner") for d in dependents} | {row["owner_team"]}
            window_releases.append(WindowRelease(
                release_id=row["deployment_id"], service=service, tier=row["tier"],
                blast_radius=float(row["transitive_dependents"] or 0), system=row["system"],
                teams=tuple(sorted(t for t in owners if t)), features=row, requested_window=start))
            candidates.append(start)
        if not window_releases:
            continue
        hours = sorted({h for c in candidates for h in hourly_candidates(c, policy.windows.horizon_days,
                                                                          policy.windows.step_hours)})
        rankings = _rank_each(window_releases, calendar, scorer, policy, hours)
        for row in block.iter_rows(named=True):
            p = min(max(float(row["p_fail"]), 0.0), 1.0)
            decision = decide_release(row["service"], ReleaseRisk(row["service"], p), _checks(row), [], policy)
            rollout = plan_rollout(RolloutRelease(row["deployment_id"], row["service"], p,
                                                  float(row["transitive_dependents"] or 0),
                                                  regions=tuple(regions.get(row["service"], ()))), policy.rollout)
            slowed = decision.decision is Decision.GO_WITH_CONDITIONS or rollout.steps[0].weight_percent < low_first
            stopped = decision.decision is Decision.NO_GO
            failed = bool(row["is_failure"])
            counts["scored"] += 1
            counts["failed" if failed else "good"] += 1
            if failed:
                counts["failed_stopped" if stopped else "failed_slowed" if slowed else "failed_missed"] += 1
            else:
                counts["good_delayed"] += stopped
                counts["good_slowed"] += (not stopped) and slowed
            ranking = rankings.get(row["deployment_id"])
            actual = best = None
            if ranking is not None:
                actual = ranking.requested.expected_impact if ranking.requested else 0.0
                best = min(actual, ranking.best[0].expected_impact) if ranking.best else actual
                impact_actual += actual
                impact_best += best
            out_rows.append({"deployment_id": row["deployment_id"], "service": row["service"], "p_fail": p,
                             "failed": failed, "decision": decision.decision.value, "band": rollout.band,
                             "impact_actual": actual, "impact_best": best})
    on_progress("windows", len(blocks), len(blocks))
    y = scored["is_failure"].cast(pl.Int8).to_numpy()
    auc = float(roc_auc(y, scored["p_fail"].to_numpy())) if 0 < y.sum() < len(y) else None
    return BacktestReport(counts, impact_actual, impact_best, auc, time.perf_counter() - began, out_rows)


def _rank_each(window_releases: list[Any], calendar: Any, scorer: Any, policy: Any, hours: list[Any]) -> dict:
    """Rank each release's own horizon (one scorer call for the block)."""
    from releasepilot.planning.windows import score_windows

    horizon = timedelta(days=policy.windows.horizon_days)
    rows_needed: dict[str, list[Any]] = {}
    for r in window_releases:
        rows_needed[r.release_id] = [h for h in hours if r.requested_window <= h < r.requested_window + horizon]
    # score_windows takes one candidate list; group releases that share a start to keep calls few
    groups: dict[Any, list[Any]] = {}
    for r in window_releases:
        groups.setdefault(r.requested_window, []).append(r)
    out = {}
    for group in groups.values():
        out.update(score_windows(group, rows_needed[group[0].release_id], calendar, scorer, policy.windows,
                                 planned={}))
    return out
