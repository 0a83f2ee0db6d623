"""Time for the executor: a wall clock that really sleeps, and a simulated clock that jumps.

The simulated clock lets tests and the demo run hours of bakes in milliseconds. Releases of a wave run
in parallel threads, each on its own branch of simulated time (`start_branch`), so one release's bake
does not push another's clock: each branch advances from the wave's start, and the shared time is the
latest any branch reached.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta

DEFAULT_SIM_START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


class Clock(ABC):
    """now() and sleep_until(); tz-aware UTC datetimes."""

    instant: bool = False          # True when sleeping costs no real time (nothing else can run meanwhile)

    @abstractmethod
    def now(self) -> datetime: ...

    @abstractmethod
    def sleep_until(self, moment: datetime) -> None:
        """Return at or after `moment` (at once when it is past)."""

    def start_branch(self, at: datetime) -> None:
        """Begin a parallel branch (a release's thread) at `at`."""

    def end_branch(self) -> None:
        """End this thread's branch."""


class WallClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep_until(self, moment: datetime) -> None:
        delay = (moment - self.now()).total_seconds()
        if delay > 0:
            time.sleep(delay)


class SimulatedClock(Clock):
    """Advances instantly; thread-local branches for parallel releases."""

    instant = True

    def __init__(self, start: datetime = DEFAULT_SIM_START):
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._now = start
        self._guard = threading.Lock()
        self._local = threading.local()

    def now(self) -> datetime:
        branch = getattr(self._local, "now", None)
        if branch is not None:
            return branch
        with self._guard:
            return self._now

    def sleep_until(self, moment: datetime) -> None:
        with self._guard:
            self._now = max(self._now, moment)
        if getattr(self._local, "now", None) is not None:
            self._local.now = max(self._local.now, moment)

    def advance(self, minutes: float) -> None:
        self.sleep_until(self.now() + timedelta(minutes=minutes))

    def start_branch(self, at: datetime) -> None:
        self._local.now = at

    def end_branch(self) -> None:
        self._local.now = None
