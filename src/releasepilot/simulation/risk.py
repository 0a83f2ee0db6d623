"""The true failure model: a logistic function of the drivers, with interactions, latent noise and drift.

docs/simulation.md states the same formula and coefficients; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from releasepilot.simulation.drivers import Drivers

SERVICE_NOISE_SD = 0.25     # latent per-service log-odds (visible to models only via history)
RELEASE_NOISE_SD = 0.2     # latent per-release log-odds (nobody can see it)


@dataclass(frozen=True)
class Coefficients:
    """Log-odds coefficients of the failure model (at t = 0; drift changes some over time)."""

    intercept: float = -4.0
    size: float = 0.75           # per unit of log1p(churn) - 5
    size_drift: float = 0.12     # size coefficient grows by this per year x drift
    files: float = 0.25          # per unit of log1p(files) - 2
    entropy: float = 0.15        # per bit of mean commit entropy
    inexperience: float = 0.8    # x exp(-min_exp / 20)
    big_x_inexperience: float = 0.9   # x max(log1p(churn) - 5, 0) x exp(-min_exp / 20)
    tests: float = -0.8          # x share of commits touching tests/
    fix: float = 0.2
    tier2: float = 0.2
    tier3: float = 0.4
    young: float = 0.9           # x exp(-age_days / 60)
    off_hours: float = 0.5
    traffic: float = 0.9         # x (traffic percentile - 0.5)
    no_oncall: float = 0.8
    concurrent: float = 0.3     # per concurrent release (capped at 3)
    multi_team: float = 0.3      # per module changed by other teams (capped at 3)
    contract: float = 3.0        # API contract change without a consumer's integration test
    contract_x_tier1: float = 0.4
    team_improves: float = -0.25  # per year x team skill x drift
    service_ages: float = 0.15    # per year x service aging rate x drift


COEFFICIENTS = Coefficients()


def logit(d: Drivers, team_skill: np.ndarray, aging: np.ndarray, drift: float,
          c: Coefficients = COEFFICIENTS) -> np.ndarray:
    """Deterministic part of the failure log-odds per deployment (latent noise added separately)."""
    size = np.log1p(d.churn) - 5.0
    inexp = np.exp(-d.min_exp / 20.0)
    years = d.years
    z = (c.intercept
         + (c.size + c.size_drift * drift * years) * size
         + c.files * (np.log1p(d.files) - 2.0)
         + c.entropy * d.entropy
         + c.inexperience * inexp
         + c.big_x_inexperience * np.maximum(size, 0.0) * inexp
         + c.tests * d.test_share
         + c.fix * d.fix
         + c.tier2 * (d.tier == 2) + c.tier3 * (d.tier == 3)
         + c.young * np.exp(-d.age_days / 60.0)
         + c.off_hours * d.off_hours
         + c.traffic * (d.traffic_pct - 0.5)
         + c.no_oncall * d.no_oncall
         + c.concurrent * np.minimum(d.concurrent, 3)
         + c.multi_team * np.minimum(d.multi_team, 3)
         + (c.contract + c.contract_x_tier1 * (d.tier == 1)) * d.contract
         + drift * years * (c.team_improves * team_skill + c.service_ages * aging))
    return z


def failure_probability(d: Drivers, service: np.ndarray, owner: np.ndarray, team_skill: np.ndarray,
                        aging: np.ndarray, drift: float, rng: np.random.Generator) -> np.ndarray:
    """p_fail per deployment: sigmoid(deterministic log-odds + latent service and release noise)."""
    service_noise = rng.normal(0.0, SERVICE_NOISE_SD, aging.size)
    z = logit(d, team_skill[owner], aging[service], drift)
    z = z + service_noise[service] + rng.normal(0.0, RELEASE_NOISE_SD, service.size)
    return 1.0 / (1.0 + np.exp(-z))
