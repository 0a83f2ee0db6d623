"""A real local git repository, read with `git log --numstat`, into `raw.commits` and `raw.commit_files`.

Yields the same records as `commits.jsonl`. git runs with an argument list (never a shell). Renames
are reported under their new path (`src/{old => new}/x.py` becomes `src/new/x.py`); binary files,
which git counts as `-`, get 0 added and 0 deleted. The author is the local part of the author's
e-mail (the user id used across sources), or the author's name when there is no e-mail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polars as pl

from releasepilot.errors import InputError
from releasepilot.sources.base import Source
from releasepilot.sources.commits_jsonl import commit_frames

RECORD, UNIT = "\x1e", "\x1f"
LOG_FORMAT = f"--format={RECORD}%H{UNIT}%ae{UNIT}%an{UNIT}%aI{UNIT}%B{UNIT}"
GIT_TIMEOUT_SECONDS = 600
_BRACE_RENAME = re.compile(r"\{([^{}]*) => ([^{}]*)\}")
NAME_SEPARATOR = "="
EMPTY_REPO_MESSAGES = ("does not have any commits", "unknown revision", "bad revision 'HEAD'")


class GitLogSource(Source):
    """Commits of one local repository; the repo (service) name defaults to the folder name."""

    tables = ("commits", "commit_files")

    def __init__(self, path: Path, repo_name: str | None = None, rev: str = "HEAD"):
        super().__init__(path)
        self.repo_name = repo_name or self.path.resolve().name
        self.rev = rev
        self.name = f"git:{self.path}"

    @classmethod
    def from_spec(cls, spec: Path | str) -> GitLogSource:
        """`PATH` or `NAME=PATH` (as given to `--git-repo`), e.g. `checkout-api=../checkout`."""
        text = str(spec)
        name, sep, rest = text.partition(NAME_SEPARATOR)
        if sep and name and "/" not in name and not Path(text).exists():
            return cls(Path(rest), repo_name=name)
        return cls(Path(text))

    def read(self) -> dict[str, pl.DataFrame]:
        output = run_git_log(self.path, self.rev)
        records = parse_git_log(output, self.repo_name)
        raw = pl.DataFrame(records, schema={
            "sha": pl.String, "repo": pl.String, "author": pl.String, "timestamp": pl.String,
            "message": pl.String,
            "files": pl.List(pl.Struct({"path": pl.String, "added": pl.String, "deleted": pl.String})),
        }, orient="row")
        return commit_frames(raw, source=self.name, first_line=1)


def run_git_log(repo: Path, rev: str = "HEAD") -> str:
    """The raw `git log --numstat` text of `repo` ('' for a repository without commits)."""
    git = shutil.which("git")
    if git is None:
        raise InputError("the `git` program is needed to read repositories and was not found",
                         source=str(repo))
    if not Path(repo).is_dir():
        raise InputError("expected a folder holding a git repository", source=str(repo))
    args = [git, "-C", str(repo), "-c", "core.quotePath=false", "log", "--no-color", "--numstat", "-M",
            LOG_FORMAT, rev, "--"]
    done = subprocess.run(args, capture_output=True, timeout=GIT_TIMEOUT_SECONDS, check=False)
    stderr = done.stderr.decode("utf-8", errors="replace").strip()
    if done.returncode != 0:
        if rev == "HEAD" and any(text in stderr for text in EMPTY_REPO_MESSAGES):
            return ""
        raise InputError(f"git log failed: {stderr or done.returncode}", source=str(repo))
    return done.stdout.decode("utf-8", errors="replace")


def parse_git_log(output: str, repo_name: str) -> list[tuple]:
    """Parse `LOG_FORMAT` + `--numstat` output into (sha, repo, author, timestamp, message, files) rows."""
    rows = []
    for chunk in output.split(RECORD)[1:]:
        sha, email, author_name, timestamp, message, numstat = chunk.split(UNIT, 5)
        author = email.split("@", 1)[0] if email else author_name
        rows.append((sha, repo_name, author, timestamp, message.strip("\n"), parse_numstat(numstat)))
    return rows


def parse_numstat(text: str) -> list[dict[str, str]]:
    """`added<TAB>deleted<TAB>path` lines into dicts; binary `-` counts are kept for the common parser."""
    files = []
    for line in text.splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        added, deleted, path = parts
        files.append({"path": renamed_path(path), "added": added, "deleted": deleted})
    return files


def renamed_path(path: str) -> str:
    """The new path of a rename as numstat prints it: `a/{x => y}/f` -> `a/y/f`, `old => new` -> `new`."""
    if " => " not in path:
        return path
    if _BRACE_RENAME.search(path):
        return re.sub(r"/{2,}", "/", _BRACE_RENAME.sub(lambda m: m.group(2), path)).lstrip("/")
    return path.split(" => ", 1)[1]
