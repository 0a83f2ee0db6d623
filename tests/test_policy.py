"""The policy file: documented defaults, the shipped policy.yaml, and bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from releasepilot.errors import InputError
from releasepilot.policy import (
    DEFAULT_GO_BELOW,
    DEFAULT_NO_GO_AT,
    Policy,
    load_policy,
    parse_policy,
)


def test_the_shipped_policy_yaml_writes_out_exactly_the_defaults(repo_root):
    assert load_policy(repo_root / "policy.yaml") == Policy()


def test_every_default_is_written_out_in_policy_yaml(repo_root):
    shipped = yaml.safe_load((repo_root / "policy.yaml").read_text())
    for section, fields in Policy().model_dump().items():
        assert section in shipped, section
        assert set(fields) == set(shipped[section]), section


def test_docs_describe_every_field(repo_root):
    text = (repo_root / "docs" / "policy.md").read_text()
    for section in ("risk", "readiness", "decision", "conflicts"):
        for name in Policy().model_dump()[section]:
            assert f"`{name}`" in text, f"{section}.{name}"


def test_empty_and_partial_files_fall_back_to_defaults(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_policy(empty) == Policy()
    partial = tmp_path / "p.yaml"
    partial.write_text("risk:\n  no_go_at: 0.5\n")
    policy = load_policy(partial)
    assert policy.risk.no_go_at == 0.5 and policy.risk.go_below == DEFAULT_GO_BELOW
    assert Policy().risk.no_go_at == DEFAULT_NO_GO_AT


def test_no_path_and_no_default_file_means_defaults(tmp_path, monkeypatch):
    from releasepilot.config import get_settings

    monkeypatch.setenv("RELEASEPILOT_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert load_policy() == Policy()
        (tmp_path / "policy.yaml").write_text("readiness:\n  min_approvals: 2\n")
        assert load_policy().readiness.min_approvals == 2
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("document, expected", [
    ({"risk": {"go_below": 1.5}}, "risk.go_below"),
    ({"risk": {"go_below": 0.5, "no_go_at": 0.2}}, "must not exceed no_go_at"),
    ({"risk": {"train_rule": "mean"}}, "risk.train_rule"),
    ({"readiness": {"required": ["ci_green", "vibes"]}}, "unknown checks ['vibes']"),
    ({"readiness": {"min_approvals": -1}}, "readiness.min_approvals"),
    ({"decision": {"no_go_conflicts": ["traffic"]}}, "unknown conflict kinds ['traffic']"),
    ({"decision": {"unknown_check": "panic"}}, "decision.unknown_check"),
    ({"conflicts": {"min_teams_per_module": 1}}, "conflicts.min_teams_per_module"),
    ({"riks": {}}, "unknown policy keys ['riks']"),
    ({"windows": {"top_kk": 3}}, "unknown policy keys ['windows.top_kk']"),
    ({"ordering": {"max_parallel": 0}}, "ordering.max_parallel"),
    (["a", "list"], "expected a mapping"),
])
def test_bad_values_name_the_field(document, expected):
    with pytest.raises(InputError) as info:
        parse_policy(document, source="my-policy.yaml")
    assert expected in str(info.value) and "my-policy.yaml" in str(info.value)
    assert info.value.exit_code == 2


def test_an_explicit_missing_file_is_an_error(tmp_path: Path):
    with pytest.raises(InputError, match="file not found"):
        load_policy(tmp_path / "nope.yaml")
