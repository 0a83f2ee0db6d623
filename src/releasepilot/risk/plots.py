"""Diagnostic plots logged with every training run: calibration, feature importance, SHAP summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from releasepilot.risk.metrics import reliability_curve

TOP_FEATURES = 15
SHAP_SAMPLE = 2000


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def calibration_plot(y_true, p_raw, p_final, path: Path, title: str) -> Path:
    """Reliability diagram: observed failure rate against mean prediction, raw and final."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect")
    for label, p in (("raw", p_raw), ("final", p_final)):
        mean_p, rate, _ = reliability_curve(y_true, p)
        ax.plot(mean_p, rate, marker="o", label=label)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed failure rate")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def importance_plot(importance: dict[str, float], path: Path, title: str) -> Path:
    plt = _pyplot()
    items = sorted(importance.items(), key=lambda kv: kv[1])[-TOP_FEATURES:]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(items) + 1.2))
    ax.barh([k for k, _ in items], [v for _, v in items])
    ax.set_xlabel("CatBoost importance (prediction values change)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def shap_summary_plot(shap_values: np.ndarray, features: list[str], values, path: Path, title: str) -> Path:
    """Beeswarm-style summary: one row per feature, SHAP value on x, colour = feature value rank."""
    plt = _pyplot()
    contrib = shap_values[:, : len(features)]
    order = np.argsort(np.abs(contrib).mean(axis=0))[-TOP_FEATURES:]
    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(order) + 1.2))
    for row, j in enumerate(order):
        column = values.iloc[:, j]
        try:
            colour = column.astype(float).rank(pct=True).fillna(0.5).to_numpy()
        except (TypeError, ValueError):
            colour = np.full(len(column), 0.5)
        ax.scatter(contrib[:, j], row + rng.uniform(-0.3, 0.3, len(contrib)), c=colour, cmap="coolwarm",
                   s=6, alpha=0.6)
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([features[j] for j in order])
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("SHAP value (log-odds of failure); colour: feature value low (blue) to high (red)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
