"""/api/v1/models: registered models, versions, aliases, metrics and drift status from MLflow."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from releasepilot.api import queries
from releasepilot.api.auth import Principal, require
from releasepilot.api.deps import settings
from releasepilot.config import Settings

router = APIRouter(prefix="/models", tags=["models"])


@router.get("")
def models(_: Principal = Depends(require("viewer")), config: Settings = Depends(settings)) -> dict[str, Any]:
    """Every version of the risk models with aliases (champion/challenger) and metrics; the last drift check."""
    return queries.model_status(config.tracking_uri())
