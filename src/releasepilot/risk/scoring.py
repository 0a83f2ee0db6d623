"""Score releases with the champion models and explain each score.

Loads `models:/release-risk@champion` and the change model by alias (champion, else challenger), scores
the changes of each release (raw change probabilities, as the release model was trained on), aggregates
them, scores the release, and gives the top reasons from CatBoost SHAP values. With no champion it
raises NotReadyError saying how to train one: it never invents a score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from releasepilot.errors import InputError, NotReadyError
from releasepilot.risk.explain import TOP_REASONS, reasons_for
from releasepilot.risk.registry import CHALLENGER, CHAMPION, LoadedModel, load_by_alias
from releasepilot.risk.train import aggregate_change_scores, feature_frame, predict_raw, with_stacked_scores

RELEASE_MODEL_NAME = "release-risk"
CHANGE_MODEL_NAME = "change-risk"
TRAIN_HINT = ("train one with `releasepilot train` (after `releasepilot simulate`, `ingest` and `build`, "
              "or on your own history after `ingest` and `build`)")


@dataclass
class Champions:
    release: LoadedModel
    change: LoadedModel


def load_champions(tracking_uri: str | None = None) -> Champions:
    """The release champion and the change model (champion, else challenger), or NotReadyError."""
    release = load_by_alias(RELEASE_MODEL_NAME, CHAMPION, tracking_uri)
    if release is None:
        raise NotReadyError(f"no champion for '{RELEASE_MODEL_NAME}' in MLflow yet: {TRAIN_HINT}")
    change = load_by_alias(CHANGE_MODEL_NAME, CHAMPION, tracking_uri) or \
        load_by_alias(CHANGE_MODEL_NAME, CHALLENGER, tracking_uri)
    if change is None:
        raise NotReadyError(f"no version of '{CHANGE_MODEL_NAME}' in MLflow yet: {TRAIN_HINT}")
    return Champions(release=release, change=change)


@dataclass
class ReleaseScore:
    deployment_id: str
    service: str | None
    probability: float
    reasons: list

    def as_dict(self) -> dict:
        return {"deployment_id": self.deployment_id, "service": self.service,
                "probability": round(self.probability, 4), "reasons": [r.as_dict() for r in self.reasons]}


@dataclass
class ScoreReport:
    scores: list[ReleaseScore]
    unscored: list[dict] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)

    @property
    def share_scored(self) -> float:
        total = len(self.scores) + len(self.unscored)
        return len(self.scores) / total if total else 1.0

    def as_dict(self) -> dict:
        return {"models": self.models, "share_scored": round(self.share_scored, 4),
                "scored": len(self.scores), "unscored": self.unscored,
                "scores": [s.as_dict() for s in self.scores]}


def unscorable(releases: pl.DataFrame, needed: list[str]) -> pl.DataFrame:
    """Rows that cannot be scored, with why (no id, or every model feature unknown)."""
    present = [c for c in needed if c in releases.columns]
    all_null = pl.all_horizontal([pl.col(c).is_null() for c in present]) if present else pl.lit(True)
    return releases.with_columns(
        pl.when(pl.col("deployment_id").is_null()).then(pl.lit("no deployment_id"))
        .when(all_null).then(pl.lit("no feature of this release is known (is it in marts.release_features?)"))
        .otherwise(pl.lit(None)).alias("_why"))


def score_releases(releases: pl.DataFrame, changes: pl.DataFrame, champions: Champions,
                   top: int = TOP_REASONS) -> ScoreReport:
    """Score release rows (release_features shape) using their changes (change_features shape)."""
    from catboost import Pool

    release_spec, change_spec = champions.release.spec, champions.change.spec
    own = [f for f in release_spec.features if f not in ("change_risk_max", "change_risk_mean", "change_risk_sum")]
    missing = [c for c in own if c not in releases.columns]
    if missing:
        raise InputError(f"missing columns {missing}; found {sorted(releases.columns)}", source="releases")
    models = {"release": f"{champions.release.name}@{champions.release.alias} (v{champions.release.version})",
              "change": f"{champions.change.name}@{champions.change.alias} (v{champions.change.version})"}
    flagged = unscorable(releases, own)
    unscored = [{"deployment_id": r["deployment_id"], "why": r["_why"]}
                for r in flagged.filter(pl.col("_why").is_not_null()).iter_rows(named=True)]
    rows = flagged.filter(pl.col("_why").is_null()).drop("_why")
    if rows.height == 0:
        return ScoreReport([], unscored, models)
    ids = rows.select("deployment_id")
    own_changes = changes.join(ids, on="deployment_id", how="semi") if changes.height else changes
    if own_changes.height:
        scored = own_changes.select("deployment_id").with_columns(
            pl.Series("change_risk", predict_raw(champions.change.model, own_changes, change_spec)))
        rows = with_stacked_scores(rows, aggregate_change_scores(scored))
    else:
        rows = rows.with_columns([pl.lit(None, dtype=pl.Float64).alias(c)
                                  for c in ("change_risk_max", "change_risk_mean", "change_risk_sum")])
    values = feature_frame(rows, release_spec)
    pool = Pool(values, cat_features=release_spec.categorical_features or None)
    probability = champions.release.calibrator.apply(champions.release.model.predict_proba(pool)[:, 1])
    shap = champions.release.model.get_feature_importance(pool, type="ShapValues")
    scores = []
    for i, row in enumerate(rows.select("deployment_id", "service").iter_rows()):
        raw_values = [None if _missing(v) else v for v in values.iloc[i].tolist()]
        reasons = reasons_for(shap[i], release_spec.features, raw_values, champions.release.calibrator, top)
        scores.append(ReleaseScore(row[0], row[1], float(probability[i]), reasons))
    return ScoreReport(scores, unscored, models)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


PENDING_FILTER = "is_failure is null or label_known_at is null"


def read_marts(warehouse: Path | str, where: str | None = None,
               params: list | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(release_features rows matching `where`, the change_features rows of those releases)."""
    from releasepilot.warehouse import connect_marts

    with connect_marts(warehouse) as con:
        clause = f" where {where}" if where else ""
        releases = con.sql(f"select * from marts.release_features{clause}", params=params or None).pl()
        con.register("wanted_ids", releases.select("deployment_id"))
        changes = con.sql("select c.* from marts.change_features c "
                          "join wanted_ids w using (deployment_id)").pl()
    return releases, changes


def score_in_warehouse(warehouse: Path | str, deployment_ids: list[str] | None = None, *,
                       tracking_uri: str | None = None, top: int = TOP_REASONS) -> ScoreReport:
    """Score the given deployments (or every pending one) from the warehouse marts."""
    champions = load_champions(tracking_uri)
    if deployment_ids:
        releases, changes = read_marts(warehouse, "deployment_id in (select unnest($1))", [deployment_ids])
        found = set(releases["deployment_id"].to_list())
        lost = [{"deployment_id": d, "why": "not found in marts.release_features"}
                for d in deployment_ids if d not in found]
    else:
        releases, changes = read_marts(warehouse, PENDING_FILTER)
        lost = []
    report = score_releases(releases, changes, champions, top)
    report.unscored.extend(lost)
    return report


def latest_ids(warehouse: Path | str, n: int) -> list[str]:
    """The `n` most recently started deployments in marts.release_features."""
    releases, _ = read_marts(warehouse, "deployment_id in (select deployment_id from marts.release_features "
                                        "order by started_at desc limit $1)", [n])
    return releases.sort("started_at", descending=True)["deployment_id"].to_list()
