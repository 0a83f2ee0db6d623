"""Markdown release notes for a train, from its commits.

Commit messages are read as Conventional Commits (`type(scope)!: subject`, `BREAKING CHANGE:` footers);
other messages are listed under "Other changes". Notes are grouped by service, breaking changes first
(across the train at the top, then first within each service), then by type; each release shows its
decision, predicted risk and conditions beside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

HEADER = re.compile(r"^(?P<type>[A-Za-z]+)(?:\((?P<scope>[^()\r\n]*)\))?(?P<bang>!)?:[ \t]+(?P<subject>\S.*)$")
BREAKING_FOOTER = re.compile(r"^BREAKING[ -]CHANGE:[ \t]*(?P<note>.*)$", re.MULTILINE)
SHORT_SHA = 7
TYPE_TITLES = {
    "feat": "Features",
    "fix": "Bug fixes",
    "perf": "Performance",
    "revert": "Reverts",
    "refactor": "Refactoring",
    "docs": "Documentation",
    "test": "Tests",
    "build": "Build",
    "ci": "CI",
    "chore": "Chores",
    "style": "Style",
    "other": "Other changes",
}


@dataclass(frozen=True)
class ParsedCommit:
    sha: str
    type: str            # a key of TYPE_TITLES ("other" when not conventional or an unknown type)
    scope: str | None
    subject: str
    breaking: bool
    breaking_note: str | None


def parse_commit(sha: str, message: str) -> ParsedCommit:
    """Read one commit message as a Conventional Commit."""
    lines = (message or "").strip().splitlines()
    header = lines[0].strip() if lines else ""
    match = HEADER.match(header)
    footer = BREAKING_FOOTER.search(message or "")
    note = footer["note"].strip() or None if footer else None
    if not match:
        return ParsedCommit(sha, "other", None, header or "(no message)", footer is not None, note)
    kind = match["type"].lower()
    return ParsedCommit(sha, kind if kind in TYPE_TITLES else "other", (match["scope"] or "").strip() or None,
                        match["subject"].strip(), bool(match["bang"]) or footer is not None, note)


@dataclass(frozen=True)
class NotesRelease:
    """One release as the notes show it."""

    service: str
    version: str
    commits: Sequence[Mapping[str, str]]     # {sha, message}
    decision: str | None = None
    failure_probability: float | None = None
    conditions: Sequence[str] = ()
    override_by: str | None = None


def _line(commit: ParsedCommit, with_scope: bool = True) -> str:
    scope = f"**{commit.scope}:** " if with_scope and commit.scope else ""
    return f"- {scope}{commit.subject} (`{commit.sha[:SHORT_SHA]}`)"


def _breaking_line(commit: ParsedCommit) -> str:
    note = f": {commit.breaking_note}" if commit.breaking_note and commit.breaking_note != commit.subject else ""
    return _line(commit) + note


def _status(release: NotesRelease) -> str:
    parts = []
    if release.decision:
        who = f" (override by {release.override_by})" if release.override_by else ""
        parts.append(f"**{release.decision}**{who}")
    if release.failure_probability is not None:
        parts.append(f"risk {release.failure_probability:.0%}")
    return " · ".join(parts)


def release_notes(train_name: str, releases: Iterable[NotesRelease]) -> str:
    """The markdown notes of a train."""
    releases = list(releases)
    parsed = {r.service: [parse_commit(str(c["sha"]), str(c.get("message") or "")) for c in r.commits]
              for r in releases}
    out = [f"# Release notes: {train_name}", ""]
    breaking = [(r, c) for r in releases for c in parsed[r.service] if c.breaking]
    if breaking:
        out += ["## Breaking changes", ""]
        out += [f"- **{r.service} {r.version}**: " + _breaking_line(c)[2:] for r, c in breaking]
        out.append("")
    for release in releases:
        out += [f"## {release.service} {release.version}", ""]
        status = _status(release)
        if status:
            out += [status, ""]
        if release.conditions:
            out += ["Conditions:", *(f"- {c}" for c in release.conditions), ""]
        commits = parsed[release.service]
        if not commits:
            out += ["_No commits listed._", ""]
            continue
        own_breaking = [c for c in commits if c.breaking]
        if own_breaking:
            out += ["### ⚠ Breaking changes", *(_breaking_line(c) for c in own_breaking), ""]
        for kind, title in TYPE_TITLES.items():
            group = [c for c in commits if c.type == kind and not c.breaking]
            if group:
                out += [f"### {title}", *(_line(c) for c in group), ""]
    return "\n".join(out).rstrip() + "\n"
