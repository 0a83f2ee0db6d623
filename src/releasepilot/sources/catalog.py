"""A Backstage catalog: `<service>/catalog-info.yaml` Component files and `groups.yaml` Group documents,
into `raw.services` and `raw.team_members`.

References are stored as plain names, so they join with other tables: `group:default/team-payments`
becomes `team-payments` and `component:default/payments-api` becomes `payments-api`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import yaml

from releasepilot.errors import InputError
from releasepilot.sources.base import Source, conform
from releasepilot.sources.schema import RAW_TABLES

COMPONENT_FILE = "catalog-info.yaml"
GROUPS_FILE = "groups.yaml"
ANNOTATION_PREFIX = "releasepilot.io/"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogSource(Source):
    """Reads every `catalog-info.yaml` under the folder (any depth) and `groups.yaml` at its top."""

    name = "catalog"
    tables = ("services", "team_members")

    @classmethod
    def in_folder(cls, folder: Path) -> CatalogSource:
        return cls(Path(folder) / "catalog")

    def available(self) -> bool:
        return self.path.is_dir() and (
            (self.path / GROUPS_FILE).exists() or any(self.path.rglob(COMPONENT_FILE)))

    def read(self) -> dict[str, pl.DataFrame]:
        services = [service_row(doc, path)
                    for path in sorted(self.path.rglob(COMPONENT_FILE))
                    for doc in load_documents(path) if doc.get("kind") == "Component"]
        groups_path = self.path / GROUPS_FILE
        members = ([row for doc in load_documents(groups_path) if doc.get("kind") == "Group"
                    for row in member_rows(doc, groups_path)] if groups_path.exists() else [])
        spec = RAW_TABLES["services"]
        return {
            "services": conform(pl.DataFrame(services, schema=spec.schema, orient="row"), "services"),
            "team_members": pl.DataFrame(members, schema=RAW_TABLES["team_members"].schema, orient="row"),
        }


def load_documents(path: Path) -> list[dict[str, Any]]:
    """All YAML documents of a file; `InputError` with the line for bad YAML or a non-mapping document."""
    try:
        with open(path, encoding="utf-8") as handle:
            docs = [doc for doc in yaml.load_all(handle, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"not valid YAML ({problem})", source=str(path),
                         row=mark.line + 1 if mark else None) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file ({exc})", source=str(path)) from None
    for doc in docs:
        if not isinstance(doc, dict):
            raise InputError("expected each YAML document to be a mapping with kind/metadata/spec",
                             source=str(path))
    return docs


def plain_ref(ref: Any) -> str:
    """`component:default/x`, `component:x`, `group:x` or `x` -> `x`."""
    text = str(ref).strip()
    return text.split(":", 1)[-1].rsplit("/", 1)[-1]


def split_list(value: Any) -> list[str]:
    """A comma-separated annotation (or a YAML list) as a list of non-empty, stripped strings."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _section(doc: dict, key: str, path: Path) -> dict:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise InputError(f"expected '{key}' to be a mapping", source=str(path), field=key)
    return value


def service_row(doc: dict, path: Path) -> tuple:
    """One `raw.services` row from a `kind: Component` document."""
    metadata, spec = _section(doc, "metadata", path), _section(doc, "spec", path)
    name = metadata.get("name")
    if not name or not str(name).strip():
        raise InputError("a Component needs metadata.name (the service id)", source=str(path),
                         field="metadata.name")
    notes = metadata.get("annotations") or {}
    tier_text = notes.get(ANNOTATION_PREFIX + "tier")
    try:
        tier = None if tier_text in (None, "") else int(str(tier_text).strip())
    except ValueError:
        raise InputError(f"expected a tier number 1, 2 or 3, got {tier_text!r}", source=str(path),
                         field=f"metadata.annotations.{ANNOTATION_PREFIX}tier") from None
    depends_on = spec.get("dependsOn") or []
    if not isinstance(depends_on, list):
        raise InputError("expected a list of component references", source=str(path), field="spec.dependsOn")
    owner = spec.get("owner")
    return (
        str(name).strip(), metadata.get("description"), spec.get("type"), spec.get("lifecycle"),
        plain_ref(owner) if owner else None, spec.get("system"), tier, notes.get(ANNOTATION_PREFIX + "layer"),
        split_list(notes.get(ANNOTATION_PREFIX + "regions")), split_list(notes.get(ANNOTATION_PREFIX + "tenants")),
        [plain_ref(ref) for ref in depends_on],
        [plain_ref(ref) for ref in split_list(notes.get(ANNOTATION_PREFIX + "contract-tests"))],
        str(path),
    )


def member_rows(doc: dict, path: Path) -> list[tuple[str, str]]:
    """`raw.team_members` rows (team, user_name) from a `kind: Group` document."""
    metadata, spec = _section(doc, "metadata", path), _section(doc, "spec", path)
    team = metadata.get("name")
    if not team:
        raise InputError("a Group needs metadata.name (the team id)", source=str(path), field="metadata.name")
    members = spec.get("members") or []
    if not isinstance(members, list):
        raise InputError("expected a list of user ids", source=str(path), field="spec.members")
    return [(str(team), plain_ref(user)) for user in members]
