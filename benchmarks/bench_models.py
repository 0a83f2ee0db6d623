"""Benchmark the risk models on the default simulated history and print a table.

Quality of the release model on its validation window next to the ground truth (the best any model can
do) and the baselines; training time; batch scoring throughput from a prebuilt CatBoost Pool; latency of
scoring one release end to end (change scores, release score, SHAP reasons). Run after
`releasepilot simulate`, `ingest` and `build`:

    .venv/bin/python benchmarks/bench_models.py [--warehouse data/warehouse.duckdb] [--ground-truth ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

TARGETS = {"auc_gap": 0.02, "accuracy": 0.90, "ece": 0.03, "throughput": 1_000_000}
BATCH_ROWS = 500_000
LATENCY_RUNS = 30


def _row(name: str, value: str, target: str, ok: bool | None) -> tuple[str, str, str, str]:
    return name, value, target, "" if ok is None else ("yes" if ok else "NO")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=None)
    parser.add_argument("--ground-truth", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import numpy as np
    import polars as pl
    from catboost import Pool

    from releasepilot.config import get_settings
    from releasepilot.risk.baselines import ground_truth
    from releasepilot.risk.metrics import evaluate_probabilities
    from releasepilot.risk.pipeline import GROUND_TRUTH_FILE, read_training_marts
    from releasepilot.risk.registry import LoadedModel
    from releasepilot.risk.scoring import Champions, score_releases
    from releasepilot.risk.spec import load_specs
    from releasepilot.risk.train import feature_frame, train_all

    settings = get_settings()
    warehouse = args.warehouse or settings.warehouse_path
    truth_path = args.ground_truth or settings.sim_path / GROUND_TRUTH_FILE
    changes, releases = read_training_marts(warehouse)
    specs = load_specs()

    started = time.perf_counter()
    result = train_all(changes, releases, specs, ground_truth_path=truth_path)
    train_seconds = time.perf_counter() - started
    release = result.release
    spec, valid = release.spec, release.valid
    y = valid[spec.target].cast(pl.Int8).to_numpy()
    m = release.metrics
    truth = ground_truth(valid, truth_path)
    gt = evaluate_probabilities(y, truth, spec.policy_threshold) if truth is not None else {}
    majority = release.baselines["majority"]

    pool_rows = pl.concat([valid] * (BATCH_ROWS // valid.height + 1)).head(BATCH_ROWS)
    pool = Pool(feature_frame(pool_rows, spec), cat_features=spec.categorical_features or None)
    release.model.predict(pool.slice(list(range(1000))), prediction_type="RawFormulaVal")  # warm up
    t0 = time.perf_counter()   # raw log-odds -> sigmoid -> calibrator: the same probabilities as predict_proba
    raw = release.model.predict(pool, prediction_type="RawFormulaVal", thread_count=2)
    release.calibrator.apply(1.0 / (1.0 + np.exp(-raw)))
    throughput = BATCH_ROWS / (time.perf_counter() - t0)

    def loaded(t):
        return LoadedModel(t.spec.registered_model, "bench", "-", "-", t.model, t.calibrator, t.spec)

    champions = Champions(release=loaded(release), change=loaded(result.change))
    one_id = valid["deployment_id"][-1]
    one = releases.filter(pl.col("deployment_id") == one_id)
    one_changes = changes.filter(pl.col("deployment_id") == one_id)
    score_releases(one, one_changes, champions)
    timings = []
    for _ in range(LATENCY_RUNS):
        t0 = time.perf_counter()
        score_releases(one, one_changes, champions)
        timings.append(time.perf_counter() - t0)
    latency_ms = statistics.median(timings) * 1000

    auc_gap = gt.get("roc_auc", float("nan")) - m["roc_auc"]
    rows = [
        _row("validation releases (newest 20%)", f"{valid.height} ({y.mean():.1%} failed)", "", None),
        _row("release model ROC AUC", f"{m['roc_auc']:.3f}", "", None),
        _row("ground truth ROC AUC (Bayes)", f"{gt.get('roc_auc', float('nan')):.3f}", "", None),
        _row("AUC gap to ground truth", f"{auc_gap:.3f}", f"<= {TARGETS['auc_gap']}",
             bool(auc_gap <= TARGETS["auc_gap"])),
        _row("accuracy at policy threshold", f"{m['accuracy']:.3f}", f"> {TARGETS['accuracy']} and > majority",
             bool(m["accuracy"] > TARGETS["accuracy"] and m["accuracy"] > majority["accuracy"])),
        _row("majority-class accuracy", f"{majority['accuracy']:.3f}", "", None),
        _row("ground truth accuracy at threshold", f"{gt.get('accuracy', float('nan')):.3f}", "", None),
        _row("ECE (calibration error)", f"{m['ece']:.4f}", f"< {TARGETS['ece']}", bool(m["ece"] < TARGETS["ece"])),
        _row("failures caught, riskiest 10% held", f"{m['caught_at_10pct']:.1%}", "", None),
        _row("  ground truth, 10% held", f"{gt.get('caught_at_10pct', float('nan')):.1%}", "", None),
        _row("failures caught, riskiest 20% held", f"{m['caught_at_20pct']:.1%}", "", None),
        _row("logistic regression ROC AUC", f"{release.baselines['logistic']['roc_auc']:.3f}", "", None),
        _row("service trailing rate ROC AUC", f"{release.baselines['service_rate']['roc_auc']:.3f}", "", None),
        _row("change model ROC AUC (commits)", f"{result.change.metrics['roc_auc']:.3f}", "", None),
        _row("calibration", release.calibration.reason, "", None),
        _row("training time, both models + OOT folds", f"{train_seconds:.1f} s", "", None),
        _row("batch scoring, prebuilt Pool", f"{throughput / 1e6:.2f} M releases/s",
             f"> {TARGETS['throughput'] / 1e6:.0f} M/s", bool(throughput > TARGETS["throughput"])),
        _row("one release end to end (+SHAP reasons)", f"{latency_ms:.1f} ms", "", None),
        _row("machine load average (1 min) / cores", f"{os.getloadavg()[0]:.1f} / {os.cpu_count()}", "", None),
    ]
    if args.json:
        print(json.dumps({r[0].strip(): {"value": r[1], "target": r[2], "met": r[3]} for r in rows}, indent=2))
        return
    print("| measure | value | target | met |\n|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
