"""Quality metrics for a probability model on a validation window.

ROC AUC, PR AUC, Brier score, log loss, expected calibration error, accuracy at the policy threshold, and
the share of failures caught when the riskiest 10% / 20% of rows are held (how Meta reports its diff risk
score). Pure numpy so that baselines, models and the benchmark are measured the same way.
"""

from __future__ import annotations

import numpy as np

ECE_BINS = 10
HOLD_SHARES = (0.10, 0.20)
EPS = 1e-15


def _arrays(y_true, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float).ravel()
    q = np.clip(np.asarray(p, dtype=float).ravel(), 0.0, 1.0)
    if y.shape != q.shape:
        raise ValueError(f"labels ({y.shape}) and probabilities ({q.shape}) differ in length")
    return y, q


def roc_auc(y_true, p) -> float:
    """Area under the ROC curve (rank statistic, ties averaged); nan with a single class."""
    y, q = _arrays(y_true, p)
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(q)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def pr_auc(y_true, p) -> float:
    """Average precision (area under the precision-recall curve)."""
    y, q = _arrays(y_true, p)
    if y.sum() == 0:
        return float("nan")
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, q))


def brier(y_true, p) -> float:
    y, q = _arrays(y_true, p)
    return float(np.mean((q - y) ** 2))


def log_loss(y_true, p) -> float:
    y, q = _arrays(y_true, p)
    q = np.clip(q, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def expected_calibration_error(y_true, p, bins: int = ECE_BINS) -> float:
    """Weighted mean |observed rate - mean prediction| over equal-width probability bins."""
    y, q = _arrays(y_true, p)
    if len(y) == 0:
        return float("nan")
    index = np.minimum((q * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.sum() * abs(y[mask].mean() - q[mask].mean())
    return float(total / len(y))


def reliability_curve(y_true, p, bins: int = ECE_BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean prediction, observed rate, count) per non-empty bin, for calibration plots."""
    y, q = _arrays(y_true, p)
    index = np.minimum((q * bins).astype(int), bins - 1)
    rows = [(q[index == b].mean(), y[index == b].mean(), (index == b).sum())
            for b in range(bins) if (index == b).any()]
    if not rows:
        return np.array([]), np.array([]), np.array([])
    mean_p, rate, count = map(np.array, zip(*rows, strict=True))
    return mean_p, rate, count


def accuracy_at(y_true, p, threshold: float) -> float:
    y, q = _arrays(y_true, p)
    return float(np.mean((q >= threshold) == (y == 1)))


def caught_when_held(y_true, p, share: float) -> float:
    """Share of all failures that fall in the riskiest `share` of rows (ties broken by order)."""
    y, q = _arrays(y_true, p)
    if y.sum() == 0:
        return float("nan")
    n_hold = int(np.ceil(share * len(y)))
    riskiest = np.argsort(-q, kind="stable")[:n_hold]
    return float(y[riskiest].sum() / y.sum())


def evaluate_probabilities(y_true, p, threshold: float = 0.5) -> dict[str, float]:
    """Every metric at once, keyed by a stable name (used as MLflow metric names)."""
    out = {
        "roc_auc": roc_auc(y_true, p),
        "pr_auc": pr_auc(y_true, p),
        "brier": brier(y_true, p),
        "log_loss": log_loss(y_true, p),
        "ece": expected_calibration_error(y_true, p),
        "accuracy": accuracy_at(y_true, p, threshold),
    }
    for share in HOLD_SHARES:
        out[f"caught_at_{int(share * 100)}pct"] = caught_when_held(y_true, p, share)
    out["n"] = float(len(np.asarray(y_true)))
    out["positive_rate"] = float(np.mean(np.asarray(y_true, dtype=float))) if out["n"] else float("nan")
    return out
