"""Where a plan's risk numbers come from: the champion model, a given scorer, or nowhere.

Planning needs two things from a risk model: per release a `ReleaseRisk` (probability and the drivers
behind it) and, for window scoring, a `scorer(rows) -> probabilities` over release-feature rows whose time
features were recomputed for a candidate hour. `champion_risk` wraps `models:/release-risk@champion`
(with its change model for the stacked change-risk scores) from `releasepilot.risk.scoring`; with no
champion it returns an unavailable source that says why, and the plan shows risk as unavailable: no score
is ever invented. Heavy libraries (mlflow, catboost) are imported only when a champion is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from releasepilot.planning.types import ReleaseRisk, RiskDriver

Scorer = Callable[[list[dict[str, Any]]], Sequence[float]]
STACKED = ("change_risk_max", "change_risk_mean", "change_risk_sum")


@dataclass
class RiskSource:
    """A way to score releases, or the reason there is none (`available` False)."""

    name: str | None
    available: bool
    note: str
    champions: Any = None                 # releasepilot.risk.scoring.Champions when from MLflow
    custom: Scorer | None = None          # a caller-given scorer (no drivers)
    stacked: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def stack(self, releases: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
        """Release rows with the change-risk aggregates the release model stacks on (null without a model)."""
        if self.champions is None or changes.height == 0:
            return releases.with_columns([pl.lit(None, dtype=pl.Float64).alias(c) for c in STACKED
                                          if c not in releases.columns])
        from releasepilot.risk.train import aggregate_change_scores, predict_raw, with_stacked_scores

        change = self.champions.change
        scored = changes.select("deployment_id").with_columns(
            pl.Series("change_risk", predict_raw(change.model, changes, change.spec)))
        return with_stacked_scores(releases, aggregate_change_scores(scored))

    def score(self, releases: pl.DataFrame, changes: pl.DataFrame) -> dict[str, ReleaseRisk]:
        """ReleaseRisk per deployment_id; releases the model cannot score are left out (unavailable)."""
        if not self.available:
            return {}
        if self.custom is not None:
            rows = releases.to_dicts()
            probabilities = list(self.custom(rows)) if rows else []
            return {row["deployment_id"]: ReleaseRisk(row["service"], float(p), (), self.name)
                    for row, p in zip(rows, probabilities)}
        from releasepilot.risk.scoring import score_releases

        report = score_releases(releases, changes, self.champions)
        return {s.deployment_id: ReleaseRisk(
            s.service or "", min(max(s.probability, 0.0), 1.0),
            tuple(RiskDriver(r.feature, r.value, r.effect, r.text) for r in s.reasons), self.name)
            for s in report.scores}

    def scorer(self) -> Scorer | None:
        """rows -> failure probabilities for window scoring (None when risk is unavailable)."""
        if not self.available:
            return None
        if self.custom is not None:
            return self.custom
        release = self.champions.release

        def champion_scorer(rows: list[dict[str, Any]] | pl.DataFrame) -> Sequence[float]:
            """Probabilities for feature rows, given as dicts or (from window scoring) as one frame."""
            if len(rows) == 0:
                return []
            frame = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(rows, infer_schema_length=None)
            return [float(p) for p in release.predict(frame)]

        champion_scorer.accepts_frame = True  # type: ignore[attr-defined]  # see windows.FRAME_SCORER_FLAG
        return champion_scorer


def custom_risk(scorer: Scorer, name: str = "custom scorer") -> RiskSource:
    """A risk source from a caller-given scorer (tests, benchmarks, other models)."""
    return RiskSource(name=name, available=True, note=f"risk from {name}", custom=scorer)


def champion_risk(tracking_uri: str | None = None) -> RiskSource:
    """The MLflow champion, or an unavailable source naming why (no champion, no registry)."""
    from releasepilot.errors import NotReadyError
    from releasepilot.risk.scoring import load_champions

    try:
        champions = load_champions(tracking_uri)
    except NotReadyError as exc:
        return RiskSource(name=None, available=False, note=f"risk unavailable: {exc}")
    name = f"{champions.release.name}@{champions.release.alias} (v{champions.release.version})"
    return RiskSource(name=name, available=True, note=f"risk from {name}", champions=champions)


def unavailable(note: str) -> RiskSource:
    return RiskSource(name=None, available=False, note=f"risk unavailable: {note}")
