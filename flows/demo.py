"""The demo journey, run by `make demo`: every stage of ReleasePilot on a simulated organisation.

A Prefect flow whose subflows are the same flows the deployments run (ingest, build, train, plan,
release), so the journey also shows up in the Prefect UI. Prefect runs without a separate server here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from prefect import flow, task

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_features import build_features  # noqa: E402
from ingest_history import ingest_history  # noqa: E402
from plan_release import plan_release  # noqa: E402
from run_release import run_release  # noqa: E402
from train_models import train_models  # noqa: E402

DEMO_FAULT = "step:error_rate:6:8"        # an error-rate step 6x normal, 8 minutes into the first step


@task
def simulate_history(out: Path, seed: int) -> dict:
    """Generate the default organisation (40 services, 8 teams, two years) unless it is already there."""
    from releasepilot.simulation import SimulationConfig, simulate

    if (out / "deployments.csv").exists():
        return {"out_dir": str(out), "reused": True}
    return simulate(SimulationConfig(seed=seed), out).as_dict()


@flow(name="demo_journey")
def demo_journey(seed: int = 7) -> dict:
    """simulate -> ingest -> build -> train -> plan -> release (one injected fault, caught and rolled back)."""
    from releasepilot.config import get_settings

    settings = get_settings()
    warehouse = str(settings.warehouse_path)
    summary: dict = {"simulate": simulate_history(settings.sim_path, seed)}
    summary["ingest"] = ingest_history(source_dir=str(settings.sim_path), warehouse=warehouse)
    summary["build"] = build_features(warehouse=warehouse)
    summary["train"] = train_models(warehouse=warehouse)
    summary["plan"] = plan_release(train_file=str(generated_train(settings.warehouse_path, seed)),
                                   warehouse=warehouse)
    faulty = choose_faulty_release(summary["plan"]["plan_id"], warehouse)
    summary["fault"] = {"service": faulty, "spec": DEMO_FAULT}
    summary["release"] = run_release(plan_id=summary["plan"]["plan_id"], warehouse=warehouse,
                                     faults={faulty: DEMO_FAULT} if faulty else None, approval_timeout=60)
    return summary


@task
def choose_faulty_release(plan_id: str, warehouse: str) -> str | None:
    """The first release the plan lets ship, so the demo shows a fault caught during a real rollout."""
    from pathlib import Path

    from releasepilot.rollout.execution_plan import load_execution_plan
    from releasepilot.rollout.runner import held_by_decision

    held = held_by_decision(Path(warehouse), plan_id)
    shipping = [r.service for r in load_execution_plan(Path(warehouse), plan_id).releases if r.release_id not in held]
    return shipping[0] if shipping else None


@task
def generated_train(warehouse: Path, seed: int) -> Path:
    """A train of releases from 8 teams replaying the history's latest releases (data/trains/generated.yaml)."""
    from releasepilot.config import get_settings
    from releasepilot.planning.from_git import generate_train, write_train

    return write_train(generate_train(warehouse, teams=8, seed=seed),
                       get_settings().home / "data" / "trains" / "generated.yaml")


def print_summary(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    sim = summary["simulate"]
    if sim.get("reused"):
        console.print(f"[bold]History[/]: reused {sim['out_dir']}")
    else:
        console.print(f"[bold]History[/]: {sim['production_deployments']} production deployments, "
                      f"failure rate {sim['failure_rate']:.1%}, ground-truth AUC {sim['bayes_auc']:.3f} "
                      f"in {sim['seconds']:.1f} s -> {sim['out_dir']}")
    table = Table(title="Ingested (raw.*)")
    for column in ("table", "read", "inserted", "rejected"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for row in summary["ingest"]["tables"]:
        table.add_row(row["table_name"], str(row["rows_read"]), str(row["rows_inserted"]), str(row["rows_rejected"]))
    console.print(table)
    build = summary["build"]
    models = [n for n in build["nodes"] if n["kind"] == "model"]
    table = Table(title=f"dbt build: {build['models']} models, {build['tests']} data tests, "
                        f"{build['unit_tests']} unit tests ({build['seconds']:.1f} s)")
    for column in ("model", "status", "rows"):
        table.add_column(column)
    for node in models:
        table.add_row(node["name"], node["status"], "" if node["rows"] is None else str(node["rows"]))
    console.print(table)


def print_plan(summary: dict) -> None:
    """The stored plan of the generated train (app.plans), one row per release."""
    import json

    from rich.console import Console
    from rich.table import Table

    from releasepilot.config import get_settings
    from releasepilot.warehouse import connect

    plan = summary.get("plan")
    if not plan:
        return
    with connect(get_settings().warehouse_path, read_only=True) as con:
        row = con.execute("select plan_json from app.plans where plan_id = ?", [plan["plan_id"]]).fetchall()
    document = json.loads(row[0][0])
    table = Table(title=f"Plan {plan['plan_id']} for {plan['train']}: {plan['decision']} ({document['risk']['note']})")
    for column in ("service", "version", "decision", "p(fail)", "blast radius", "window", "conditions"):
        table.add_column(column)
    for r in document["releases"]:
        p = r["decision"]["failure_probability"]
        table.add_row(r["service"], r["version"], r["decision"]["decision"], "n/a" if p is None else f"{p:.1%}",
                      str(r["blast_radius"]["size"]), (r["window"] or {}).get("start", "-"),
                      str(len(r["decision"]["conditions"])))
    Console().print(table)


def print_models(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Risk models (validation window, newest 20%)")
    for column in ("model", "version", "ROC AUC", "ground truth AUC", "ECE", "caught @10%", "decision"):
        table.add_column(column)
    for m in summary["train"]["models"]:
        truth = m["baselines"].get("ground_truth", {}).get("roc_auc")
        table.add_row(m["model"], str(m["version"]), f"{m['metrics']['roc_auc']:.3f}",
                      "-" if truth is None else f"{truth:.3f}", f"{m['metrics']['ece']:.3f}",
                      f"{m['metrics']['caught_at_10pct']:.1%}",
                      "champion" if m["promoted"] else "challenger")
    Console().print(table)


def print_release(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    release = summary["release"]
    fault = summary["fault"]
    table = Table(title=f"Release run of {release['plan_id']}: {release['status']} "
                        + (f"(fault injected into {fault['service']}: {fault['spec']})" if fault["service"]
                           else "(every release was held: no fault injected)"))
    for column in ("service", "status", "time to detect", "decided by", "reason"):
        table.add_column(column)
    for o in release["outcomes"]:
        ttd = o["time_to_detect_minutes"]
        table.add_row(o["service"], o["status"], "-" if ttd is None else f"{ttd:.0f} min", o["decided_by"] or "-",
                      o["reason"][:90])
    console = Console()
    console.print(table)
    console.print("Outcomes were written to raw.deployments: the next `train_models` run learns from them.")


def print_next_steps() -> None:
    from rich.console import Console

    Console().print("""
[bold]Next[/]
  make up                                   # Prefect UI http://127.0.0.1:4200, MLflow UI http://127.0.0.1:5000,
                                            # dashboard http://127.0.0.1:8000 (make down stops them)
  .venv/bin/releasepilot token create --name me --role admin   # a token for the dashboard and the API
  .venv/bin/releasepilot models             # champion and challenger versions with their metrics
  .venv/bin/releasepilot rollouts --json    # the rollout's events""")


if __name__ == "__main__":
    result = demo_journey()
    print_summary(result)
    print_models(result)
    print_plan(result)
    print_release(result)
    print_next_steps()
