"""Staged rollout: ladders by risk band, blast radius tightening, geo/tenant isolation, monotone sizing."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from releasepilot.errors import InputError
from releasepilot.planning.rollout_plan import RolloutPolicy, RolloutRelease, plan_rollout, risk_band

RISKS = [0.0, 0.02, 0.09, 0.1, 0.15, 0.24, 0.25, 0.4, 0.49, 0.5, 0.8, 1.0]
BLASTS = [0, 1, 3, 9, 10, 25, 49, 50, 200]


def _plan(risk, blast=0.0, **kw):
    return plan_rollout(RolloutRelease(release_id="r", service="api", risk=risk, blast_radius=blast, **kw))


def test_low_risk_gets_short_ladder_and_high_risk_small_first_step():
    low, high = _plan(0.02), _plan(0.3)
    assert [s.weight_percent for s in low.steps] == [10, 50, 100]
    assert [s.weight_percent for s in high.steps] == [1, 5, 25, 50, 100]
    assert high.steps[0].bake_minutes > low.steps[0].bake_minutes
    assert low.steps[0].gate == "canary_vs_baseline" and low.steps[-1].gate == "post_deploy_health"
    assert high.steps[2].gate == "error_rate_latency_saturation"
    assert "ladder 1/5/25/50/100" in high.why and "high" in high.why


def test_wide_blast_radius_raises_the_band():
    assert risk_band(0.02, 0, RolloutPolicy())[0] == "low"
    band, why = risk_band(0.02, 12, RolloutPolicy())
    assert band == "medium" and "blast radius 12" in why
    assert risk_band(0.02, 80, RolloutPolicy())[0] == "high"
    assert risk_band(0.6, 80, RolloutPolicy())[0] == "critical"


@pytest.mark.parametrize("geo", [{}, {"regions": ["us", "eu", "ap"], "region_traffic": {"us": 5, "eu": 3, "ap": 1}},
                                 {"tenants": ["acme", "globex", "initech", "umbrella"]}])
def test_monotone_over_risk_and_blast_grid(geo):
    """More risk or a wider blast radius never gives a larger first step or a shorter bake."""
    plans = {(r, b): _plan(r, b, **geo) for r, b in itertools.product(RISKS, BLASTS)}
    for (r1, b1), (r2, b2) in itertools.product(plans, repeat=2):
        if r1 <= r2 and b1 <= b2:
            p1, p2 = plans[(r1, b1)], plans[(r2, b2)]
            assert p2.steps[0].exposure_percent <= p1.steps[0].exposure_percent, (r1, b1, r2, b2)
            assert p2.steps[0].bake_minutes >= p1.steps[0].bake_minutes, (r1, b1, r2, b2)
            assert len(p2.steps) >= len(p1.steps), (r1, b1, r2, b2)
    # and the grid is not trivially flat
    assert len({p.steps[0].bake_minutes for p in plans.values()}) > 5
    assert len({p.steps[0].exposure_percent for p in plans.values()}) >= 3


def test_regions_go_quietest_first_one_at_a_time_when_risky():
    plan = _plan(0.3, regions=["us", "eu", "ap"], region_traffic={"us": 600, "eu": 300, "ap": 100})
    assert plan.isolation == "region"
    canary = [s for s in plan.steps if s.targets == ("ap",)]
    assert [s.weight_percent for s in canary] == [1, 5, 25, 50, 100]
    assert [s.targets for s in plan.steps[len(canary):]] == [("eu",), ("us",)]
    assert plan.steps[0].exposure_percent == pytest.approx(0.1)        # 1% of a region with 10% of traffic
    assert plan.steps[-1].exposure_percent == pytest.approx(100.0)
    exposures = [s.exposure_percent for s in plan.steps]
    assert exposures == sorted(exposures)


def test_low_risk_regions_finish_in_one_step_after_the_first_region():
    plan = _plan(0.01, regions=["us", "eu", "ap"])        # no traffic known: catalog order
    assert [s.targets for s in plan.steps] == [("us",), ("us",), ("us",), ("eu", "ap")]
    assert plan.steps[0].exposure_percent == pytest.approx(10 / 3)


def test_tenants_used_when_no_regions_and_single_region_is_plain_traffic():
    tenants = _plan(0.3, tenants=["acme", "globex"], regions=["us"])
    assert tenants.isolation == "tenant" and tenants.steps[0].targets == ("acme",)
    plain = _plan(0.3, regions=["us"])
    assert plain.isolation == "none" and plain.steps[0].targets == ("*",)
    prefer = plan_rollout(RolloutRelease("r", "api", 0.3, regions=["us", "eu"], tenants=["a", "b"]),
                          RolloutPolicy(prefer="tenant"))
    assert prefer.isolation == "tenant"


def test_bake_is_capped_and_rounded():
    policy = RolloutPolicy(max_bake_minutes=45)
    plan = plan_rollout(RolloutRelease("r", "api", 0.9, blast_radius=500), policy)
    assert all(s.bake_minutes == 45 for s in plan.steps)
    assert all(s.bake_minutes % 5 == 0 for s in _plan(0.13, 3).steps)


def test_policy_refuses_non_monotone_ladders_and_bakes():
    with pytest.raises(ValidationError, match="first step"):
        RolloutPolicy(ladders={"low": (10, 100), "medium": (20, 100), "high": (1, 100), "critical": (1, 100)})
    with pytest.raises(ValidationError, match="bake"):
        RolloutPolicy(bake_minutes={"low": 30, "medium": 20, "high": 30, "critical": 60})
    with pytest.raises(ValidationError, match="ending at 100"):
        RolloutPolicy(ladders={"low": (10, 50), "medium": (5, 100), "high": (1, 100), "critical": (1, 100)})


def test_risk_outside_unit_interval_is_an_input_error():
    with pytest.raises(InputError, match="risk"):
        _plan(1.2)
