"""Synthetic change and release frames shaped like the marts, with a known failure process.

A release's failure probability rises with its size (churn, files), untested contract changes and
deploys without on-call, and falls with author experience; its commits are labelled defective when the
release failed. Small and fast: for unit tests of the risk package, not for realism.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

START = datetime(2024, 1, 1)
SERVICES = [f"svc-{i}" for i in range(6)]
TEAMS = ["team-a", "team-b", "team-c"]
COMMIT_TYPES = ["feat", "fix", "chore", "refactor"]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def make_history(n_releases: int = 900, days: int = 300, seed: int = 0, pending: int = 5,
                 shift: float = 0.0) -> dict[str, pl.DataFrame]:
    """Return {'changes', 'releases', 'truth'} frames; the newest `pending` releases have no outcome."""
    rng = np.random.default_rng(seed)
    starts = sorted(START + timedelta(minutes=float(m)) for m in rng.uniform(0, days * 1440, n_releases))
    release_rows, change_rows, truth_rows = [], [], []
    for i, started in enumerate(starts):
        service = SERVICES[i % len(SERVICES)]
        team = TEAMS[SERVICES.index(service) % len(TEAMS)]
        n_commits = int(rng.integers(1, 5))
        la = rng.lognormal(3.5 + shift, 1.0, n_commits)
        ld = la * rng.uniform(0.1, 0.6, n_commits)
        nf = rng.poisson(2 + la / 60) + 1
        exp = rng.lognormal(3.0, 1.0, n_commits)
        churn = float((la + ld).sum())
        contract_untested = int(rng.random() < 0.1)
        oncall = int(rng.random() < 0.85)
        hour = int(rng.integers(0, 24))
        logit = (-3.6 + 1.3 * (np.log1p(churn) - 5.0) + 2.0 * contract_untested + 1.5 * (1 - oncall)
                 - 0.6 * (np.log1p(exp.min()) - 3.0) + 0.8 * (hour >= 18))
        p = float(_sigmoid(logit))
        failed = int(rng.random() < p)
        finished = started + timedelta(minutes=30)
        is_pending = i >= n_releases - pending
        dep = f"dep-{i:05d}"
        known = None if is_pending else finished + timedelta(days=1)
        release_rows.append({
            "deployment_id": dep, "service": service, "owner_team": team, "version": f"1.{i}",
            "started_at": started, "finished_at": finished, "status": "failed" if failed else "succeeded",
            "tier": 1 + SERVICES.index(service) % 3, "layer": "domain", "system": "commerce",
            "n_commits": n_commits, "n_authors": min(n_commits, 2), "la": float(la.sum()), "ld": float(ld.sum()),
            "lt": float(rng.integers(50, 5000)), "nf": int(nf.sum()), "ns": 1, "nd": int(min(nf.sum(), 3)),
            "entropy": float(rng.uniform(0, 2)), "churn": churn, "churn_ratio_service_median": churn / 150.0,
            "max_commit_churn": float((la + ld).max()), "fix_share": float(rng.random()),
            "min_author_exp": float(exp.min()), "mean_author_exp": float(exp.mean()),
            "min_author_rexp": float(exp.min() / 3), "tests_touched": int(rng.integers(0, 3)),
            "has_test_changes": bool(rng.random() < 0.5), "fan_in": 2, "fan_out": 3,
            "transitive_dependents": 5, "deploy_hour": hour, "deploy_weekday": started.weekday(),
            "traffic_percentile": float(rng.random()), "oncall_present": bool(oncall),
            "concurrent_same_service": 0, "concurrent_dependent": int(rng.integers(0, 3)),
            "cross_team_modules": int(rng.integers(0, 2)), "contract_change": bool(contract_untested),
            "contract_change_untested": bool(contract_untested), "svc_fail_rate_30d": None,
            "svc_fail_rate_90d": None, "team_fail_rate_30d": None, "team_fail_rate_90d": None,
            "svc_releases_90d": 10, "days_since_last_release": 1.0, "in_freeze": False,
            "is_failure": None if is_pending else bool(failed), "label_known_at": known,
        })
        truth_rows.append({"deployment_id": dep, "p_fail": p, "failed": bool(failed)})
        for j in range(n_commits):
            change_rows.append({
                "sha": f"{i:05d}{j:02d}", "service": service, "author": f"dev{rng.integers(0, 20)}",
                "author_team": team, "authored_at": started - timedelta(hours=5), "deployment_id": dep,
                "deployed_at": started, "ns": 1, "nd": 1, "nf": int(nf[j]), "entropy": float(rng.uniform(0, 2)),
                "la": float(la[j]), "ld": float(ld[j]), "lt": float(rng.integers(50, 5000)),
                "fix": bool(rng.random() < 0.3), "ndev": int(rng.integers(1, 6)), "age": float(rng.uniform(0, 60)),
                "nuc": int(rng.integers(1, 5)), "exp": float(exp[j]), "rexp": float(exp[j] / 3),
                "sexp": float(exp[j] / 2), "touches_tests": bool(rng.random() < 0.5),
                "touches_api": bool(contract_untested), "is_cross_team": False,
                "commit_type": COMMIT_TYPES[int(rng.integers(0, 4))], "is_breaking": False,
                "is_defective": None if is_pending else bool(failed), "label_known_at": known,
            })
    releases = pl.DataFrame(release_rows, infer_schema_length=None)
    rates = releases.sort("started_at").with_columns(
        pl.col("is_failure").cast(pl.Float64).shift(1).rolling_mean(30, min_samples=1).over("service")
        .alias("svc_fail_rate_90d"))
    return {"changes": pl.DataFrame(change_rows, infer_schema_length=None), "releases": rates,
            "truth": pl.DataFrame(truth_rows)}
