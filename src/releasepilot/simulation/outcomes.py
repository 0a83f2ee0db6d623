"""What happened after each deployment: status, staging rehearsals, versions, incidents and faults.

A failed production release is `rolled_back` or `failed` (most) or `succeeded` and then followed by an
incident linked to it, so the label needs deployments and incidents together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from releasepilot.simulation.calendar import DAY
from releasepilot.simulation.history import COMMIT_TYPES, History, pick_authors
from releasepilot.simulation.org import Org

STAGING_SHARE = 0.22               # production releases rehearsed on staging first
FAILED_STATUS_PROBS = {"rolled_back": 0.55, "failed": 0.2, "succeeded": 0.25}
INCIDENT_FOR_ROLLBACK = 0.45       # rolled back / failed releases that also open an incident
INCIDENT_LINKED = 0.85             # of those, the share linked to the deployment
BACKGROUND_INCIDENTS_PER_DAY = 0.02  # per service, not caused by a deployment
SURGE_SHARE = 0.08                 # healthy releases that see a benign traffic surge
FAULT_SHAPES = np.array(["step", "ramp", "spike", "leak"])
FAULT_METRICS = np.array(["error_rate", "latency_p99", "saturation"])
SEVERITIES = np.array(["SEV1", "SEV2", "SEV3", "SEV4"])
TITLES = {"error_rate": "Elevated error rate on {s}", "latency_p99": "High p99 latency on {s}",
          "saturation": "{s} saturated (CPU/connections)"}
BACKGROUND_TITLES = ["{s}: upstream provider degraded", "{s}: certificate expiry", "{s}: disk pressure",
                     "{s}: noisy neighbour", "{s}: elevated 5xx from load balancer", "{s}: DNS resolution errors"]


@dataclass
class Deployments:
    """Production and staging rows, sorted by start time (their position is the deployment id)."""

    service: np.ndarray
    start: np.ndarray
    finish: np.ndarray
    staging: np.ndarray
    status: np.ndarray           # str
    deployer: np.ndarray
    version: list[str]
    commit_from: np.ndarray      # commit index, -1 = empty (first release)
    commit_to: np.ndarray
    prod_index: np.ndarray       # index into the production arrays (History order)
    p_fail: np.ndarray
    failed: np.ndarray
    fault_shape: np.ndarray
    fault_metric: np.ndarray
    fault_onset: np.ndarray
    fault_magnitude: np.ndarray
    fault_duration: np.ndarray


@dataclass
class Incidents:
    service: np.ndarray
    title: list[str]
    severity: np.ndarray
    created: np.ndarray
    acknowledged: np.ndarray
    resolved: np.ndarray
    deployment: np.ndarray       # row in Deployments, -1 = unknown cause


def versions(org: Org, h: History) -> list[str]:
    """Semantic versions per production release: major on breaking, minor on feat, else patch."""
    n = h.dep_service.size
    breaking = np.bincount(h.c_deploy, weights=(h.c_breaking > 0).astype(float), minlength=n) > 0
    feat = np.bincount(h.c_deploy, weights=(h.c_type == list(COMMIT_TYPES).index("feat")).astype(float),
                       minlength=n) > 0
    current: dict[int, list[int]] = {}
    out = []
    for i in range(n):
        s = int(h.dep_service[i])
        if s not in current:
            current[s] = [0, 1, 0] if org.created[s] > 0 else [1 + s % 3, s % 7, 0]
        else:
            v = current[s]
            current[s] = [v[0] + 1, 0, 0] if breaking[i] else [v[0], v[1] + 1, 0] if feat[i] else \
                [v[0], v[1], v[2] + 1]
        out.append("{}.{}.{}".format(*current[s]))
    return out


def _faults(failed: np.ndarray, status: np.ndarray, rng: np.random.Generator):
    n = failed.size
    shape = np.where(failed, FAULT_SHAPES[rng.choice(4, n, p=[0.35, 0.25, 0.2, 0.2])], "none").astype(object)
    metric = np.where(failed, FAULT_METRICS[rng.choice(3, n, p=[0.45, 0.35, 0.2])], "none").astype(object)
    onset = np.clip(np.round(rng.gamma(2.0, 6.0, n)), 1, 120).astype(np.int64)
    magnitude = np.round(0.3 + rng.lognormal(0.0, 0.6, n), 3)
    duration = np.where(status == "succeeded", rng.integers(60, 720, n),
                        np.where(status == "rolled_back", rng.integers(10, 60, n), rng.integers(5, 40, n)))
    surge = ~failed & (rng.random(n) < SURGE_SHARE)
    shape[surge], metric[surge] = "surge", "saturation"
    magnitude = np.where(surge, np.round(rng.uniform(0.2, 0.8, n), 3), magnitude)
    duration = np.where(surge, rng.integers(15, 120, n), duration)
    onset = np.where(surge, rng.integers(5, 120, n), onset)
    none = ~failed & ~surge
    onset[none], duration[none] = 0, 0
    magnitude = np.where(none, np.round(rng.uniform(0.01, 0.05, n), 3), magnitude)
    return shape.astype(str), metric.astype(str), onset, magnitude, duration.astype(np.int64)


def deployments(org: Org, h: History, p_prod: np.ndarray, rng: np.random.Generator) -> Deployments:
    """Add staging rehearsals, draw outcomes (the Bernoulli draw on p_fail) and fault shapes."""
    n = h.dep_service.size
    last_commit = h.c_time[h.dep_commit_hi - 1]
    stage_start = h.dep_start - rng.integers(3600, 6 * 3600, n)
    stage = (rng.random(n) < STAGING_SHARE) & (stage_start > last_commit + 300) & (stage_start > 0)
    prod_index = np.concatenate([np.arange(n), np.flatnonzero(stage)])
    staging = np.concatenate([np.zeros(n, bool), np.ones(stage.sum(), bool)])
    start = np.concatenate([h.dep_start, stage_start[stage]])
    order = np.lexsort((staging, start))
    prod_index, staging, start = prod_index[order], staging[order], start[order]
    m = start.size
    service = h.dep_service[prod_index]
    z = np.log(p_prod[prod_index] / (1 - p_prod[prod_index]))
    p_fail = np.where(staging, 1 / (1 + np.exp(-(z - 0.7))), p_prod[prod_index])
    failed = rng.random(m) < p_fail
    labels = np.array(list(FAILED_STATUS_PROBS))
    status = np.where(failed, labels[rng.choice(3, m, p=list(FAILED_STATUS_PROBS.values()))], "succeeded")
    status = np.where(staging & failed, "failed", status)
    shape, metric, onset, magnitude, duration = _faults(failed, status, rng)
    base = rng.lognormal(np.log(600), 0.4, m).astype(np.int64)
    finish = start + np.where(status == "rolled_back", onset * 60 + rng.integers(300, 1800, m),
                              np.where(status == "failed", rng.integers(120, 900, m), base))
    deployer = pick_authors(org, org.owner[service], start, rng)
    prod_versions = versions(org, h)
    version = [prod_versions[i] + ("-rc.1" if st else "") for i, st in zip(prod_index, staging)]
    prev_to = np.full(n, -1)
    same = np.ones(n, dtype=bool)
    same[0] = False
    same[1:] = h.dep_service[1:] == h.dep_service[:-1]
    prev_to[1:] = h.dep_commit_hi[:-1] - 1
    prev_to[~same] = -1
    return Deployments(service, start, finish, staging, status, deployer, version,
                       prev_to[prod_index], h.dep_commit_hi[prod_index] - 1, prod_index, p_fail, failed,
                       shape, metric, onset, magnitude, duration)


def _severity(tier: np.ndarray, rng: np.random.Generator, background: bool) -> np.ndarray:
    shift = np.clip(tier - 1 + (1 if background else 0), 0, 2)
    u = rng.random(tier.size)
    base = np.array([[0.12, 0.45, 0.8], [0.05, 0.3, 0.7], [0.02, 0.15, 0.55]])[shift]
    return SEVERITIES[(u[:, None] > base).sum(axis=1)]


def incidents(org: Org, dep: Deployments, days: int, rng: np.random.Generator) -> Incidents:
    """Incidents caused by failed production releases plus background incidents with no known cause."""
    prod_failed = dep.failed & ~dep.staging
    opens = prod_failed & ((dep.status == "succeeded") | (rng.random(dep.failed.size) < INCIDENT_FOR_ROLLBACK))
    rows = np.flatnonzero(opens)
    linked = (dep.status[rows] == "succeeded") | (rng.random(rows.size) < INCIDENT_LINKED)
    created = dep.start[rows] + dep.fault_onset[rows] * 60 + rng.integers(120, 900, rows.size)
    svc = dep.service[rows]
    titles = [TITLES[metric].format(s=org.service_ids[s]) for metric, s in zip(dep.fault_metric[rows], svc)]
    severity = _severity(org.tier[svc], rng, background=False)
    n_bg = rng.poisson(BACKGROUND_INCIDENTS_PER_DAY * days * len(org.service_ids))
    bg_svc = rng.integers(0, len(org.service_ids), n_bg)
    bg_created = rng.integers(0, days * DAY, n_bg)
    bg_titles = [BACKGROUND_TITLES[k].format(s=org.service_ids[s])
                 for k, s in zip(rng.integers(0, len(BACKGROUND_TITLES), n_bg), bg_svc)]
    service = np.concatenate([svc, bg_svc])
    created = np.concatenate([created, bg_created]).astype(np.int64)
    deployment = np.concatenate([np.where(linked, rows, -1), np.full(n_bg, -1)])
    severity = np.concatenate([severity, _severity(org.tier[bg_svc], rng, background=True)])
    title = titles + bg_titles
    ack = created + rng.lognormal(np.log(420), 0.7, created.size).astype(np.int64) + 30
    resolved = ack + rng.lognormal(np.log(5400), 0.9, created.size).astype(np.int64) + 300
    order = np.lexsort((service, created))
    return Incidents(service[order], [title[i] for i in order], severity[order], created[order], ack[order],
                     resolved[order], deployment[order])
