"""Staged rollout per release, sized by risk and blast radius.

A release's failure probability picks a risk band; a wide blast radius makes the band stricter. The band
gives a ladder of traffic weights (smaller first steps when riskier), a base bake time per step (scaled up
by risk and blast radius) and the health gate for the steps. When the catalog lists regions (or tenants),
the canary steps run inside the quietest region (or first tenant) and the rest follow region by region.
Monotone by construction: more risk or a wider blast radius never gives a larger first step or a shorter
bake; the policy validator refuses ladders that would break this.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

BANDS = ("low", "medium", "high", "critical")
DEFAULT_BAND_FLOORS = {"low": 0.0, "medium": 0.1, "high": 0.25, "critical": 0.5}   # p_fail at which a band starts
DEFAULT_LADDERS = {
    "low": (10, 50, 100),
    "medium": (5, 25, 50, 100),
    "high": (1, 5, 25, 50, 100),
    "critical": (1, 2, 5, 10, 25, 50, 100),
}
DEFAULT_BAKE_MINUTES = {"low": 10, "medium": 20, "high": 30, "critical": 60}
DEFAULT_GATES = {"low": "error_rate", "medium": "error_rate_latency", "high": "error_rate_latency_saturation",
                 "critical": "error_rate_latency_saturation"}
DEFAULT_CANARY_GATE = "canary_vs_baseline"
DEFAULT_FINAL_GATE = "post_deploy_health"
DEFAULT_WIDE_BLAST_RADIUS = 10.0      # dependents at which the band gets one step stricter
DEFAULT_VERY_WIDE_BLAST_RADIUS = 50.0  # ... and two steps stricter
DEFAULT_RISK_BAKE_FACTOR = 1.0         # bake x (1 + factor x p_fail)
DEFAULT_BLAST_BAKE_FACTOR = 0.25       # bake x (1 + factor x log1p(blast radius))
DEFAULT_BAKE_ROUND_MINUTES = 5
DEFAULT_MAX_BAKE_MINUTES = 240
DEFAULT_REGIONS_PER_STEP = {"low": 0, "medium": 2, "high": 1, "critical": 1}    # 0 = all remaining at once

Isolation = Literal["region", "tenant", "none"]


class RolloutPolicy(BaseModel):
    """Ladders, bakes and gates per risk band, and how blast radius tightens them."""

    band_floors: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_BAND_FLOORS))
    ladders: dict[str, tuple[int, ...]] = Field(default_factory=lambda: dict(DEFAULT_LADDERS))
    bake_minutes: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_BAKE_MINUTES))
    gates: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_GATES))
    canary_gate: str = DEFAULT_CANARY_GATE
    final_gate: str = DEFAULT_FINAL_GATE
    wide_blast_radius: float = Field(DEFAULT_WIDE_BLAST_RADIUS, gt=0)
    very_wide_blast_radius: float = Field(DEFAULT_VERY_WIDE_BLAST_RADIUS, gt=0)
    risk_bake_factor: float = Field(DEFAULT_RISK_BAKE_FACTOR, ge=0)
    blast_bake_factor: float = Field(DEFAULT_BLAST_BAKE_FACTOR, ge=0)
    bake_round_minutes: int = Field(DEFAULT_BAKE_ROUND_MINUTES, ge=1)
    max_bake_minutes: int = Field(DEFAULT_MAX_BAKE_MINUTES, ge=1)
    regions_per_step: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_REGIONS_PER_STEP))
    prefer: Isolation = "region"

    @model_validator(mode="after")
    def _monotone(self) -> RolloutPolicy:
        for table in ("band_floors", "ladders", "bake_minutes", "gates", "regions_per_step"):
            missing = [b for b in BANDS if b not in getattr(self, table)]
            if missing:
                raise ValueError(f"rollout.{table}: missing band(s) {missing}")
        floors = [self.band_floors[b] for b in BANDS]
        if floors != sorted(floors) or floors[0] != 0.0:
            raise ValueError(f"rollout.band_floors must start at 0 and increase along {BANDS}")
        for band, ladder in self.ladders.items():
            if not ladder or list(ladder) != sorted(set(ladder)) or ladder[-1] != 100 or ladder[0] <= 0:
                raise ValueError(f"rollout.ladders.{band}: expected increasing percentages ending at 100")
        firsts = [self.ladders[b][0] for b in BANDS]
        bakes = [self.bake_minutes[b] for b in BANDS]
        if firsts != sorted(firsts, reverse=True):
            raise ValueError("rollout.ladders: a stricter band may not start with a larger first step")
        if bakes != sorted(bakes):
            raise ValueError("rollout.bake_minutes: a stricter band may not bake for less time")
        if self.very_wide_blast_radius < self.wide_blast_radius:
            raise ValueError("rollout.very_wide_blast_radius must be at least wide_blast_radius")
        return self


@dataclass(frozen=True)
class RolloutRelease:
    """What the rollout plan needs to know about one release."""

    release_id: str
    service: str
    risk: float
    blast_radius: float = 0.0
    regions: Sequence[str] = ()
    region_traffic: Mapping[str, float] = field(default_factory=dict)   # requests per region, if known
    tenants: Sequence[str] = ()


@dataclass(frozen=True)
class RolloutStep:
    """One step: where the new version runs, at what weight, how long to bake and which gate to pass."""

    index: int
    scope: Literal["traffic", "region", "tenant"]
    targets: tuple[str, ...]        # regions or tenants this step covers ("*" for all traffic)
    weight_percent: int             # traffic weight of the new version inside the targets
    exposure_percent: float         # approximate share of all traffic on the new version after this step
    bake_minutes: int
    gate: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "scope": self.scope, "targets": list(self.targets),
                "weight_percent": self.weight_percent, "exposure_percent": round(self.exposure_percent, 3),
                "bake_minutes": self.bake_minutes, "gate": self.gate}


@dataclass(frozen=True)
class RolloutPlan:
    release_id: str
    band: str
    isolation: Isolation
    steps: tuple[RolloutStep, ...]
    why: str

    @property
    def total_bake_minutes(self) -> int:
        return sum(s.bake_minutes for s in self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {"release_id": self.release_id, "band": self.band, "isolation": self.isolation,
                "steps": [s.as_dict() for s in self.steps], "total_bake_minutes": self.total_bake_minutes,
                "why": self.why}


def risk_band(risk: float, blast_radius: float, policy: RolloutPolicy) -> tuple[str, str]:
    """The band for this risk, made stricter by a wide blast radius; and why."""
    level = max(i for i, b in enumerate(BANDS) if risk >= policy.band_floors[b])
    why = f"risk {risk:.2f} is {BANDS[level]} (>= {policy.band_floors[BANDS[level]]:.2f})"
    bump = 2 if blast_radius >= policy.very_wide_blast_radius else 1 if blast_radius >= policy.wide_blast_radius else 0
    if bump and level < len(BANDS) - 1:
        level = min(level + bump, len(BANDS) - 1)
        why += f"; blast radius {blast_radius:g} is wide: band raised to {BANDS[level]}"
    return BANDS[level], why


def bake_minutes(band: str, risk: float, blast_radius: float, policy: RolloutPolicy) -> int:
    """Base bake of the band x (1 + risk factor) x (1 + blast factor), rounded up, capped."""
    raw = policy.bake_minutes[band] * (1 + policy.risk_bake_factor * risk) \
        * (1 + policy.blast_bake_factor * math.log1p(max(blast_radius, 0.0)))
    step = policy.bake_round_minutes
    return min(policy.max_bake_minutes, int(math.ceil(raw / step - 1e-9) * step))


def plan_rollout(release: RolloutRelease, policy: RolloutPolicy | None = None) -> RolloutPlan:
    """Steps, bake and gates for one release."""
    policy = policy or RolloutPolicy()
    if not 0.0 <= release.risk <= 1.0:
        from releasepilot.errors import InputError

        raise InputError(f"risk {release.risk} is outside [0, 1]", source=release.release_id, field="risk")
    band, why = risk_band(release.risk, release.blast_radius, policy)
    bake = bake_minutes(band, release.risk, release.blast_radius, policy)
    ladder = policy.ladders[band]
    isolation = _isolation(release, policy)
    if isolation == "none":
        steps = [(("*",), "traffic", w, float(w)) for w in ladder]
        where = "traffic weights"
    else:
        units, shares = _units(release, isolation)
        steps = [((units[0],), isolation, w, shares[0] * w) for w in ladder]
        per_step = policy.regions_per_step[band] or len(units)
        done = shares[0]
        for i in range(1, len(units), per_step):
            group = units[i: i + per_step]
            done += sum(shares[i: i + per_step])
            steps.append((tuple(group), isolation, 100, min(done * 100, 100.0)))
        where = (f"canary in {isolation} {units[0]} ({'lowest traffic' if isolation == 'region' else 'first'}), "
                 f"then {isolation}s {'one' if per_step == 1 else per_step} at a time")
    out = []
    for i, (targets, scope, weight, exposure) in enumerate(steps):
        gate = policy.canary_gate if i == 0 else policy.final_gate if i == len(steps) - 1 else policy.gates[band]
        out.append(RolloutStep(index=i + 1, scope=scope, targets=targets, weight_percent=weight,
                               exposure_percent=exposure, bake_minutes=bake, gate=gate))
    why += (f"; ladder {'/'.join(map(str, ladder))} by {where}; bake {bake} min per step "
            f"(band {policy.bake_minutes[band]} min scaled by risk and blast radius)")
    return RolloutPlan(release_id=release.release_id, band=band, isolation=isolation, steps=tuple(out), why=why)


def _isolation(release: RolloutRelease, policy: RolloutPolicy) -> Isolation:
    order = ("region", "tenant") if policy.prefer != "tenant" else ("tenant", "region")
    if policy.prefer == "none":
        return "none"
    for kind in order:
        if len(release.regions if kind == "region" else release.tenants) >= 2:
            return kind
    return "none"


def _units(release: RolloutRelease, kind: str) -> tuple[list[str], list[float]]:
    """Regions by increasing traffic (even split when unknown) or tenants in catalog order."""
    if kind == "tenant":
        units = list(dict.fromkeys(release.tenants))
        return units, [1.0 / len(units)] * len(units)
    units = list(dict.fromkeys(release.regions))
    traffic = {u: float(release.region_traffic.get(u, 0.0)) for u in units}
    total = sum(traffic.values())
    if total <= 0:
        return units, [1.0 / len(units)] * len(units)
    units.sort(key=lambda u: (traffic[u], u))
    return units, [traffic[u] / total for u in units]
