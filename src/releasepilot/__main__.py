"""`python -m releasepilot`: the same CLI as the `releasepilot` command."""

from releasepilot.cli import main

main()
