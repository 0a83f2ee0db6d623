"""The train file schema: good files load, every kind of bad entry is named."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from releasepilot.errors import InputError
from releasepilot.train import check_services, load_train, parse_train

GOOD = {
    "name": "march-train",
    "window": {"start": "2025-03-04T20:00:00+01:00", "end": "2025-03-04T22:00:00+01:00"},
    "releases": [
        {"service": "checkout-api", "version": "2.4.0", "team": "team-payments",
         "commits": ["9f1c2ab", {"sha": "77d0e3c", "message": "feat(cart): coupons", "files": ["src/cart/a.py"]}],
         "flags": {"db_migration": True, "migration_reversible": True, "contract_change": True},
         "ci_status": "passed", "approvals": ["alice", "bob"], "previous_version": "2.3.1"},
        {"service": "payments-api", "version": "1.10.0", "commit_range": "abc1234..def5678", "prs": [12, "PR-7"],
         "window": {"start": "2025-03-05T02:00:00Z", "end": "2025-03-05T03:00:00Z"}},
    ],
}


def write(tmp_path: Path, document, name: str = "train.yaml") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document) if name.endswith(".json") else yaml.safe_dump(document))
    return path


def test_a_good_yaml_train_loads_with_defaults_and_utc_windows(tmp_path):
    train = load_train(write(tmp_path, GOOD), known_services={"checkout-api", "payments-api", "orders-api"})
    first, second = train.releases
    assert train.services == ["checkout-api", "payments-api"]
    assert [c.sha for c in first.commits] == ["9f1c2ab", "77d0e3c"]
    assert first.commits[1].files == ("src/cart/a.py",)
    assert first.flags.db_migration and first.flags.contract_change and not first.flags.feature_flagged
    assert second.prs == ("12", "PR-7") and second.ci_status == "unknown" and second.approvals == ()
    assert second.commit_bounds == ("abc1234", "def5678")
    # the +01:00 train window is converted to UTC; the release's own window wins over the train's
    assert train.window_for("checkout-api").start == datetime(2025, 3, 4, 19, tzinfo=UTC)
    assert train.window_for("payments-api").start == datetime(2025, 3, 5, 2, tzinfo=UTC)


def test_json_and_yaml_give_the_same_train(tmp_path):
    assert load_train(write(tmp_path, GOOD, "t.json")) == load_train(write(tmp_path, GOOD, "t.yaml"))


def test_an_open_commit_range_has_no_start(tmp_path):
    doc = {"name": "t", "releases": [{"service": "a", "version": "1", "commit_range": "..abc1234"}]}
    assert load_train(write(tmp_path, doc)).releases[0].commit_bounds == (None, "abc1234")


def bad(tmp_path, mutate) -> str:
    doc = json.loads(json.dumps(GOOD))
    mutate(doc)
    with pytest.raises(InputError) as info:
        load_train(write(tmp_path, doc))
    assert info.value.exit_code == 2
    assert str(tmp_path / "train.yaml") in str(info.value)
    return str(info.value)


def test_a_bad_field_names_the_entry_the_service_and_the_field(tmp_path):
    message = bad(tmp_path, lambda d: d["releases"][1].update(ci_status="green"))
    assert "releases[1].ci_status" in message and "payments-api" in message and "passed" in message


def test_a_release_without_commits_range_or_prs_is_rejected(tmp_path):
    message = bad(tmp_path, lambda d: d["releases"][1].pop("commit_range") and d["releases"][1].pop("prs"))
    assert "releases[1]" in message and "payments-api" in message and "commits, a commit_range or prs" in message


def test_an_unquoted_numeric_version_is_rejected_with_a_hint(tmp_path):
    message = bad(tmp_path, lambda d: d["releases"][0].update(version=1.1))
    assert "releases[0].version" in message and "quoted" in message


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["releases"][0].update(commit_range="abc"), "FROM..TO"),
    (lambda d: d["releases"][0].update(window={"start": "2025-03-04T22:00:00Z", "end": "2025-03-04T21:00:00Z"}),
     "not after its start"),
    (lambda d: d["releases"][0]["flags"].update(dbmigration=True), "releases[0].flags.dbmigration"),
    (lambda d: d["releases"][0].update(service=""), "releases[0].service"),
    (lambda d: d["releases"].append(dict(d["releases"][0])), "appears twice"),
    (lambda d: d.update(releases=[]), "releases"),
    (lambda d: d.pop("name"), "name"),
    (lambda d: d["releases"][1].update(flags={"migration_reversible": False}), "db_migration is false"),
    (lambda d: d["releases"][0].update(commits=["not a sha!"]), "releases[0].commits[0].sha"),
])
def test_malformed_entries_are_named(tmp_path, mutate, expected):
    assert expected in bad(tmp_path, mutate)


def test_unknown_services_are_named_with_a_suggestion(tmp_path):
    with pytest.raises(InputError) as info:
        load_train(write(tmp_path, GOOD), known_services={"checkout-apii", "orders-api"})
    message = str(info.value)
    assert "releases[0]: service 'checkout-api'" in message and "did you mean 'checkout-apii'" in message
    assert "releases[1]: service 'payments-api'" in message


def test_files_that_do_not_parse_name_the_file_and_line(tmp_path):
    broken = tmp_path / "t.yaml"
    broken.write_text("name: t\nreleases:\n  - service: [a\n")
    with pytest.raises(InputError, match=r"t\.yaml.*not valid YAML at line"):
        load_train(broken)
    broken_json = tmp_path / "t.json"
    broken_json.write_text('{"name": ')
    with pytest.raises(InputError, match=r"not valid JSON at line 1"):
        load_train(broken_json)
    with pytest.raises(InputError, match="file not found"):
        load_train(tmp_path / "missing.yaml")
    with pytest.raises(InputError, match="expected a mapping"):
        parse_train(["a list"])


def test_check_services_passes_when_all_are_known():
    train = parse_train(GOOD)
    check_services(train, ["checkout-api", "payments-api"])  # no error
