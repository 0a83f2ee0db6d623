"""Prefect flow `train_models`: train, register and promote the risk models (nightly and on demand).

Thin: one task calls the library (`releasepilot.risk.pipeline.run_training`), which reads the marts as
they are now, so each run learns from every outcome recorded since the last one.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact


def report_markdown(document: dict) -> str:
    """One table per model: validation metrics next to the baselines, then the promotion decision."""
    lines = [f"# Risk model training ({document['seconds']:.1f} s)", ""]
    for entry in document["models"]:
        names = ["model", *entry["baselines"]]
        values = [entry["metrics"], *entry["baselines"].values()]
        lines += [f"## {entry['model']} v{entry['version']}", "",
                  "| metric | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        for metric in ("roc_auc", "pr_auc", "brier", "ece", "accuracy", "caught_at_10pct", "caught_at_20pct"):
            lines.append(f"| {metric} | " + " | ".join(f"{v.get(metric, float('nan')):.3f}" for v in values) + " |")
        verdict = "promoted to champion" if entry["promoted"] else "kept as challenger"
        lines += ["", f"**{verdict}**: {entry['reason']}", "", f"Calibration: {entry['calibration']}", ""]
    return "\n".join(lines)


@task
def train_and_register(warehouse: Path, ground_truth: Path | None) -> dict:
    from releasepilot.risk.pipeline import run_training

    return run_training(warehouse, ground_truth_path=ground_truth).as_dict()


@flow(name="train_models")
def train_models(warehouse: str | None = None, ground_truth: str | None = None) -> dict:
    """Train both models on the current marts; the challenger becomes champion only on evidence."""
    from releasepilot.config import get_settings
    from releasepilot.risk.pipeline import default_ground_truth

    settings = get_settings()
    document = train_and_register(Path(warehouse) if warehouse else settings.warehouse_path,
                                  Path(ground_truth) if ground_truth else default_ground_truth())
    create_markdown_artifact(markdown=report_markdown(document), key="risk-training")
    return document


if __name__ == "__main__":
    train_models()
