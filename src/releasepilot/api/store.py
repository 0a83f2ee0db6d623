"""Brief, serialised access to the warehouse from the API process.

DuckDB lets one process hold the file, and inside one process every connection to a file must share the
same configuration; so the API opens the warehouse read-write for each piece of work, one piece at a time
per file (a lock per path), and closes it at once. Another process (dbt, a rollout) can then take the file
between requests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

_LOCKS: dict[str, threading.RLock] = {}
_GUARD = threading.Lock()


def warehouse_lock(path: Path | str) -> threading.RLock:
    """The in-process lock of one warehouse file."""
    key = str(Path(path).resolve())
    with _GUARD:
        return _LOCKS.setdefault(key, threading.RLock())


@contextmanager
def open_warehouse(path: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection for one piece of work (the folder is made when missing); always closed."""
    from releasepilot.warehouse import connect

    with warehouse_lock(path), connect(Path(path)) as con:
        yield con
