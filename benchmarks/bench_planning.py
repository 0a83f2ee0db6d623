"""Benchmark the planning decisions on synthetic catalogs of growing size.

For each size (services, releases) it builds a layered dependency graph, one week of hourly traffic,
on-call and a freeze, then times: the calendar build, the plan (blast radius, window scoring over 168
hourly candidates, deploy waves, rollout steps), the full plan assembly (`planning.assemble._assemble`:
all of the above plus conflicts, readiness, GO/NO-GO decisions and release notes, from facts in memory:
reading the warehouse is measured on a real simulated history with `--warehouse`) and the CP-SAT
portfolio schedule over 168 windows.
Prints median seconds over the repeats and peak Python memory (tracemalloc, one extra run; OR-Tools'
C++ memory is not included, see the process max RSS at the end).

    .venv/bin/python benchmarks/bench_planning.py [--sizes 250x40,2000x300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import networkx as nx
import numpy as np

from releasepilot.planning.calendar import HourlyCalendar, hourly_candidates
from releasepilot.planning.ordering import OrderingPolicy, OrderRelease, plan_waves
from releasepilot.planning.rollout_plan import RolloutRelease, plan_rollout
from releasepilot.planning.schedule import SchedulePolicy, from_ranking, schedule_releases
from releasepilot.planning.windows import WindowPolicy, WindowRelease, score_windows

DEFAULT_SIZES = "250x40,500x75,1000x150,2000x300"
START = datetime(2025, 3, 3, tzinfo=UTC)
LAYERS = 5
REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")


def synthetic_org(services: int, releases: int, seed: int = 7) -> dict[str, Any]:
    """A layered DAG (consumer -> provider), teams, traffic, on-call, one freeze and a release train."""
    rng = random.Random(seed)
    names = [f"svc-{i:04d}" for i in range(services)]
    layer = {s: min(LAYERS - 1, i * LAYERS // services) for i, s in enumerate(names)}
    by_layer: dict[int, list[str]] = {}
    for s in names:
        by_layer.setdefault(layer[s], []).append(s)
    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    for s in names:
        lower = [p for lv in range(layer[s] + 1, LAYERS) for p in by_layer.get(lv, [])]
        for p in rng.sample(lower, min(len(lower), rng.randint(1, 3))):
            graph.add_edge(s, p)
    teams = [f"team-{i:03d}" for i in range(max(8, services // 25))]
    owner = {s: rng.choice(teams) for s in names}
    system = {s: f"sys-{zlib.crc32(owner[s].encode()) % 10}" for s in names}   # stable across processes
    traffic = []
    for s in names:
        base = rng.uniform(50, 5000)
        for h in range(168):
            ts = START + timedelta(hours=h)
            diurnal = 0.2 + 0.8 * np.sin(np.pi * ts.hour / 24) ** 2
            traffic.append({"hour": ts, "service": s, "region": REGIONS[h % 3], "requests": base * diurnal})
    oncall = []
    for t in teams:   # covered all week except a 4-hour gap on a random day
        gap = START + timedelta(days=rng.randint(0, 6), hours=rng.randint(0, 20))
        oncall += [{"team": t, "starts_at": START - timedelta(days=1), "ends_at": gap},
                   {"team": t, "starts_at": gap + timedelta(hours=4), "ends_at": START + timedelta(days=8)}]
    freezes = [{"freeze_id": "f1", "name": "quarter close", "starts_at": START + timedelta(days=4),
                "ends_at": START + timedelta(days=5), "scope": "sys-1"}]
    train = rng.sample(names, releases)
    return {"graph": graph, "owner": owner, "system": system, "traffic": traffic, "oncall": oncall,
            "freezes": freezes, "train": train, "rng": rng}


def numpy_scorer(rows: list[dict[str, Any]]) -> np.ndarray:
    """A monotone logistic stand-in for the risk model, vectorised."""
    pct = np.fromiter((r["traffic_percentile"] for r in rows), float, len(rows))
    hour = np.fromiter((r["deploy_hour"] for r in rows), float, len(rows))
    conc = np.fromiter((r["concurrent_dependent"] for r in rows), float, len(rows))
    base = np.fromiter((r["base_logit"] for r in rows), float, len(rows))
    return 1.0 / (1.0 + np.exp(-(base + 1.5 * pct + 0.01 * hour + 0.7 * conc)))


def plan(org: dict[str, Any], calendar: HourlyCalendar) -> dict[str, Any]:
    """Blast radius, window rankings, waves and rollout steps for the whole train."""
    graph, owner, train = org["graph"], org["owner"], org["train"]
    rng = random.Random(1)
    in_train = set(train)
    risk = {s: rng.betavariate(1.5, 8) for s in train}
    releases, order_items, rollouts = [], [], []
    for i, s in enumerate(train):
        dependents = nx.ancestors(graph, s)
        related = (dependents | nx.descendants(graph, s)) & in_train
        teams = tuple(sorted({owner[s]} | {owner[c] for c in list(graph.predecessors(s))[:2]}))
        requested = START + timedelta(days=rng.randint(0, 4), hours=rng.choice([10, 14, 20]))
        logit = float(np.log(risk[s] / (1 - risk[s])))
        releases.append(WindowRelease(release_id=f"rel-{i}", service=s, tier=1 + i % 3,
                                      blast_radius=len(dependents), system=org["system"][s], teams=teams,
                                      related_services=frozenset(related), features={"base_logit": logit},
                                      requested_window=requested))
        order_items.append(OrderRelease(f"rel-{i}", s, risk[s]))
        rollouts.append(RolloutRelease(f"rel-{i}", s, risk[s], blast_radius=len(dependents),
                                       regions=REGIONS, region_traffic=calendar.region_traffic(s)))
    candidates = hourly_candidates(START, 7)
    rankings = score_windows(releases, candidates, calendar, numpy_scorer, WindowPolicy(allowed_weekdays=tuple(range(7))))
    waves = plan_waves(order_items, graph, OrderingPolicy(max_parallel=10))
    steps = [plan_rollout(r) for r in rollouts]
    return {"rankings": rankings, "waves": waves, "steps": steps, "releases": releases, "risk": risk}


def full_plan_inputs(org: dict[str, Any], calendar: HourlyCalendar) -> dict[str, Any]:
    """The facts `_assemble` takes, as build_plan would gather them from a warehouse."""
    from releasepilot.planning.gather import History
    from releasepilot.planning.risk_source import custom_risk
    from releasepilot.planning.types import ReleaseRisk
    from releasepilot.train import parse_train

    rng = random.Random(2)
    graph = org["graph"].copy()
    for i, s in enumerate(graph.nodes):
        graph.nodes[s].update(tier=1 + i % 3, owner=org["owner"][s], system=org["system"][s], layer=None,
                              type="service", contract_tests=frozenset(), external=False)
    commits, releases, risks, rows = {}, [], {}, {}
    for i, s in enumerate(org["train"]):
        module = f"src/m{rng.randint(0, 3)}"
        commits[s] = [{"sha": f"{i:06x}{j:02x}", "author": f"dev{rng.randint(0, 400)}",
                       "message": rng.choice(["feat(x): add a", "fix: b", "chore: c", "feat!: d"]),
                       "files": [f"{module}/f{j}.py", "api/openapi.yaml" if j == 0 and i % 10 == 0 else "tests/t.py"]}
                      for j in range(3)]
        requested = START + timedelta(days=rng.randint(0, 4), hours=rng.choice([10, 14, 20]))
        releases.append({"service": s, "version": "2.0.0", "commits": [c["sha"] for c in commits[s]],
                         "ci_status": rng.choice(["passed"] * 8 + ["failed", "running"]), "approvals": ["bob"],
                         **({"window": {"start": requested, "end": requested + timedelta(hours=1)}} if i % 2 else {})})
        p = rng.betavariate(1.5, 8)
        risks[s] = ReleaseRisk(s, p)
        rows[s] = {"base_logit": float(np.log(p / (1 - p)))}
    history = History(graph=graph, author_team={f"dev{i}": org["owner"][org["train"][i % len(org["train"])]]
                                                for i in range(401)},
                      previous={s: {"version": "1.0.0"} for s in org["train"]}, calendar=calendar,
                      services={s: {"regions": list(REGIONS), "tenants": []} for s in graph.nodes},
                      requests={s: 1.0 + i for i, s in enumerate(graph.nodes)},
                      budget_left={s: 1.0 for s in graph.nodes})
    from releasepilot.policy import Policy

    policy = Policy(windows=WindowPolicy(allowed_weekdays=tuple(range(7))))
    return {"train": parse_train({"name": "bench", "releases": releases}), "history": history, "risks": risks,
            "rows": rows, "commits": commits, "policy": policy, "risk_source": custom_risk(numpy_scorer)}


def full_plan(inputs: dict[str, Any]):
    """Every planning decision for the train: what `build_plan` does after reading the warehouse."""
    from releasepilot.planning.assemble import _assemble

    return _assemble(inputs["train"], inputs["policy"], inputs["history"], START, "benchmark",
                     inputs["risk_source"], inputs["risks"], inputs["rows"], inputs["commits"], None)


def warehouse_plan(warehouse: str, repeats: int) -> str:
    """build_plan end to end on a real warehouse (gather + pending features + assembly) for a generated train."""
    from releasepilot.planning.assemble import build_plan
    from releasepilot.planning.from_git import generate_train

    train = generate_train(warehouse, teams=8, seed=7)
    seconds, plan_ = timed(lambda: build_plan(train, warehouse, scorer=lambda rows: [0.1] * len(rows)), repeats)
    return f"build_plan on {warehouse}: {len(plan_.releases)} releases in {seconds:.2f} s (median of {repeats})"


def schedule(org: dict[str, Any], planned: dict[str, Any], limit: float):
    graph, owner = org["graph"], org["owner"]
    releases = planned["releases"]
    service_of = {r.release_id: r.service for r in releases}
    after = {rid: [] for rid in service_of}
    for before, later, _ in planned["waves"].constraints:
        after[later].append(before)
    items = [from_ranking(planned["rankings"][r.release_id], team=owner[r.service], risk=planned["risk"][r.service],
                          blast_radius=frozenset(nx.ancestors(graph, r.service)) | {r.service},
                          after=after[r.release_id]) for r in releases]
    return schedule_releases(items, SchedulePolicy(time_limit_seconds=limit, team_capacity_per_window=1))


def timed(fn, repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times), out


def peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="services x releases, comma separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--schedule-repeats", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=30.0, help="CP-SAT time limit (s)")
    parser.add_argument("--warehouse", default=None, help="Also time build_plan on this built warehouse.")
    args = parser.parse_args(argv)
    header = (f"{'services':>8} {'releases':>8} {'edges':>6} | {'calendar s':>10} {'plan s':>7} {'plan MB':>7} | "
              f"{'full s':>6} {'full MB':>7} {'verdict':>18} | "
              f"{'schedule s':>10} {'sched MB':>8} {'status':>8} {'impact':>8} {'requested':>9} {'unsched':>7}")
    print(header)
    print("-" * len(header))
    for size in args.sizes.split(","):
        services, releases = (int(v) for v in size.lower().split("x"))
        org = synthetic_org(services, releases)
        cal_s, calendar = timed(lambda: HourlyCalendar.from_rows(org["traffic"], org["freezes"], org["oncall"]), 1)
        plan_s, planned = timed(lambda: plan(org, calendar), args.repeats)
        plan_mb = peak_mb(lambda: plan(org, calendar))
        inputs = full_plan_inputs(org, calendar)
        full_s, full = timed(lambda inputs=inputs: full_plan(inputs), args.repeats)
        full_mb = peak_mb(lambda inputs=inputs: full_plan(inputs))
        sched_s, result = timed(lambda: schedule(org, planned, args.time_limit), args.schedule_repeats)
        sched_mb = peak_mb(lambda: schedule(org, planned, args.time_limit))
        print(f"{services:>8} {releases:>8} {org['graph'].number_of_edges():>6} | {cal_s:>10.2f} {plan_s:>7.2f} "
              f"{plan_mb:>7.1f} | {full_s:>6.2f} {full_mb:>7.1f} {full.decision.decision.value:>18} | {sched_s:>10.2f} {sched_mb:>8.1f} {result.status:>8} "
              f"{result.expected_impact:>8.2f} {result.requested_impact:>9.2f} {len(result.unscheduled):>7}",
              flush=True)
    if args.warehouse:
        print(warehouse_plan(args.warehouse, args.repeats))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS {rss:.0f} MB; targets: plan 2000x300 < 2 s, schedule 300 x 168 < 30 s", file=sys.stdout)


if __name__ == "__main__":
    main()
