"""One settings object for the whole tool.

Reads, in order of precedence: environment variables, `mlflow.env` in the project folder, defaults.
Nothing happens at import time: no folders are made and no tracking URI is set until a command asks.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def project_root() -> Path:
    """The folder that holds `pyproject.toml` (or the working directory when run elsewhere)."""
    env = os.environ.get("RELEASEPILOT_HOME")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "dbt_project" / "dbt_project.yml").exists():
            return folder
    return here


class Settings(BaseSettings):
    """Where things live and which services to talk to."""

    model_config = SettingsConfigDict(env_file="mlflow.env", env_file_encoding="utf-8", extra="ignore")

    home: Path = Field(default_factory=project_root, alias="RELEASEPILOT_HOME")
    warehouse: Path | None = Field(default=None, alias="RELEASEPILOT_WAREHOUSE")
    sim_dir: Path | None = Field(default=None, alias="RELEASEPILOT_SIM_DIR")
    policy_file: Path | None = Field(default=None, alias="RELEASEPILOT_POLICY")
    mlflow_tracking_uri: str = Field(default="sqlite:///mlflow.db", alias="MLFLOW_TRACKING_URI")
    mlflow_registry_uri: str | None = Field(default=None, alias="MLFLOW_REGISTRY_URI")
    mlflow_experiment_prefix: str = Field(default="releasepilot", alias="MLFLOW_EXPERIMENT_NAME")
    mlflow_ui_url: str | None = Field(default=None, alias="RELEASEPILOT_MLFLOW_UI")   # for links from the dashboard

    @property
    def warehouse_path(self) -> Path:
        return self._under_home(self.warehouse or Path("data/warehouse.duckdb"))

    @property
    def sim_path(self) -> Path:
        return self._under_home(self.sim_dir or Path("data/sim"))

    @property
    def dbt_project_dir(self) -> Path:
        return self.home / "dbt_project"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def policy_path(self) -> Path:
        return self._under_home(self.policy_file or Path("policy.yaml"))

    def _under_home(self, path: Path) -> Path:
        return path if path.is_absolute() else self.home / path

    def tracking_uri(self) -> str:
        """The MLflow URI with a relative SQLite path anchored at the project folder."""
        uri = self.mlflow_tracking_uri
        prefix = "sqlite:///"
        if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
            return prefix + str(self.home / uri[len(prefix):])
        return uri


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings for this process (cached; call `get_settings.cache_clear()` in tests)."""
    root = project_root()
    return Settings(_env_file=root / "mlflow.env")  # type: ignore[call-arg]
