"""Release history: when each service deploys to production, and the commits and files in each release.

All arrays are vectorised over deployments, commits and changed files; times are seconds since start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from releasepilot.simulation.calendar import DAY, YEAR, Clock, Freezes
from releasepilot.simulation.org import Org

OFF_HOURS_SHARE = 0.1           # deployments at a random hour instead of working hours
WEEKEND_FACTOR = 0.1            # weekend deployment rate relative to a weekday
FREEZE_OVERRIDE = 0.1           # share of deployments that go out despite a freeze (emergencies)
COMMITS_PER_DEPLOY = 2.0        # commits per release = 1 + Poisson(this)
FILES_PER_COMMIT = 1.9          # files per commit = 1 + Poisson(this), plus a heavy tail
BIG_COMMIT_SHARE = 0.04
API_TOUCH_RATE = 0.07          # share of code commits that change the API contract (api/...)
MIN_GAP = 15 * 60               # two deployments of one service are at least this far apart
COMMIT_TYPES = np.array(["feat", "fix", "chore", "refactor", "test", "perf", "docs"])
TYPE_PROBS = np.array([0.32, 0.25, 0.12, 0.12, 0.08, 0.05, 0.06])
KIND_SRC, KIND_TEST, KIND_API, KIND_DOCS, KIND_BINARY = range(5)


@dataclass
class PathTable:
    """Every path of every repo, flattened: path strings and their service, kind and module."""

    path: np.ndarray         # str
    service: np.ndarray
    kind: np.ndarray
    module: np.ndarray       # global id of the path's module (first two segments)
    module_name: np.ndarray  # the source module's short name (commit scope), "" for others
    repo_offset: np.ndarray


def path_table(org: Org) -> PathTable:
    paths, service, kind, modname = [], [], [], []
    offsets = []
    for s, repo in enumerate(org.repos):
        offsets.append(len(paths))
        paths.extend(repo.paths)
        service.extend([s] * len(repo.paths))
        kind.extend(repo.kind.tolist())
        modname.extend(repo.modules[m] if m >= 0 else "" for m in repo.module_of)
    keys = [f"{service[i]}:{'/'.join(p.split('/')[:2])}" for i, p in enumerate(paths)]
    _, module = np.unique(np.array(keys), return_inverse=True)
    return PathTable(np.array(paths), np.array(service), np.array(kind), module, np.array(modname),
                     np.array(offsets))


@dataclass
class History:
    dep_service: np.ndarray
    dep_start: np.ndarray
    dep_commit_lo: np.ndarray     # commits of deployment i are [lo, hi) in commit order
    dep_commit_hi: np.ndarray
    c_service: np.ndarray
    c_deploy: np.ndarray
    c_time: np.ndarray
    c_author: np.ndarray
    c_type: np.ndarray            # index into COMMIT_TYPES; -1 = initial commit
    c_breaking: np.ndarray        # 0 none, 1 "!" in header, 2 BREAKING CHANGE footer
    c_exp: np.ndarray             # the author's prior commits (all repos) at commit time
    f_commit: np.ndarray
    f_path: np.ndarray
    f_added: np.ndarray           # -1 for binary files ("-" in numstat)
    f_deleted: np.ndarray
    paths: PathTable


def schedule(org: Org, clock: Clock, frz: Freezes, rng: np.random.Generator, scale: float,
             drift: float) -> tuple[np.ndarray, np.ndarray]:
    """Production deployment times per service, mostly in working hours of the owner team's zone."""
    days = clock.days
    day = np.arange(days)
    weekday = (clock.epoch // DAY + day + 3) % 7
    rate = np.where(weekday >= 5, WEEKEND_FACTOR, 1.0) * (1 + 0.25 * drift * day / 365)
    lam = org.deploy_rate[:, None] * rate[None, :] * scale
    lam[day[None, :] * DAY < org.created[:, None] + DAY] = 0.0
    counts = rng.poisson(lam)
    s_idx, d_idx = np.nonzero(counts)
    svc = np.repeat(s_idx, counts[s_idx, d_idx])
    dday = np.repeat(d_idx, counts[s_idx, d_idx])
    n = svc.size
    off = rng.random(n) < OFF_HOURS_SHARE
    hour = np.where(off, rng.uniform(0, 24, n), np.clip(rng.normal(13.0, 2.6, n), 8.0, 18.5))
    region = org.team_tz[org.owner[svc]]
    t = clock.local_midnight(dday, region) + (hour * 3600).astype(np.int64) + rng.integers(0, 60, n)
    frozen = frz.frozen(t, np.array(org.system)[svc])
    keep = (~frozen | (rng.random(n) < FREEZE_OVERRIDE)) & (t > 0) & (t < days * DAY)
    svc, t = svc[keep], t[keep]
    order = np.lexsort((t, svc))
    svc, t = svc[order], t[order]
    # push a release that collides with the previous one of its service to MIN_GAP after it
    step = np.arange(svc.size, dtype=np.int64) * MIN_GAP
    lane = svc.astype(np.int64) * (np.int64(days + 10) * DAY * 1000)
    t = np.maximum.accumulate(lane + t - step) - lane + step
    keep = t < days * DAY
    return svc[keep], t[keep]


def pick_authors(org: Org, team: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A member of `team` active at `t`, favouring prolific people (vectorised rejection sampling)."""
    order = np.argsort(org.person_team, kind="stable")
    size = np.bincount(org.person_team, minlength=len(org.team_ids))
    offset = np.concatenate([[0], np.cumsum(size)[:-1]])
    author = np.full(team.size, -1)
    todo = np.arange(team.size)
    for _ in range(40):
        if todo.size == 0:
            break
        cand = order[offset[team[todo]] + (rng.random(todo.size) * size[team[todo]]).astype(int)]
        ok = ((org.person_join[cand] <= t[todo]) & (org.person_leave[cand] > t[todo])
              & (rng.random(todo.size) < org.person_weight[cand]))
        author[todo[ok]] = cand[ok]
        todo = todo[~ok]
    author[todo] = order[offset[team[todo]]]  # fall back to the team's core member
    return author


def _commits(org: Org, svc: np.ndarray, start: np.ndarray, rng: np.random.Generator, drift: float):
    n_dep = svc.size
    first = np.ones(n_dep, dtype=bool)
    first[1:] = svc[1:] != svc[:-1]
    prev = np.empty(n_dep, dtype=np.int64)
    prev[1:] = start[:-1]
    prev[first] = np.maximum(org.created[svc[first]].astype(np.int64), start[first] - 14 * DAY)
    prev = np.maximum(prev, start - 30 * DAY)
    years = start / YEAR
    k = 1 + rng.poisson(COMMITS_PER_DEPLOY * np.exp(-0.12 * drift * years))
    c_dep = np.repeat(np.arange(n_dep), k)
    span = np.maximum(start - prev - 120, 1)[c_dep]
    c_time = prev[c_dep] + 60 + (rng.random(c_dep.size) * span).astype(np.int64)
    # the repository's first commit ("initial commit"), part of the service's first release
    init_dep = np.flatnonzero(first)
    c_dep = np.concatenate([c_dep, init_dep])
    c_time = np.concatenate([c_time, np.minimum(org.created[svc[init_dep]].astype(np.int64),
                                                start[init_dep] - 3600)])
    c_init = np.concatenate([np.zeros(c_dep.size - init_dep.size, bool), np.ones(init_dep.size, bool)])
    order = np.lexsort((c_time, c_dep))
    return c_dep[order], c_time[order], c_init[order]


def _files(org: Org, table: PathTable, c_svc: np.ndarray, c_type: np.ndarray, c_other: np.ndarray,
           c_years: np.ndarray, rng: np.random.Generator, drift: float):
    n_c = c_svc.size
    owner = org.owner[c_svc]
    code = (c_type >= 0) & (c_type != 6) & (c_type != 4)
    api = code & org.has_api[c_svc] & (rng.random(n_c) < API_TOUCH_RATE)
    test_rate = np.clip(org.team_test_rate[owner] * (1 + 0.25 * drift * c_years), 0, 0.95)
    tests = np.where(c_type == 4, True, code & (rng.random(n_c) < test_rate))
    n_f = 1 + rng.poisson(FILES_PER_COMMIT * np.exp(-0.08 * drift * c_years))
    n_f += np.where(rng.random(n_c) < BIG_COMMIT_SHARE, rng.poisson(10, n_c), 0)
    n_f = np.where(c_type < 0, 1, n_f)
    f_commit = np.repeat(np.arange(n_c), n_f)
    lo = np.concatenate([[0], np.cumsum(n_f)[:-1]])
    pos = np.arange(f_commit.size) - lo[f_commit]
    last = pos == n_f[f_commit] - 1
    n = f_commit.size
    svc = c_svc[f_commit]
    kind = np.full(n, KIND_SRC)
    t_commit = tests[f_commit]
    kind[t_commit & (last | (rng.random(n) < 0.25))] = KIND_TEST
    kind[(c_type[f_commit] == 4) & (rng.random(n) < 0.8)] = KIND_TEST
    kind[rng.random(n) < 0.004] = KIND_BINARY
    kind[api[f_commit] & (pos == 0)] = KIND_API
    kind[(c_type[f_commit] == 6) | (c_type[f_commit] < 0)] = KIND_DOCS
    # choose the module (src/test) and the file in it
    n_mod = np.array([len(r.modules) for r in org.repos])
    shared = np.zeros((len(org.repos), 2), dtype=int)
    n_shared = np.zeros(len(org.repos), dtype=int)
    mod_start = np.zeros((len(org.repos), 8), dtype=int)
    mod_count = np.ones((len(org.repos), 8), dtype=int)
    for s, repo in enumerate(org.repos):
        idx = np.flatnonzero(repo.shared)
        shared[s, :idx.size] = idx
        n_shared[s] = idx.size
        for m in range(len(repo.modules)):
            where = np.flatnonzero(repo.module_of == m)
            mod_start[s, m], mod_count[s, m] = where[0], where.size // 2
    other = c_other[f_commit] & (rng.random(n) < 0.85)
    module = np.where(other, shared[svc, (rng.random(n) * n_shared[svc]).astype(int)],
                      (n_mod[svc] * rng.random(n) ** 1.6).astype(int))
    local = mod_start[svc, module] + 2 * (rng.random(n) * mod_count[svc, module]).astype(int)
    local += (kind == KIND_TEST)
    repo_kind_pos = {}
    for s, repo in enumerate(org.repos):
        for kd in (KIND_API, KIND_DOCS, KIND_BINARY):
            repo_kind_pos[(s, kd)] = np.flatnonzero(repo.kind == kd)
    for kd, choices in ((KIND_API, 2), (KIND_DOCS, 3), (KIND_BINARY, 1)):
        sel = np.flatnonzero(kind == kd)
        if sel.size == 0:
            continue
        first_pos = np.array([repo_kind_pos[(s, kd)][0] if repo_kind_pos[(s, kd)].size else 0
                              for s in range(len(org.repos))])
        local[sel] = first_pos[svc[sel]] + rng.integers(0, choices, sel.size)
    f_path = table.repo_offset[svc] + local
    # de-duplicate a path listed twice in one commit
    key = f_commit.astype(np.int64) * (1 << 32) + f_path
    _, keep = np.unique(key, return_index=True)
    keep.sort()
    f_commit, f_path = f_commit[keep], f_path[keep]
    kind = table.kind[f_path]
    n = f_commit.size
    commit_scale = rng.lognormal(0.0, 0.5, n_c)[f_commit]
    added = np.floor(rng.lognormal(2.5 - 0.1 * drift * c_years[f_commit], 1.15, n) * commit_scale)
    deleted = np.floor(rng.lognormal(1.4, 1.3, n) * commit_scale)
    deleted = np.where(c_type[f_commit] == 3, deleted * 3 + added * 0.5, deleted)
    small = (kind == KIND_DOCS) | (kind == KIND_API)
    added = np.where(small, np.floor(added * 0.3) + 1, added)
    deleted = np.where(small, np.floor(deleted * 0.3), deleted)
    added = np.where(c_type[f_commit] < 0, 1, added).astype(np.int64)
    deleted = np.where(c_type[f_commit] < 0, 0, deleted).astype(np.int64)
    binary = kind == KIND_BINARY
    added[binary] = -1
    deleted[binary] = -1
    return f_commit, f_path, added, deleted


def generate_history(org: Org, clock: Clock, frz: Freezes, rng: np.random.Generator, scale: float,
                     drift: float) -> History:
    """Production deployments plus the commits and changed files that each one ships."""
    table = path_table(org)
    dep_service, dep_start = schedule(org, clock, frz, rng, scale, drift)
    c_dep, c_time, c_init = _commits(org, dep_service, dep_start, rng, drift)
    c_svc = dep_service[c_dep]
    n_c = c_dep.size
    owner = org.owner[c_svc]
    n_t = len(org.team_ids)
    c_other = ~c_init & (rng.random(n_c) < org.team_other_rate[owner])
    team = np.where(c_other, (owner + rng.integers(1, n_t, n_c)) % n_t, owner)
    c_author = pick_authors(org, team, c_time, rng)
    c_other = org.person_team[c_author] != owner
    c_type = np.where(c_init, -1, rng.choice(len(COMMIT_TYPES), n_c, p=TYPE_PROBS))
    c_years = np.maximum(c_time, 0) / YEAR
    f_commit, f_path, added, deleted = _files(org, table, c_svc, c_type, c_other, c_years, rng, drift)
    touches_api = np.zeros(n_c, dtype=bool)
    touches_api[f_commit[table.kind[f_path] == KIND_API]] = True
    breaking_p = np.where(touches_api, 0.3, np.where(np.isin(c_type, [0, 3]), 0.01, 0.0))
    is_breaking = rng.random(n_c) < breaking_p
    c_breaking = np.where(is_breaking, np.where(rng.random(n_c) < 0.6, 1, 2), 0)
    order = np.lexsort((c_time, c_author))
    c_exp = np.empty(n_c, dtype=np.int64)
    sorted_author = c_author[order]
    run_start = np.concatenate([[True], sorted_author[1:] != sorted_author[:-1]])
    first_idx = np.maximum.accumulate(np.where(run_start, np.arange(n_c), 0))
    c_exp[order] = np.arange(n_c) - first_idx
    bounds = np.searchsorted(c_dep, np.arange(dep_service.size + 1))
    return History(dep_service, dep_start, bounds[:-1], bounds[1:], c_svc, c_dep, c_time, c_author, c_type,
                   c_breaking, c_exp, f_commit, f_path, added, deleted, table)
