"""The CLI starts fast: `--help` imports none of the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["mlflow", "evidently", "great_expectations", "catboost", "dbt", "prefect", "sklearn", "polars",
         "duckdb", "fastapi", "ortools", "networkx", "scipy", "pandas"]


def test_help_imports_no_heavy_library():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from releasepilot.cli import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"heavy modules imported by --help: {out.stdout.strip()}"


def test_every_command_offers_json():
    from typer.main import get_command

    from releasepilot.cli import app

    def leaves(command, path=()):
        children = getattr(command, "commands", None)
        if children:                                    # a group such as `token`: check its subcommands
            for name, child in children.items():
                yield from leaves(child, (*path, name))
        else:
            yield " ".join(path), command

    missing = [name for name, command in leaves(get_command(app))
               if not any("--json" in param.opts for param in command.params)]
    assert not missing, f"commands without --json: {missing}"
