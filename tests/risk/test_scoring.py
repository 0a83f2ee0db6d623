"""Scoring from the warehouse with champion models loaded by alias: every release scored, with reasons."""

from __future__ import annotations

import re

import pytest

from releasepilot.risk.registry import log_and_register
from releasepilot.risk.scoring import score_in_warehouse
from releasepilot.warehouse import connect


@pytest.fixture(scope="module")
def warehouse(history, tmp_path_factory):
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    with connect(path) as con:
        con.register("releases_frame", history["releases"])
        con.register("changes_frame", history["changes"])
        con.sql("create schema marts")
        con.sql("create table marts.release_features as select * from releases_frame")
        con.sql("create table marts.change_features as select * from changes_frame")
    return path


@pytest.fixture(scope="module")
def champions(trained, mlflow_store):
    for model in (trained.change, trained.release):
        model.spec = model.spec.model_copy(deep=True)
        model.spec.promotion.max_ece = 1.0    # small synthetic window: ECE is noise here
        log_and_register(model, tracking_uri=mlflow_store)
    return mlflow_store


def test_scores_every_pending_release_with_reasons_in_words(warehouse, champions, history):
    report = score_in_warehouse(warehouse, tracking_uri=champions)
    pending = history["releases"].filter(history["releases"]["is_failure"].is_null())
    assert {s.deployment_id for s in report.scores} == set(pending["deployment_id"])
    assert report.share_scored == 1.0 and report.unscored == []
    assert report.models["release"].startswith("release-risk@champion")
    for score in report.scores:
        assert 0.0 <= score.probability <= 1.0
        for reason in score.reasons:
            assert re.search(r": [+-]\d\.\d{2,3}$", reason.text), reason.text
    assert any(s.reasons for s in report.scores)


def test_named_deployments_and_unknown_ones_say_why(warehouse, champions):
    report = score_in_warehouse(warehouse, ["dep-00010", "dep-99999"], tracking_uri=champions)
    assert [s.deployment_id for s in report.scores] == ["dep-00010"]
    assert report.unscored == [{"deployment_id": "dep-99999", "why": "not found in marts.release_features"}]
    assert report.share_scored == 0.5
