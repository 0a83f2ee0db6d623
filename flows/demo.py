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


@task
def simulate_history(out: Path, seed: int) -> dict:
    """Generate the default organisation (40 services, 8 teams, two years) unless it is already there."""
    from releasepilot.simulation import SimulationConfig, simulate

    if (out / "deployments.csv").exists():
        return {"out_dir": str(out), "reused": True}
    return simulate(SimulationConfig(seed=seed), out).as_dict()


@flow(name="demo_journey")
def demo_journey(seed: int = 7) -> dict:
    """simulate -> ingest -> build (-> train -> plan -> release as those stages land)."""
    from releasepilot.config import get_settings

    settings = get_settings()
    summary: dict = {"simulate": simulate_history(settings.sim_path, seed)}
    summary["ingest"] = ingest_history(source_dir=str(settings.sim_path), warehouse=str(settings.warehouse_path))
    summary["build"] = build_features(warehouse=str(settings.warehouse_path))
    summary["plan"] = plan_release(train_file=str(generated_train(settings.warehouse_path, seed)),
                                   warehouse=str(settings.warehouse_path))
    return summary


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


if __name__ == "__main__":
    result = demo_journey()
    print_summary(result)
    print_plan(result)
