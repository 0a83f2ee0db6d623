"""Errors a user can act on: each names the file, row or field and what was expected."""

from __future__ import annotations


class ReleasePilotError(Exception):
    """Base class: the CLI prints the message and exits with `exit_code`."""

    exit_code = 2


class InputError(ReleasePilotError):
    """A file or record the user gave us is not what we expected."""

    def __init__(self, message: str, *, source: str | None = None, row: int | None = None,
                 field: str | None = None):
        where = ", ".join(
            part for part in (
                source and f"{source}",
                row is not None and f"row {row}",
                field and f"field '{field}'",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.source, self.row, self.field = source, row, field


class NotReadyError(ReleasePilotError):
    """A step needs something that has not been built yet (a warehouse, a champion model...)."""

    exit_code = 3
