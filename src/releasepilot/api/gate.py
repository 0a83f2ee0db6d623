"""/api/v1/releases/gate: the CI gate, a release's decision after overrides and its exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query

from releasepilot.api import queries
from releasepilot.api.auth import Principal, require
from releasepilot.api.deps import not_found, warehouse
from releasepilot.api.queries import RELEASE_PATTERN

router = APIRouter(prefix="/releases", tags=["gate"])


@router.get("/gate")
def gate(release: str = Query(..., pattern=RELEASE_PATTERN, description="PLAN_ID/SERVICE (or PLAN_ID for the train)"),
         _: Principal = Depends(require("viewer")), path: Path = Depends(warehouse)) -> dict[str, Any]:
    """GO -> exit_code 0, NO-GO -> 1, GO WITH CONDITIONS -> 3 (what `releasepilot gate` exits with)."""
    verdict = queries.gate_verdict(path, release)
    if verdict is None:
        raise not_found(f"release {release!r}")
    return verdict
