"""Executing a release: deploy targets, health sources, health gates, anomaly detection, rollback."""
