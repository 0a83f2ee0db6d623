"""Prefect flow `build_features`: run the dbt feature project on the warehouse and publish a summary."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact


def report_markdown(report) -> str:
    """A short markdown table of the build: one row per model, then the test counts."""
    lines = [f"# Feature build ({report.seconds:.1f} s)", "", f"Warehouse: `{report.warehouse}`", "",
             "| model | status | rows |", "|---|---|---|"]
    for node in report.nodes:
        if node.kind == "model":
            lines.append(f"| {node.name} | {node.status} | {'' if node.rows is None else node.rows} |")
    lines += ["", (f"Data tests: {report.count('test')}, unit tests: {report.count('unit_test')}, "
                  f"failed: {len(report.failed)}")]
    return "\n".join(lines)


@task
def run_dbt_build(warehouse: Path, project_dir: Path):
    from releasepilot.features import build_features as build

    return build(warehouse, project_dir)


@flow(name="build_features")
def build_features(warehouse: str | None = None) -> dict:
    """Build the feature marts (dbt build) and attach a markdown artifact with the result."""
    from releasepilot.config import get_settings

    settings = get_settings()
    path = Path(warehouse) if warehouse else settings.warehouse_path
    report = run_dbt_build(path, settings.dbt_project_dir)
    create_markdown_artifact(markdown=report_markdown(report), key="feature-build")
    return report.as_dict()


if __name__ == "__main__":
    build_features()
