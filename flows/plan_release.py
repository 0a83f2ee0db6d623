"""Prefect flow `plan_release`: plan a release train, store the plan, publish it as artifacts.

Start it from the Prefect UI with a train file path; the body only calls the library
(`planning.assemble.build_plan` / `store_plan`) and publishes a markdown and a table artifact.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact


@task
def make_plan(train_file: str, warehouse: Path, policy_file: str | None):
    from releasepilot.config import get_settings
    from releasepilot.planning.assemble import build_plan, store_plan
    from releasepilot.policy import load_policy
    from releasepilot.train import load_train

    built = build_plan(load_train(train_file), warehouse, load_policy(policy_file),
                       tracking_uri=get_settings().tracking_uri(), source_file=train_file)
    store_plan(built, warehouse, created_by="prefect flow plan_release")
    return built


@flow(name="plan_release")
def plan_release(train_file: str, warehouse: str | None = None, policy_file: str | None = None) -> dict:
    """Plan the train in `train_file`, store it, and attach the plan as markdown and as a table."""
    from releasepilot.config import get_settings
    from releasepilot.planning.render import summary_rows

    path = Path(warehouse) if warehouse else get_settings().warehouse_path
    built = make_plan(train_file, path, policy_file)
    key = "".join(ch if ch.isalnum() else "-" for ch in built.train.lower()).strip("-")[:60] or "plan"
    create_markdown_artifact(markdown=built.to_markdown(), key=f"plan-{key}",
                             description=f"Release plan {built.plan_id}")
    create_table_artifact(table=summary_rows(built), key=f"plan-{key}-releases",
                          description=f"{built.train}: {built.decision.decision.value}")
    return {"plan_id": built.plan_id, "train": built.train, "decision": built.decision.decision.value}


if __name__ == "__main__":
    import sys

    plan_release(sys.argv[1])
