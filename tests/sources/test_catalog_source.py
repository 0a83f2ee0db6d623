"""Backstage catalog reader: components and groups, reference forms, bad YAML and missing names."""

from __future__ import annotations

import pytest

from releasepilot.errors import InputError
from releasepilot.sources import CatalogSource
from sources.fixtures import write_catalog


def test_reads_components_and_groups_with_plain_references(tmp_path):
    write_catalog(tmp_path)
    data = CatalogSource.in_folder(tmp_path).read()
    services = {row["service"]: row for row in data["services"].iter_rows(named=True)}
    assert set(services) == {"checkout-api", "payments-api", "orders-api"}
    checkout = services["checkout-api"]
    assert checkout["depends_on"] == ["payments-api", "orders-api"]
    assert checkout["owner"] == "team-payments" and services["orders-api"]["owner"] == "team-orders"
    assert checkout["tier"] == 1 and checkout["regions"] == ["us-east-1", "eu-west-1"]
    assert checkout["tenants"] == [] and checkout["contract_tests"] == ["payments-api"]
    assert checkout["source_file"].endswith("checkout-api/catalog-info.yaml")
    assert sorted(data["team_members"].rows()) == [
        ("team-orders", "carol.d"), ("team-payments", "alice.ng"), ("team-payments", "bob.k")]


def test_bad_yaml_names_file_and_line(tmp_path):
    catalog = write_catalog(tmp_path)
    bad = catalog / "orders-api" / "catalog-info.yaml"
    bad.write_text("kind: Component\nmetadata:\n  name: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML") as info:
        CatalogSource(catalog).read()
    assert info.value.source == str(bad) and info.value.row is not None


def test_component_without_name_is_an_error(tmp_path):
    catalog = write_catalog(tmp_path)
    (catalog / "orders-api" / "catalog-info.yaml").write_text("kind: Component\nmetadata:\n  description: x\n")
    with pytest.raises(InputError) as info:
        CatalogSource(catalog).read()
    assert info.value.field == "metadata.name"


def test_non_numeric_tier_is_an_error(tmp_path):
    catalog = write_catalog(tmp_path)
    path = catalog / "orders-api" / "catalog-info.yaml"
    path.write_text(path.read_text().replace('tier: "3"', "tier: gold"))
    with pytest.raises(InputError, match="tier"):
        CatalogSource(catalog).read()


def test_absent_catalog_is_not_available(tmp_path):
    assert not CatalogSource.in_folder(tmp_path).available()
