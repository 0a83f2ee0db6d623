"""Readers for release-history sources: one module per source behind the `Source` interface."""

from __future__ import annotations

from pathlib import Path

from releasepilot.sources.base import Source
from releasepilot.sources.catalog import CatalogSource
from releasepilot.sources.commits_jsonl import CommitsJsonlSource
from releasepilot.sources.deployments import DeploymentsSource
from releasepilot.sources.freezes import FreezesSource
from releasepilot.sources.git_log import GitLogSource
from releasepilot.sources.incidents import IncidentsSource
from releasepilot.sources.oncall import OncallSource
from releasepilot.sources.schema import RAW_TABLES, TableSpec
from releasepilot.sources.traffic import TrafficSource

FOLDER_SOURCES = (CommitsJsonlSource, DeploymentsSource, IncidentsSource, OncallSource, TrafficSource,
                  FreezesSource)

__all__ = ["RAW_TABLES", "CatalogSource", "CommitsJsonlSource", "DeploymentsSource", "FreezesSource",
           "GitLogSource", "IncidentsSource", "OncallSource", "Source", "TableSpec", "TrafficSource",
           "folder_sources"]


def folder_sources(source_dir: Path, catalog_dir: Path | None = None) -> list[Source]:
    """Every source a history folder may hold (present or not), catalog first."""
    catalog = CatalogSource(catalog_dir) if catalog_dir else CatalogSource.in_folder(source_dir)
    return [catalog, *(cls.in_folder(source_dir) for cls in FOLDER_SOURCES)]
