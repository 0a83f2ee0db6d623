"""Deploy targets: how a rollout step or a rollback is carried out (simulated, command, webhook)."""

from releasepilot.rollout.targets.base import DeployError, DeployResult, DeployTarget, RolloutStep

__all__ = ["DeployError", "DeployResult", "DeployTarget", "RolloutStep"]
