"""Model specifications: what a model reads, predicts, how it is split, trained and promoted.

Each model is described by one YAML file in `models/` (features, target, CatBoost parameters, time split,
calibration and promotion rules). This module loads and validates those files so that the rest of the
risk package never hard-codes a feature list.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from releasepilot.errors import InputError

CHANGE_MODEL = "change_risk"
RELEASE_MODEL = "release_risk"
STACKED_FEATURES = ("change_risk_max", "change_risk_mean", "change_risk_sum")


class SplitSpec(BaseModel):
    validation_fraction: float = Field(0.2, gt=0, lt=1)
    calibration_fraction: float = Field(0.15, gt=0, lt=1)
    stacking_folds: int = Field(4, ge=2, le=20)


class CalibrationSpec(BaseModel):
    max_ece: float = Field(0.03, gt=0)
    method: str = Field("isotonic", pattern="^(isotonic|platt)$")


class PromotionSpec(BaseModel):
    metric: str = "roc_auc"
    margin: float = Field(0.005, ge=0)
    max_ece: float = Field(0.03, gt=0)
    higher_is_better: bool = True


class MonitoringSpec(BaseModel):
    drift_share: float = Field(0.3, gt=0, le=1)
    max_auc_drop: float = Field(0.03, ge=0)


class ModelSpec(BaseModel):
    """One model's specification (the parsed YAML)."""

    name: str
    registered_model: str
    description: str = ""
    table: str
    key: str
    time_column: str
    label_known_column: str | None = None
    group_column: str | None = None
    service_column: str | None = None
    target: str
    features: list[str]
    categorical_features: list[str] = []
    monotone_constraints: dict[str, int] = {}
    catboost: dict[str, float | int | str | bool] = {}
    split: SplitSpec = SplitSpec()
    policy_threshold: float = Field(0.5, gt=0, lt=1)
    calibration: CalibrationSpec = CalibrationSpec()
    promotion: PromotionSpec = PromotionSpec()
    monitoring: MonitoringSpec = MonitoringSpec()

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        unknown = [c for c in self.categorical_features if c not in self.features]
        unknown += [c for c in self.monotone_constraints if c not in self.features]
        if unknown:
            raise ValueError(f"categorical/monotone features not in the feature list: {unknown}")
        if self.target in self.features:
            raise ValueError(f"the target '{self.target}' is also listed as a feature")
        bad = {k: v for k, v in self.monotone_constraints.items() if v not in (-1, 0, 1)}
        if bad:
            raise ValueError(f"monotone constraints must be -1, 0 or 1: {bad}")
        return self

    @property
    def numeric_features(self) -> list[str]:
        return [f for f in self.features if f not in self.categorical_features]

    def catboost_params(self) -> dict:
        """CatBoost constructor arguments: the spec's parameters plus the house settings."""
        params = dict(self.catboost)
        params.update(loss_function="Logloss", verbose=0, allow_writing_files=False)
        if self.monotone_constraints:
            params["monotone_constraints"] = dict(self.monotone_constraints)
        return params

    def with_features(self, features: list[str]) -> ModelSpec:
        """A copy restricted to `features` (dropping constraints on features no longer present)."""
        return self.model_copy(update={
            "features": list(features),
            "categorical_features": [c for c in self.categorical_features if c in features],
            "monotone_constraints": {k: v for k, v in self.monotone_constraints.items() if k in features},
        })


def load_spec(path: Path | str) -> ModelSpec:
    """Read and validate one spec file; a bad file raises InputError naming it."""
    path = Path(path)
    if not path.exists():
        raise InputError("model spec not found", source=str(path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", source=str(path)) from None
    if not isinstance(raw, dict):
        raise InputError("expected a mapping at the top level", source=str(path))
    try:
        return ModelSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise InputError(first["msg"], source=str(path), field=field) from None


def load_specs(models_dir: Path | str | None = None) -> dict[str, ModelSpec]:
    """The change and release specs from `models_dir` (default: the project's `models/`)."""
    if models_dir is None:
        from releasepilot.config import get_settings

        models_dir = get_settings().models_dir
    models_dir = Path(models_dir)
    return {name: load_spec(models_dir / f"{name}.yaml") for name in (CHANGE_MODEL, RELEASE_MODEL)}
