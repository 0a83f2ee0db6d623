"""CLI command groups, one module per stage. Each module defines `register(app)`."""

from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = [
    "releasepilot.commands.history",   # simulate, ingest, build
    "releasepilot.commands.planning",  # plan, schedule, backtest, train-from-git, generate-train, override
    "releasepilot.commands.rollout",   # detect
    "releasepilot.commands.release",   # release, rollouts
    "releasepilot.commands.risk",      # train, models, score, evaluate, monitor
    "releasepilot.commands.stack",     # up, down, services
    "releasepilot.commands.api",       # serve, token create|list|revoke, gate
]


def register_all(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
