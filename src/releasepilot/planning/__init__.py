"""Release planning: pure decisions (conflicts, readiness, windows, order, rollout, go/no-go, notes)."""
