"""Risk drivers of each production deployment, computed only from what the written files show.

Each driver mirrors a feature the dbt marts can compute point-in-time from the source files (see
docs/simulation.md): so a model trained on those features can approach the ground-truth ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from releasepilot.simulation.calendar import DAY, HOUR, Clock, Oncall, Traffic
from releasepilot.simulation.history import KIND_API, KIND_BINARY, KIND_TEST, History
from releasepilot.simulation.org import Org

CONCURRENCY_WINDOW = 2 * HOUR       # other production releases of the same/adjacent services before start
MULTI_TEAM_WINDOW = 14 * DAY        # modules changed by other teams within this window before start
TRAFFIC_WINDOW_HOURS = 168          # traffic percentile among the service's previous hours
WORK_HOURS = (8.0, 18.0)            # local working hours of the owner team (Mon-Fri)


@dataclass
class Drivers:
    """One value per production deployment (arrays of equal length)."""

    churn: np.ndarray          # la + ld over the release's commits (binary files count 0)
    files: np.ndarray          # distinct files changed
    entropy: np.ndarray        # mean over commits of the Shannon entropy (bits) of changed lines per file
    min_exp: np.ndarray        # least experienced author: prior commits (all repos) at commit time
    test_share: np.ndarray     # share of commits that touch a file under tests/
    fix: np.ndarray            # some commit is a `fix`
    tier: np.ndarray
    age_days: np.ndarray       # days since the repo's first commit
    off_hours: np.ndarray      # outside 08-18 Mon-Fri in the owner team's home-region time zone
    traffic_pct: np.ndarray    # share of the previous 168 hourly totals below this hour's total
    no_oncall: np.ndarray      # nobody of the owner team on call at start
    concurrent: np.ndarray     # production releases of this or a directly connected service, 2 h before
    multi_team: np.ndarray     # modules of this release changed by other teams' authors in 14 days before
    contract: np.ndarray       # touches api/ and some consumer has no contract test for this service
    years: np.ndarray          # time since history start (drift)


def _per_deploy_sum(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(group, weights=values, minlength=n)


def _commit_entropy(f_commit: np.ndarray, lines: np.ndarray, n_c: int) -> np.ndarray:
    total = np.bincount(f_commit, weights=lines, minlength=n_c)
    share = np.where(total[f_commit] > 0, lines / np.maximum(total[f_commit], 1), 0.0)
    term = np.where(share > 0, -share * np.log2(np.where(share > 0, share, 1.0)), 0.0)
    return np.bincount(f_commit, weights=term, minlength=n_c)


def _traffic_percentile(traffic: Traffic, service: np.ndarray, start: np.ndarray) -> np.ndarray:
    hours = traffic.total.shape[1]
    h = np.clip(start // HOUR, 0, hours - 1)
    out = np.full(service.size, 0.5)
    lags = np.arange(1, TRAFFIC_WINDOW_HOURS + 1)
    for lo in range(0, service.size, 20000):
        s, hh = service[lo:lo + 20000], h[lo:lo + 20000]
        idx = hh[:, None] - lags[None, :]
        valid = idx >= 0
        window = traffic.total[s[:, None], np.maximum(idx, 0)]
        now = traffic.total[s, hh][:, None]
        below = ((window < now) & valid).sum(axis=1)
        count = valid.sum(axis=1)
        out[lo:lo + 20000] = np.where(count > 0, below / np.maximum(count, 1), 0.5)
    return out


def _concurrent(org: Org, service: np.ndarray, start: np.ndarray) -> np.ndarray:
    out = np.zeros(service.size)
    consumers = org.consumers
    times = {s: np.sort(start[service == s]) for s in range(len(org.service_ids))}
    for s in range(len(org.service_ids)):
        mine = np.flatnonzero(service == s)
        if mine.size == 0:
            continue
        t = start[mine]
        for other in {s, *org.depends_on[s], *consumers[s]}:
            ts = times[other]
            out[mine] += np.searchsorted(ts, t, side="left") - np.searchsorted(ts, t - CONCURRENCY_WINDOW,
                                                                                 side="left")
    return out


def _multi_team(org: Org, h: History, owner_of_commit: np.ndarray) -> np.ndarray:
    """Per deployment: its distinct modules that other-team commits touched in the 14 days before start."""
    table = h.paths
    f_module = table.module[h.f_path]
    f_time = h.c_time[h.f_commit]
    other = org.person_team[h.c_author[h.f_commit]] != owner_of_commit[h.f_commit]
    big = np.int64(1) << 36
    keys = np.sort(f_module[other].astype(np.int64) * big + f_time[other])
    f_dep = h.c_deploy[h.f_commit]
    pair = np.unique(f_dep.astype(np.int64) * (1 << 24) + f_module)
    dep, module = pair // (1 << 24), pair % (1 << 24)
    start = h.dep_start[dep]
    count = (np.searchsorted(keys, module * big + start, side="left")
             - np.searchsorted(keys, module * big + start - MULTI_TEAM_WINDOW, side="left"))
    return np.bincount(dep, weights=(count > 0).astype(float), minlength=h.dep_service.size)


def compute_drivers(org: Org, clock: Clock, h: History, oncall: Oncall, traffic: Traffic) -> Drivers:
    n_d, n_c = h.dep_service.size, h.c_service.size
    kind = h.paths.kind[h.f_path]
    added = np.where(kind == KIND_BINARY, 0, h.f_added).astype(float)
    deleted = np.where(kind == KIND_BINARY, 0, h.f_deleted).astype(float)
    c_churn = np.bincount(h.f_commit, weights=added + deleted, minlength=n_c)
    churn = _per_deploy_sum(c_churn, h.c_deploy, n_d)
    f_dep = h.c_deploy[h.f_commit]
    uniq = np.unique(f_dep.astype(np.int64) * (1 << 32) + h.f_path)
    files = np.bincount((uniq >> 32).astype(np.int64), minlength=n_d).astype(float)
    n_commits = np.bincount(h.c_deploy, minlength=n_d).astype(float)
    entropy = _per_deploy_sum(_commit_entropy(h.f_commit, added + deleted, n_c), h.c_deploy, n_d) / n_commits
    min_exp = np.minimum.reduceat(h.c_exp, h.dep_commit_lo).astype(float)
    c_tests = np.zeros(n_c, dtype=bool)
    c_tests[h.f_commit[kind == KIND_TEST]] = True
    test_share = _per_deploy_sum(c_tests.astype(float), h.c_deploy, n_d) / n_commits
    fix = _per_deploy_sum((h.c_type == 1).astype(float), h.c_deploy, n_d) > 0
    first_commit = h.c_time[h.dep_commit_lo]
    repo_first = np.full(len(org.service_ids), np.iinfo(np.int64).max)
    np.minimum.at(repo_first, h.dep_service, first_commit)
    age_days = (h.dep_start - repo_first[h.dep_service]) / DAY
    owner = org.owner[h.dep_service]
    hour, weekday = clock.local(h.dep_start, org.team_tz[owner])
    off_hours = (hour < WORK_HOURS[0]) | (hour >= WORK_HOURS[1]) | (weekday >= 5)
    api_dep = np.zeros(n_d, dtype=bool)
    api_dep[f_dep[kind == KIND_API]] = True
    contract = api_dep & org.uncovered_consumer()[h.dep_service]
    return Drivers(
        churn=churn, files=files, entropy=entropy, min_exp=min_exp, test_share=test_share,
        fix=fix.astype(float), tier=org.tier[h.dep_service], age_days=age_days,
        off_hours=off_hours.astype(float),
        traffic_pct=_traffic_percentile(traffic, h.dep_service, h.dep_start),
        no_oncall=(~oncall.covered(owner, h.dep_start)).astype(float),
        concurrent=_concurrent(org, h.dep_service, h.dep_start),
        multi_team=_multi_team(org, h, org.owner[h.c_service]),
        contract=contract.astype(float), years=h.dep_start / (365 * DAY),
    )
