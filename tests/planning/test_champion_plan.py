"""Planning with a real champion: models trained on the small simulated history, registered in MLflow."""

from __future__ import annotations

import pytest

from releasepilot.planning.assemble import build_plan
from releasepilot.planning.from_git import generate_train
from releasepilot.planning.risk_source import champion_risk


@pytest.fixture(scope="module")
def champion(built_history, tmp_path_factory, repo_root):
    """Change and release models fitted on the history (small settings) and aliased as champions."""
    import mlflow

    from releasepilot.risk.registry import CHAMPION, log_and_register
    from releasepilot.risk.scoring import read_marts
    from releasepilot.risk.spec import load_specs
    from releasepilot.risk.train import train_all

    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db"
    specs = load_specs(repo_root / "models")
    for spec in specs.values():
        spec.catboost.update(iterations=60, depth=4)
        spec.split.stacking_folds = 2
    releases, changes = read_marts(built_history[1])
    trained = train_all(changes, releases, specs)
    for model in (trained.change, trained.release):
        registered = log_and_register(model, tracking_uri=uri)
        if not registered.promoted:   # first versions are promoted unless uncalibrated: make them champion anyway
            mlflow.MlflowClient().set_registered_model_alias(registered.name, CHAMPION, registered.version)
    return uri


@pytest.mark.slow
def test_plan_scores_each_release_with_the_champion_and_its_reasons(built_history, champion):
    warehouse = built_history[1]
    plan = build_plan(generate_train(warehouse, teams=8, seed=11), warehouse, tracking_uri=champion)
    assert plan.risk_available and plan.model.startswith("release-risk@champion")
    assert all(0.0 <= r.risk.probability <= 1.0 for r in plan.releases)
    assert any(r.risk.drivers for r in plan.releases)
    assert plan.decision.failure_probability is not None
    scorer = champion_risk(champion).scorer()
    for r in plan.releases:   # the per-release score and the window scorer are the same model on the same row
        assert scorer([r.features])[0] == pytest.approx(r.risk.probability, abs=1e-9)
        assert {"change_risk_max", "deploy_hour"} <= set(r.features)
    spreads = [max(w.p_fail for w in r.windows.windows) - min(w.p_fail for w in r.windows.windows)
               for r in plan.releases if r.windows.windows]
    assert max(spreads) > 0   # time features recomputed per candidate hour change the prediction
    assert all(not any(x.code == "no_risk_score" for x in r.decision.reasons) for r in plan.releases)
