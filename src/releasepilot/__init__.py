"""ReleasePilot."""
