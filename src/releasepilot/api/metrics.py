"""/api/v1/metrics: DORA by week, coordination, and calibration of the stored risk scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from releasepilot.api import queries
from releasepilot.api.analytics import CALIBRATION_BINS, DEFAULT_WEEKS
from releasepilot.api.auth import Principal, require
from releasepilot.api.deps import warehouse

router = APIRouter(prefix="/metrics", tags=["metrics"])


@router.get("/dora")
def dora(group_by: Literal["team", "service"] = "team", weeks: int = Query(DEFAULT_WEEKS, ge=1, le=520),
         _: Principal = Depends(require("viewer")), path: Path = Depends(warehouse)) -> dict[str, Any]:
    """Deploy frequency, change failure rate, time to restore and lead time per team or service per week."""
    return queries.dora_metrics(path, group_by, weeks)


@router.get("/coordination")
def coordination(_: Principal = Depends(require("viewer")), path: Path = Depends(warehouse)) -> dict[str, Any]:
    """Shares scored / planned / automatic, what needed a person and why, MTTD, planning time per train."""
    return queries.coordination_metrics(path)


@router.get("/calibration")
def calibration(bins: int = Query(CALIBRATION_BINS, ge=2, le=50), _: Principal = Depends(require("viewer")),
                path: Path = Depends(warehouse)) -> dict[str, Any]:
    """Predicted against observed failure rate by probability bin, and Brier score per week."""
    return queries.calibration(path, bins)
