"""Behavioural model tests: all else equal, a much larger or riskier change never scores lower."""

from __future__ import annotations

import numpy as np
import polars as pl

from releasepilot.risk.scoring import Champions, score_releases


def _larger(frame: pl.DataFrame, columns: dict[str, float]) -> pl.DataFrame:
    return frame.with_columns([(pl.col(c).cast(pl.Float64) * k).alias(c) for c, k in columns.items()])


def test_a_much_larger_commit_never_scores_lower(trained):
    model = trained.change
    base = model.valid
    bigger = _larger(base, {"la": 10, "ld": 10, "nf": 5, "ns": 3, "nd": 3, "entropy": 2})
    before, after = model.predict(base), model.predict(bigger)
    assert np.all(after >= before - 1e-12)
    assert after.mean() > before.mean()


def test_a_much_larger_or_untested_contract_release_never_scores_lower(trained):
    model = trained.release
    base = model.valid
    bigger = _larger(base, {"la": 10, "ld": 10, "nf": 5, "churn": 10, "churn_ratio_service_median": 10,
                            "max_commit_churn": 10, "change_risk_max": 2, "change_risk_mean": 2,
                            "change_risk_sum": 3})
    before, after = model.predict(base), model.predict(bigger)
    assert np.all(after >= before - 1e-12)
    assert after.mean() > before.mean()
    untested = base.with_columns(pl.lit(True).alias("contract_change_untested"))
    assert np.all(model.predict(untested) >= before - 1e-12)


def test_release_with_larger_commits_scores_no_lower_end_to_end(trained, history):
    """Through the scoring path: bigger commits -> higher change scores -> release score not lower."""
    from releasepilot.risk.registry import LoadedModel

    def loaded(t):
        return LoadedModel(t.spec.registered_model, "test", "0", "-", t.model, t.calibrator, t.spec)

    champions = Champions(release=loaded(trained.release), change=loaded(trained.change))
    releases = history["releases"].tail(40)
    changes = history["changes"].join(releases.select("deployment_id"), on="deployment_id", how="semi")
    base = score_releases(releases, changes, champions)
    big_changes = _larger(changes, {"la": 10, "ld": 10, "nf": 5, "ns": 3, "nd": 3, "entropy": 2})
    big_releases = _larger(releases, {"la": 10, "ld": 10, "nf": 5, "churn": 10,
                                      "churn_ratio_service_median": 10, "max_commit_churn": 10})
    big = score_releases(big_releases, big_changes, champions)
    assert base.share_scored == 1.0 and len(base.scores) == 40
    for a, b in zip(base.scores, big.scores, strict=True):
        assert b.probability >= a.probability - 1e-12
