"""Write a simulated history in the data-model formats (docs/data_model.md), atomically.

Everything goes to a temporary sibling folder first, which is renamed into place only when complete,
so a failed run leaves the target untouched and nothing partial behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from releasepilot.errors import InputError
from releasepilot.simulation.calendar import Clock, Freezes, Oncall, Traffic
from releasepilot.simulation.history import COMMIT_TYPES, History
from releasepilot.simulation.org import LAYER_TYPE, LAYERS, REGION_NAMES, Org
from releasepilot.simulation.outcomes import Deployments, Incidents

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"
SIM_MARKER = "deployments.csv"     # an existing folder holding this is a previous history: replaceable
SUBJECTS = {"feat": ["add", "support", "introduce", "expose"], "fix": ["fix", "handle", "guard against"],
            "chore": ["bump", "update", "clean up"], "refactor": ["simplify", "extract", "restructure"],
            "test": ["cover", "add tests for", "stabilise tests of"], "perf": ["speed up", "cache", "batch"],
            "docs": ["document", "explain", "update docs for"]}
OBJECTS = ["retry logic", "pagination", "timeouts", "validation", "rate limits", "error mapping",
           "idempotency keys", "connection pool", "feature flag", "metrics", "schema migration", "auth checks"]


def utc_strings(t: np.ndarray, epoch: int) -> pl.Series:
    return pl.from_epoch(pl.Series(np.asarray(t, dtype=np.int64) + epoch), time_unit="s").dt.strftime(ISO_UTC)


def sha_strings(n: int, rng: np.random.Generator) -> np.ndarray:
    return np.frombuffer(rng.bytes(20 * n).hex().encode(), dtype="S40").astype(str)


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces `target`, on failure it is removed."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (target / SIM_MARKER).exists())):
        raise InputError("exists and is not a simulated history folder; choose an empty or new folder",
                         source=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{os.getpid()}"
            target.rename(old)
        tmp.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_catalog(folder: Path, org: Org) -> int:
    consumers = org.consumers
    for s, name in enumerate(org.service_ids):
        layer = LAYERS[org.layer[s]]
        doc = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": name,
                "description": f"{layer.capitalize()} component of the {org.system[s]} system "
                               f"({len(consumers[s])} consumers)",
                "annotations": {
                    "releasepilot.io/tier": str(int(org.tier[s])),
                    "releasepilot.io/layer": layer,
                    "releasepilot.io/regions": ",".join(org.regions[s]),
                    "releasepilot.io/tenants": ",".join(org.tenants[s]),
                    "releasepilot.io/contract-tests": ",".join(org.service_ids[p] for p in org.contract_tests[s]),
                },
            },
            "spec": {
                "type": LAYER_TYPE[layer],
                "lifecycle": "production",
                "owner": f"group:default/{org.team_ids[org.owner[s]]}",
                "system": org.system[s],
                "dependsOn": [f"component:default/{org.service_ids[p]}" for p in org.depends_on[s]],
            },
        }
        path = folder / "catalog" / name / "catalog-info.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    groups = [{"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
               "metadata": {"name": team, "description": f"Team {team.removeprefix('team-')}"},
               "spec": {"type": "team", "children": [],
                        "members": [org.people[p] for p in np.flatnonzero(org.person_team == t)]}}
              for t, team in enumerate(org.team_ids)]
    (folder / "catalog" / "groups.yaml").write_text(yaml.safe_dump_all(groups, sort_keys=False), encoding="utf-8")
    return len(org.service_ids)


def _messages(org: Org, h: History, rng: np.random.Generator) -> pl.Series:
    n = h.c_service.size
    first_file = np.searchsorted(h.f_commit, np.arange(n))
    scope = h.paths.module_name[h.f_path[np.minimum(first_file, h.f_commit.size - 1)]]
    scope = np.where(rng.random(n) < 0.2, "", scope)
    kind = np.where(h.c_type >= 0, COMMIT_TYPES[np.maximum(h.c_type, 0)], "chore")
    verbs = np.array([SUBJECTS[k][i % len(SUBJECTS[k])] for k, i in zip(kind, rng.integers(0, 12, n))])
    subject = np.char.add(np.char.add(verbs, " "), np.array(OBJECTS)[rng.integers(0, len(OBJECTS), n)])
    frame = pl.DataFrame({"kind": kind, "scope": scope, "bang": h.c_breaking == 1,
                          "footer": h.c_breaking == 2, "subject": subject, "init": h.c_type < 0})
    header = pl.concat_str([
        pl.col("kind"),
        pl.when(pl.col("scope") != "").then(pl.concat_str([pl.lit("("), pl.col("scope"), pl.lit(")")]))
        .otherwise(pl.lit("")),
        pl.when(pl.col("bang")).then(pl.lit("!")).otherwise(pl.lit("")),
        pl.lit(": "), pl.col("subject"),
        pl.when(pl.col("footer")).then(pl.lit("\n\nBREAKING CHANGE: the public API changed; see api/"))
        .otherwise(pl.lit("")),
    ])
    return frame.select(pl.when(pl.col("init")).then(pl.lit("chore: initial commit")).otherwise(header)
                        .alias("message")).to_series()


def write_commits(folder: Path, org: Org, clock: Clock, h: History, shas: np.ndarray,
                  rng: np.random.Generator) -> int:
    team_tz = org.team_tz[org.person_team[h.c_author]]
    offset = clock.offset(h.c_time, team_tz)
    local = pl.from_epoch(pl.Series(h.c_time + offset + clock.epoch), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S")
    sign = np.where(offset < 0, "-", "+")
    hh, mm = np.abs(offset) // 3600, (np.abs(offset) % 3600) // 60
    suffix = np.char.add(np.char.add(sign, np.char.zfill(hh.astype(str), 2)),
                         np.char.add(":", np.char.zfill(mm.astype(str), 2)))
    commits = pl.DataFrame({
        "idx": np.arange(h.c_service.size),
        "sha": shas,
        "repo": np.array(org.service_ids)[h.c_service],
        "author": np.array(org.people)[h.c_author],
        "timestamp": local + pl.Series(suffix),
        "message": _messages(org, h, rng),
    })
    files = pl.DataFrame({"idx": h.f_commit, "path": h.paths.path[h.f_path], "added": h.f_added,
                          "deleted": h.f_deleted})
    nested = files.group_by("idx", maintain_order=True).agg(pl.struct("path", "added", "deleted").alias("files"))
    table = commits.join(nested, on="idx", how="left", maintain_order="left").drop("idx")
    text = table.write_ndjson()
    text = text.replace('"added":-1,"deleted":-1', '"added":"-","deleted":"-"')
    (folder / "commits.jsonl").write_text(text, encoding="utf-8")
    return table.height


def write_deployments(folder: Path, org: Org, clock: Clock, dep: Deployments, shas: np.ndarray) -> pl.Series:
    ids = pl.Series([f"dpl-{i + 1:07d}" for i in range(dep.service.size)])
    from_sha = np.where(dep.commit_from >= 0, shas[np.maximum(dep.commit_from, 0)], "")
    frame = pl.DataFrame({
        "deployment_id": ids,
        "service": np.array(org.service_ids)[dep.service],
        "version": dep.version,
        "commit_range": np.char.add(np.char.add(from_sha, ".."), shas[dep.commit_to]),
        "started_at": utc_strings(dep.start, clock.epoch),
        "finished_at": utc_strings(dep.finish, clock.epoch),
        "environment": np.where(dep.staging, "staging", "production"),
        "deployer": np.array(org.people)[dep.deployer],
        "status": dep.status,
    })
    frame.write_csv(folder / "deployments.csv")
    truth = pl.DataFrame({
        "deployment_id": ids, "p_fail": dep.p_fail.astype(np.float64), "failed": dep.failed,
        "fault_shape": dep.fault_shape, "fault_metric": dep.fault_metric,
        "fault_onset_min": dep.fault_onset.astype(np.int64), "fault_magnitude": dep.fault_magnitude,
        "fault_duration_min": dep.fault_duration.astype(np.int64),
    })
    truth.write_parquet(folder / "ground_truth.parquet", statistics=False)
    return ids


def write_incidents(folder: Path, org: Org, clock: Clock, inc: Incidents, dep_ids: pl.Series) -> int:
    ids = dep_ids.to_numpy()
    frame = pl.DataFrame({
        "incident_id": [f"INC-{i + 1:06d}" for i in range(inc.service.size)],
        "service": np.array(org.service_ids)[inc.service],
        "title": inc.title,
        "severity": inc.severity,
        "created_at": utc_strings(inc.created, clock.epoch),
        "acknowledged_at": utc_strings(inc.acknowledged, clock.epoch),
        "resolved_at": utc_strings(inc.resolved, clock.epoch),
        "deployment_id": pl.Series(np.where(inc.deployment >= 0, ids[np.maximum(inc.deployment, 0)], ""))
        .replace("", None),  # an empty field (not "") when the cause is unknown
    })
    frame.write_csv(folder / "incidents.csv")
    return frame.height


def write_calendar(folder: Path, org: Org, clock: Clock, oncall: Oncall, traffic: Traffic, frz: Freezes) -> dict:
    order = np.lexsort((oncall.starts, oncall.team))
    pl.DataFrame({
        "team": np.array(org.team_ids)[oncall.team[order]],
        "user": np.array(org.people)[oncall.person[order]],
        "starts_at": utc_strings(oncall.starts[order], clock.epoch),
        "ends_at": utc_strings(oncall.ends[order], clock.epoch),
    }).write_csv(folder / "oncall.csv")
    n_series, hours = traffic.requests.shape
    hour_str = utc_strings(np.arange(hours, dtype=np.int64) * 3600, clock.epoch)
    pl.DataFrame({
        "hour": hour_str.gather(np.repeat(np.arange(hours), n_series)),
        "service": np.array(org.service_ids)[np.tile(traffic.service, hours)],
        "region": np.array(REGION_NAMES)[np.tile(traffic.region, hours)],
        "requests": traffic.requests.T.reshape(-1),
    }).write_csv(folder / "traffic.csv")
    pl.DataFrame({
        "freeze_id": [f"FRZ-{i + 1:03d}" for i in range(len(frz.name))],
        "name": frz.name,
        "starts_at": utc_strings(frz.starts, clock.epoch),
        "ends_at": utc_strings(frz.ends, clock.epoch),
        "scope": frz.scope,
        "reason": frz.reason,
    }, schema={"freeze_id": pl.String, "name": pl.String, "starts_at": pl.String, "ends_at": pl.String,
               "scope": pl.String, "reason": pl.String}).write_csv(folder / "freezes.csv")
    return {"oncall.csv": int(oncall.team.size), "traffic.csv": int(n_series * hours),
            "freezes.csv": len(frz.name)}

