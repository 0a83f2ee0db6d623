"""prefect.yaml as the project ships it: every flow deployed, schedules, and the build-after-ingest trigger."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasepilot.deployments import deploy_command, read_deployments, split_deployable
from releasepilot.errors import InputError

REPO = Path(__file__).resolve().parents[1]


def test_prefect_yaml_deploys_each_flow_on_the_process_pool():
    specs = {spec.name: spec for spec in read_deployments(REPO)}
    assert set(specs) == {"ingest-hourly", "build-features", "train-nightly", "monitor-daily", "plan-release",
                          "run-release"}
    assert {spec.work_pool for spec in specs.values()} == {"releasepilot"}
    assert specs["ingest-hourly"].schedules == [{"cron": "5 * * * *"}]
    assert specs["train-nightly"].schedules and specs["monitor-daily"].schedules
    assert not specs["plan-release"].schedules and not specs["run-release"].schedules
    for spec in specs.values():     # the flow's name is its function's name (what triggers and the UI show)
        source = (REPO / spec.flow_file).read_text()
        assert f'@flow(name="{spec.flow_function}"' in source and f"def {spec.flow_function}(" in source


def _flow_run_event(flow_name: str, state: str):
    """A flow-run state event shaped as Prefect 3.9's server emits it (server/models/events.py)."""
    from uuid import uuid4

    from prefect.server.events.schemas.events import ReceivedEvent
    from prefect.types._datetime import now

    return ReceivedEvent(id=uuid4(), occurred=now("UTC"), event=f"prefect.flow-run.{state}",
                         resource={"prefect.resource.id": f"prefect.flow-run.{uuid4()}",
                                   "prefect.resource.name": "some-run", "prefect.state-name": state},
                         related=[{"prefect.resource.id": f"prefect.flow.{uuid4()}",
                                   "prefect.resource.role": "flow", "prefect.resource.name": flow_name}])


def test_build_trigger_matches_the_event_prefect_emits_and_passes_the_warehouse_on():
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
    from prefect.server.events.actions import RunDeployment
    from prefect.server.events.schemas.automations import EventTrigger
    from prefect.utilities.schema_tools.hydration import HydrationContext, hydrate

    spec = next(s for s in read_deployments(REPO) if s.name == "build-features")
    trigger = DeploymentEventTrigger(**spec.triggers[0])
    assert trigger.expect == {"prefect.flow-run.Completed"}
    covers = EventTrigger(**trigger.model_dump(include={"match", "match_related", "expect", "posture"})).covers
    assert covers(_flow_run_event("ingest_history", "Completed"))
    assert not covers(_flow_run_event("ingest_history", "Failed"))
    assert not covers(_flow_run_event("build_features", "Completed"))

    class IngestRun:
        def __init__(self, parameters: dict):
            self.parameters = parameters

    for given, expected in (({"warehouse": "/w/x.duckdb"}, "/w/x.duckdb"), ({"warehouse": None}, None), ({}, None)):
        parameters = dict(trigger.parameters)
        RunDeployment._upgrade_v1_templates(parameters)          # what the server does before rendering
        rendered = hydrate(parameters, HydrationContext(raise_on_error=True, render_jinja=True,
                                                        jinja_context={"flow_run": IngestRun(given)}))
        assert rendered == {"warehouse": expected}


def test_missing_flow_files_are_skipped_with_the_reason(tmp_path):
    (tmp_path / "prefect.yaml").write_text(
        "deployments:\n  - {name: a, entrypoint: flows/a.py:a}\n  - {name: b, entrypoint: flows/b.py:b}\n")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "a.py").write_text("")
    ready, skipped = split_deployable(read_deployments(tmp_path), tmp_path)
    assert [s.name for s in ready] == ["a"] and skipped == {"b": "flows/b.py does not exist yet"}
    assert deploy_command("prefect", ["a"]) == ["prefect", "--no-prompt", "deploy", "--name", "a"]


def test_a_malformed_deployment_names_the_entry(tmp_path):
    (tmp_path / "prefect.yaml").write_text("deployments:\n  - {name: a, entrypoint: flows/a.py:a}\n  - {name: b}\n")
    with pytest.raises(InputError, match=r"prefect.yaml, row 2, field 'deployments'"):
        read_deployments(tmp_path)
