"""Fixtures for the risk tests: small synthetic histories and the model specs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import make_history


@pytest.fixture(scope="session")
def specs(repo_root):
    from releasepilot.risk.spec import load_specs

    loaded = load_specs(repo_root / "models")
    for spec in loaded.values():  # small and fast for tests
        spec.catboost.update(iterations=80, depth=4)
        spec.split.stacking_folds = 2
    return loaded


@pytest.fixture(scope="session")
def history():
    return make_history()


@pytest.fixture(scope="session")
def truth_path(history, tmp_path_factory):
    path = tmp_path_factory.mktemp("sim") / "ground_truth.parquet"
    history["truth"].write_parquet(path)
    return path


@pytest.fixture(scope="session")
def trained(history, specs, truth_path):
    from releasepilot.risk.train import train_all

    return train_all(history["changes"], history["releases"], specs, ground_truth_path=truth_path)


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory):
    """A real MLflow SQLite store shared by the tests that need registered models."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow-shared')}/mlflow.db"
