"""`releasepilot schedule`: plan every train of the coming week, then place all releases with CP-SAT.

Each train is planned with `build_plan` (windows scored per release against the shared history); the
allowed windows of every release become its options in `schedule.schedule_releases`, with a release of a
consumer placed after the releases of the providers it depends on (across trains, through the catalog
graph), team capacity and the separation of high-risk releases with overlapping blast radius. Release ids
are `train/service`. The result compares the schedule's expected impact with the requested windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from releasepilot.errors import InputError
from releasepilot.planning.assemble import Plan, Scorer, build_plan
from releasepilot.planning.schedule import ScheduleResult, from_ranking, schedule_releases
from releasepilot.policy import Policy
from releasepilot.train import Train, load_train

TRAIN_SUFFIXES = (".yaml", ".yml", ".json")


def train_files(paths: Sequence[Path | str]) -> list[Path]:
    """Train files from files and folders (a folder gives its *.yaml, *.yml and *.json files)."""
    out: list[Path] = []
    for item in map(Path, paths):
        if item.is_dir():
            out += sorted(p for p in item.iterdir() if p.suffix.lower() in TRAIN_SUFFIXES)
        elif item.exists():
            out.append(item)
        else:
            raise InputError("file or folder not found", source=str(item))
    if not out:
        raise InputError("no train files (*.yaml, *.yml, *.json) found", source=", ".join(map(str, paths)))
    return out


@dataclass
class Portfolio:
    plans: list[Plan]
    result: ScheduleResult

    def as_dict(self) -> dict[str, Any]:
        return {"trains": [p.train for p in self.plans], "schedule": self.result.as_dict(),
                "risk": sorted({p.risk_note for p in self.plans})}


def schedule_trains(trains: Sequence[Train], warehouse: Path | str, policy: Policy | None = None,
                    now: datetime | None = None, scorer: Any = None) -> Portfolio:
    """Plan each train and schedule all their releases together."""
    policy = policy or Policy()
    names = [t.name for t in trains]
    if len(set(names)) != len(names):
        raise InputError(f"two trains share a name: {sorted(n for n in set(names) if names.count(n) > 1)}",
                         field="name")
    plans = [build_plan(t, warehouse, policy, now=now, scorer=scorer) for t in trains]
    return Portfolio(plans, schedule_plans(plans, policy))


def schedule_plans(plans: Sequence[Plan], policy: Policy) -> ScheduleResult:
    """CP-SAT over the plans' window rankings (providers before consumers, across trains)."""
    ids = {(p.train, r.service): f"{p.train}/{r.service}" for p in plans for r in p.releases}
    by_service: dict[str, list[str]] = {}
    for (train, service), rid in ids.items():
        by_service.setdefault(service, []).append(rid)
    releases = []
    for p in plans:
        for r in p.releases:
            rid = ids[(p.train, r.service)]
            risk = r.planning_risk
            providers = set(r.providers) & by_service.keys()
            after = tuple(sorted(o for s in providers for o in by_service[s] if o != rid))
            ranking = _renamed(r.windows, rid)
            releases.append(from_ranking(ranking, team=r.team or "unowned", risk=risk,
                                         blast_radius=frozenset({r.service, *r.blast.transitive}), after=after))
    return schedule_releases(releases, policy.schedule)


def _renamed(ranking: Any, release_id: str) -> Any:
    from dataclasses import replace

    return replace(ranking, release_id=release_id)


def load_trains(paths: Sequence[Path | str]) -> list[Train]:
    return [load_train(p) for p in train_files(paths)]


__all__ = ["Portfolio", "Scorer", "load_trains", "schedule_plans", "schedule_trains", "train_files"]
