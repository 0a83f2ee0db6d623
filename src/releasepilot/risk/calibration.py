"""Probability calibration on a held-out slice: isotonic regression or Platt scaling.

A calibrator is stored as plain numbers (JSON) next to the model in MLflow, and applied with numpy, so
that scoring needs neither scikit-learn nor pickles.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from releasepilot.risk.metrics import expected_calibration_error

METHODS = ("isotonic", "platt", "identity")
LOGIT_EPS = 1e-6
MIN_ROWS_ISOTONIC = 500      # fewer held-out rows than this: Platt (2 parameters) instead


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, LOGIT_EPS, 1 - LOGIT_EPS)
    return np.log(q / (1 - q))


@dataclass
class Calibrator:
    """A monotone map from raw to calibrated probabilities."""

    method: str = "identity"
    x: list[float] = field(default_factory=list)      # isotonic knots (raw probability)
    y: list[float] = field(default_factory=list)      # isotonic values (calibrated probability)
    a: float = 1.0                                     # platt: sigmoid(a * logit(p) + b)
    b: float = 0.0

    def apply(self, p) -> np.ndarray:
        q = np.asarray(p, dtype=float)
        if self.method == "isotonic":
            return np.interp(q, self.x, self.y)
        if self.method == "platt":
            return 1.0 / (1.0 + np.exp(-(self.a * _logit(q) + self.b)))
        return q

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Calibrator:
        data = json.loads(text)
        if data.get("method") not in METHODS:
            raise ValueError(f"unknown calibration method {data.get('method')!r}")
        return cls(**data)


def fit_calibrator(y_true, p_raw, method: str = "isotonic") -> Calibrator:
    """Fit a calibrator on a held-out slice (labels and raw model probabilities)."""
    y = np.asarray(y_true, dtype=float)
    q = np.asarray(p_raw, dtype=float)
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True).fit(q, y)
        return Calibrator(method="isotonic", x=[float(v) for v in iso.X_thresholds_],
                          y=[float(v) for v in iso.y_thresholds_])
    if method == "platt":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6).fit(_logit(q).reshape(-1, 1), y)
        return Calibrator(method="platt", a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))
    raise ValueError(f"calibration method must be isotonic or platt, got {method!r}")


@dataclass(frozen=True)
class CalibrationDecision:
    """Whether calibration was applied, and the ECE on the held-out slice before and after."""

    calibrator: Calibrator
    applied: bool
    ece_before: float
    ece_after: float
    reason: str


def calibrate_if_needed(y_true, p_raw, *, max_ece: float, method: str) -> CalibrationDecision:
    """Calibrate when the held-out ECE is above `max_ece`; keep raw probabilities otherwise."""
    before = expected_calibration_error(y_true, p_raw)
    if before <= max_ece:
        return CalibrationDecision(Calibrator(), False, before, before,
                                   f"held-out ECE {before:.4f} <= {max_ece}: raw probabilities kept")
    if method == "isotonic" and len(np.asarray(y_true)) < MIN_ROWS_ISOTONIC:
        method = "platt"
    calibrator = fit_calibrator(y_true, p_raw, method)
    after = expected_calibration_error(y_true, calibrator.apply(p_raw))
    return CalibrationDecision(calibrator, True, before, after,
                               f"held-out ECE {before:.4f} > {max_ece}: {method} calibration fitted "
                               f"on the held-out slice (ECE there {after:.4f})")
