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
    return summary


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


if __name__ == "__main__":
    print_summary(demo_journey())
