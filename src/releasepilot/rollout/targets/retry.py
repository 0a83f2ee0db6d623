"""Retry with exponential backoff: deploy commands and webhooks fail transiently."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_ATTEMPTS = 3
DEFAULT_BASE_DELAY = 0.5       # seconds before the first retry; doubles each time
DEFAULT_MAX_DELAY = 10.0


def backoff_delays(attempts: int, base_delay: float = DEFAULT_BASE_DELAY,
                   max_delay: float = DEFAULT_MAX_DELAY) -> list[float]:
    """The sleeps between `attempts` tries: base, 2*base, 4*base... capped at `max_delay`."""
    return [min(base_delay * 2**i, max_delay) for i in range(max(attempts - 1, 0))]


def retry_with_backoff(action: Callable[[], T], *, attempts: int = DEFAULT_ATTEMPTS,
                       base_delay: float = DEFAULT_BASE_DELAY, max_delay: float = DEFAULT_MAX_DELAY,
                       retry_on: tuple[type[BaseException], ...] = (Exception,),
                       sleep: Callable[[float], None] = time.sleep) -> tuple[T, int]:
    """Call `action` until it returns; returns (result, attempts used); re-raises the last error."""
    if attempts < 1:
        raise ValueError("attempts must be >= 1")
    delays = backoff_delays(attempts, base_delay, max_delay)
    for attempt in range(1, attempts + 1):
        try:
            return action(), attempt
        except retry_on:
            if attempt == attempts:
                raise
            sleep(delays[attempt - 1])
    raise AssertionError("unreachable")  # pragma: no cover
