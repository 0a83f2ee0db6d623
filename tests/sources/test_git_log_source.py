"""git log reader against a real repository made by the test (rename, binary file, offsets)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess

import pytest

from releasepilot.errors import InputError
from releasepilot.sources import GitLogSource
from releasepilot.sources.git_log import renamed_path


def _git(repo, *args, date="2025-03-04T10:15:00+01:00"):
    env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date, GIT_AUTHOR_NAME="Alice Ng",
               GIT_AUTHOR_EMAIL="alice.ng@example.com", GIT_COMMITTER_NAME="Alice Ng",
               GIT_COMMITTER_EMAIL="alice.ng@example.com", GIT_CONFIG_NOSYSTEM="1", HOME=str(repo.parent))
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env, text=True)


@pytest.fixture()
def repo(tmp_path):
    repo = tmp_path / "checkout-api"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "src" / "cart").mkdir(parents=True)
    (repo / "src" / "cart" / "total.py").write_text("".join(f"line {i}\n" for i in range(20)))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "feat: first\n\nbody line")
    _git(repo, "mv", "src/cart/total.py", "src/cart/sum.py")
    (repo / "logo.png").write_bytes(bytes(range(256)) * 4)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "refactor: rename and add logo", date="2025-03-05T09:00:00-05:00")
    return repo


def test_reads_commits_files_renames_and_binaries(repo):
    data = GitLogSource(repo).read()
    commits = data["commits"].sort("authored_at")
    assert commits["repo"].to_list() == ["checkout-api", "checkout-api"]
    assert commits["author"].to_list() == ["alice.ng", "alice.ng"]
    assert commits["authored_at"].to_list() == [dt.datetime(2025, 3, 4, 9, 15), dt.datetime(2025, 3, 5, 14, 0)]
    assert commits["message"][0] == "feat: first\n\nbody line"
    files = {(r["path"], r["added"], r["deleted"]) for r in data["commit_files"].iter_rows(named=True)}
    assert ("src/cart/total.py", 20, 0) in files
    assert ("src/cart/sum.py", 0, 0) in files        # pure rename, stored under the new path
    assert ("logo.png", 0, 0) in files               # binary: git prints '-'
    assert len(data["commit_files"]) == 3


def test_repo_name_can_be_given(repo):
    source = GitLogSource.from_spec(f"payments-api={repo}")
    assert set(source.read()["commits"]["repo"]) == {"payments-api"}


def test_not_a_repository_is_an_error(tmp_path):
    with pytest.raises(InputError, match="git log failed"):
        GitLogSource(tmp_path).read()


def test_empty_repository_has_no_commits(tmp_path):
    _git(tmp_path, "init", "-q")
    assert GitLogSource(tmp_path).read()["commits"].height == 0


@pytest.mark.parametrize(("text", "expected"), [
    ("src/{cart => basket}/total.py", "src/basket/total.py"),
    ("src/{ => new}/x.py", "src/new/x.py"),
    ("{old => new}/x.py", "new/x.py"),
    ("a.py => b.py", "b.py"),
    ("plain/path.py", "plain/path.py"),
])
def test_renamed_path(text, expected):
    assert renamed_path(text) == expected
