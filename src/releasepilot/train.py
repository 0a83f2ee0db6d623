"""The release-train file: what a team hands to `releasepilot plan`.

A train file (YAML or JSON) lists the releases that ship together. This module defines its schema as
pydantic models, loads and validates a file, and turns every problem into an `InputError` that names the
file, the entry (index and service) and the field. The schema is documented in docs/train.md.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from releasepilot.errors import InputError
from releasepilot.planning.types import TimeWindow

CI_STATUSES = ("passed", "failed", "running", "pending", "unknown")
COMMIT_RANGE = re.compile(r"^(?P<start>[0-9A-Za-z._/-]*)\.\.(?P<end>[0-9A-Za-z._/-]+)$")
MAX_ERRORS_SHOWN = 10


def _aware_utc(value: datetime) -> datetime:
    """Windows are aware UTC datetimes (as in planning/calendar.py); naive input is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """A requested release window (start inclusive, end exclusive)."""

    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return _aware_utc(value)

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError(f"window end {self.end.isoformat()} is not after its start {self.start.isoformat()}")
        return self

    def to_time_window(self) -> TimeWindow:
        return TimeWindow(self.start, self.end)


class Flags(_Strict):
    """What kind of change a release carries."""

    db_migration: bool = False
    migration_reversible: bool | None = Field(
        default=None, description="Only meaningful with db_migration; None means nobody said.")
    feature_flagged: bool = False
    contract_change: bool = False


class Commit(_Strict):
    """A commit of the release: a sha, optionally with its message and changed paths (else read from git)."""

    sha: str = Field(min_length=4, max_length=64, pattern=r"^[0-9A-Za-z]+$")
    message: str | None = None
    author: str | None = None
    files: tuple[str, ...] = ()


class Release(_Strict):
    """One release of one service in the train."""

    service: str = Field(min_length=1)
    version: str = Field(min_length=1)
    team: str | None = Field(default=None, description="Owning team; defaults to the catalog owner.")
    commits: tuple[Commit, ...] = ()
    commit_range: str | None = Field(default=None, description="FROM..TO in git notation (FROM may be empty).")
    prs: tuple[str, ...] = ()
    flags: Flags = Flags()
    ci_status: Literal["passed", "failed", "running", "pending", "unknown"] = "unknown"
    approvals: tuple[str, ...] = ()
    previous_version: str | None = Field(
        default=None, description="Rollback target; defaults to the last succeeded production deployment.")
    window: Window | None = None

    @field_validator("version", "previous_version", mode="before")
    @classmethod
    def _version_is_text(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(f"version {value!r} must be a quoted string (YAML reads 1.10 as the number 1.1)")
        return value

    @field_validator("commits", mode="before")
    @classmethod
    def _sha_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"sha": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("prs", mode="before")
    @classmethod
    def _pr_ids_as_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(item) if isinstance(item, int) and not isinstance(item, bool) else item for item in value]
        return value

    @field_validator("commit_range")
    @classmethod
    def _range_form(cls, value: str | None) -> str | None:
        if value is not None and not COMMIT_RANGE.match(value):
            raise ValueError(f"commit_range {value!r} is not FROM..TO (e.g. 9f1c2ab..77d0e3c or ..77d0e3c)")
        return value

    @model_validator(mode="after")
    def _carries_something(self) -> Release:
        if not (self.commits or self.commit_range or self.prs):
            raise ValueError("a release must carry commits, a commit_range or prs")
        if self.flags.migration_reversible is not None and not self.flags.db_migration:
            raise ValueError("flags.migration_reversible is set but flags.db_migration is false")
        return self

    @property
    def commit_bounds(self) -> tuple[str | None, str] | None:
        """(FROM or None, TO) of `commit_range`, or None."""
        if self.commit_range is None:
            return None
        match = COMMIT_RANGE.match(self.commit_range)
        assert match is not None
        return (match["start"] or None, match["end"])


class Train(_Strict):
    """A release train: releases that ship together, with an optional default window."""

    name: str = Field(min_length=1)
    window: Window | None = Field(default=None, description="Default window for releases without their own.")
    releases: tuple[Release, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_release_per_service(self) -> Train:
        seen: dict[str, int] = {}
        for index, release in enumerate(self.releases):
            if release.service in seen:
                raise ValueError(f"service {release.service!r} appears twice: releases[{seen[release.service]}] "
                                 f"and releases[{index}]")
            seen[release.service] = index
        return self

    @property
    def services(self) -> list[str]:
        return [release.service for release in self.releases]

    def window_for(self, service: str) -> Window | None:
        """The release's own window, else the train's."""
        release = self.release(service)
        return release.window or self.window

    def release(self, service: str) -> Release:
        for release in self.releases:
            if release.service == service:
                return release
        raise KeyError(service)


def _location(raw: Any, loc: tuple[Any, ...]) -> tuple[str, str | None]:
    """('releases[2].flags.db_migration', 'checkout-api') from a pydantic error location."""
    parts: list[str] = []
    service = None
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        else:
            parts.append(str(item))
    if len(loc) >= 2 and loc[0] == "releases" and isinstance(loc[1], int):
        try:
            entry = raw["releases"][loc[1]]
            service = entry.get("service") if isinstance(entry, dict) else None
        except (KeyError, IndexError, TypeError):
            service = None
    return ".".join(parts) or "(top level)", service


def parse_train(raw: Any, *, source: str = "train") -> Train:
    """Validate an already-parsed document; every problem is listed in one InputError."""
    if not isinstance(raw, dict):
        raise InputError(f"expected a mapping with 'name' and 'releases', got {type(raw).__name__}", source=source)
    try:
        return Train.model_validate(raw)
    except ValidationError as exc:
        problems = []
        first_field = None
        for error in exc.errors()[:MAX_ERRORS_SHOWN]:
            where, service = _location(raw, tuple(error["loc"]))
            first_field = first_field or where
            who = f" (service {service})" if service else ""
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}{who}: {message}")
        more = exc.error_count() - len(problems)
        suffix = f"; and {more} more" if more > 0 else ""
        raise InputError("invalid train: " + "; ".join(problems) + suffix, source=source) from None


def read_document(path: Path) -> Any:
    """Parse a YAML or JSON file (by extension; YAML otherwise), naming the file and line on failure."""
    if not path.exists():
        raise InputError("file not found", source=str(path))
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                         source=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise InputError(f"not valid YAML{at}: {getattr(exc, 'problem', exc)}", source=str(path)) from None


def check_services(train: Train, known_services: Iterable[str], *, source: str = "train") -> None:
    """Raise an InputError naming every release whose service is not in the catalog."""
    known = set(known_services)
    unknown = []
    for index, release in enumerate(train.releases):
        if release.service not in known:
            close = difflib.get_close_matches(release.service, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            unknown.append(f"releases[{index}]: service {release.service!r} is not in the catalog{hint}")
    if unknown:
        raise InputError("unknown services: " + "; ".join(unknown), source=source, field="service")


def load_train(path: Path | str, known_services: Iterable[str] | None = None) -> Train:
    """Read, validate and (when `known_services` is given) check the services of a train file."""
    path = Path(path)
    train = parse_train(read_document(path), source=str(path))
    if known_services is not None:
        check_services(train, known_services, source=str(path))
    return train
