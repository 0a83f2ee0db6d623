"""The `releasepilot` command line.

Each command is a thin wrapper: parse options, call one library function, print the result either as
one JSON document (`--json`) or as rich tables for people. Heavy libraries are imported inside the
commands so that `releasepilot --help` starts fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from releasepilot.errors import ReleasePilotError

app = typer.Typer(
    name="releasepilot",
    help="Learn from release history; score, plan and execute multi-service releases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOption = typer.Option(False, "--json", help="Print one JSON document on stdout (for machines).")


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, default=_default, indent=2) + "\n")


def console():
    from rich.console import Console

    return Console(stderr=False)


@contextmanager
def progress_reporter(enabled: bool):
    """Yield an `on_progress(stage, done, total)` callback that drives a rich progress bar."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console(), transient=False) as bar:
        tasks: dict[str, int] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield on_progress


def run_command(body: Callable[[], None]) -> None:
    """Turn our errors into a message on stderr and a non-zero exit code."""
    try:
        body()
    except ReleasePilotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


def main() -> None:  # pragma: no cover - console entry point
    app()


def _register_commands() -> None:
    """Import the command modules; each adds its commands to `app` (they import heavy code lazily)."""
    from releasepilot.commands import register_all

    register_all(app)


_register_commands()
