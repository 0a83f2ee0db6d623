"""Benchmark: simulate, ingest and build (dbt) at --scale 1 and --scale 10.

Each stage runs as its own process (as a user runs it: `releasepilot simulate|ingest|build --json`), timed
by wall clock, with the peak resident memory of that process from wait4. Prints a table of medians and
the scale-10 / scale-1 ratio per stage (10x the release volume: a ratio at or under 10 is linear or better).

    .venv/bin/python benchmarks/bench_history.py [--scales 1 10] [--repeats 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CLI = [sys.executable, "-m", "releasepilot"]
STAGES = ("simulate", "ingest", "build")


def measured(args: list[str], env: dict[str, str]) -> tuple[float, float, dict]:
    """Run a stage under a tiny wrapper that reports the child's own peak RSS (ru_maxrss of wait4)."""
    wrapper = (
        "import json, os, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)\n"
        "out = p.stdout.read()\n"
        "_, status, usage = os.wait4(p.pid, 0)\n"
        "code = os.waitstatus_to_exitcode(status)\n"
        "print(json.dumps({'code': code, 'seconds': time.perf_counter() - t, "
        "'rss_mb': usage.ru_maxrss / 1024, 'out': out}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", wrapper, *CLI, *args, "--json"], capture_output=True, text=True, check=False,
                          env=env)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark wrapper failed:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout)
    if result["code"] != 0:
        raise SystemExit(f"releasepilot {' '.join(args)} exited {result['code']}:\n{proc.stderr[-2000:]}")
    return result["seconds"], result["rss_mb"], json.loads(result["out"])


def one_round(scale: float, seed: int, workdir: Path) -> dict[str, tuple[float, float, dict]]:
    sim, warehouse = workdir / "sim", workdir / "warehouse.duckdb"
    shutil.rmtree(sim, ignore_errors=True)
    for suffix in ("", ".wal"):
        Path(str(warehouse) + suffix).unlink(missing_ok=True)
    env = {**os.environ, "RELEASEPILOT_WAREHOUSE": str(warehouse)}
    return {
        "simulate": measured(["simulate", "--out", str(sim), "--scale", str(scale), "--seed", str(seed)], env),
        "ingest": measured(["ingest", "--source", str(sim), "--warehouse", str(warehouse)], env),
        "build": measured(["build", "--warehouse", str(warehouse)], env),
    }


def rows_of(stage: str, document: dict) -> str:
    if stage == "simulate":
        return f"{document['production_deployments']:,} deployments"
    if stage == "ingest":
        return f"{sum(t['rows_inserted'] for t in document['tables']):,} rows"
    return f"{document['models']} models, {document['tests'] + document['unit_tests']} tests"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--repeats", type=int, default=3, help="rounds at scale 1 (larger scales: 1 round)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    results: dict[float, dict[str, list[tuple[float, float, dict]]]] = {}
    with tempfile.TemporaryDirectory(prefix="rp-bench-") as tmp:
        for scale in args.scales:
            rounds = args.repeats if scale <= 1 else 1
            per_stage: dict[str, list] = {s: [] for s in STAGES}
            for i in range(rounds):
                print(f"scale {scale:g}: round {i + 1}/{rounds}", file=sys.stderr, flush=True)
                for stage, value in one_round(scale, args.seed, Path(tmp)).items():
                    per_stage[stage].append(value)
            results[scale] = per_stage

    base = results.get(min(args.scales))
    print(f"\n{'scale':>5} {'stage':<9} {'median s':>9} {'peak MB':>8} {'x scale-1':>9}  rows")
    for scale, per_stage in results.items():
        for stage in STAGES:
            runs = per_stage[stage]
            seconds = statistics.median(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            ratio = seconds / statistics.median(r[0] for r in base[stage]) if base else float("nan")
            print(f"{scale:>5g} {stage:<9} {seconds:>9.1f} {peak:>8.0f} {ratio:>9.1f}  {rows_of(stage, runs[0][2])}")
        total = sum(statistics.median(r[0] for r in per_stage[s]) for s in ("ingest", "build"))
        print(f"{scale:>5g} {'ingest+build':<9} {total:>6.1f}")


if __name__ == "__main__":
    main()
