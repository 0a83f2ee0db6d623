"""The drift report of the last monitoring run links to the MLflow UI when its address is known."""

from __future__ import annotations

import pytest


@pytest.fixture
def settings_env(tmp_path, monkeypatch):
    from releasepilot.config import get_settings

    monkeypatch.setenv("RELEASEPILOT_MLFLOW_UI", "http://127.0.0.1:5000/")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "releasepilot")
    get_settings.cache_clear()
    yield f"sqlite:///{tmp_path / 'mlflow.db'}"
    get_settings.cache_clear()


def test_drift_report_links_to_the_mlflow_ui(settings_env):
    import mlflow

    from releasepilot.api.queries import model_status
    from releasepilot.risk.registry import configure_mlflow

    configure_mlflow(settings_env)
    experiment = mlflow.set_experiment("releasepilot-monitoring")
    with mlflow.start_run() as run:
        mlflow.set_tag("retrain", "True")
    status = model_status(settings_env)
    assert status["mlflow_ui"] == "http://127.0.0.1:5000/"
    assert status["drift"]["report_url"] == (
        f"http://127.0.0.1:5000/#/experiments/{experiment.experiment_id}/runs/{run.info.run_id}"
        "/artifacts/monitoring/drift.html")
    assert status["drift"]["retrain"] is True
