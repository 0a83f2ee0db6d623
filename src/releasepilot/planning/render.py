"""Markdown and table renderings of a plan (for the CLI, the Prefect artifacts and the README demo)."""

from __future__ import annotations

from typing import Any


def _pct(p: float | None) -> str:
    return "unavailable" if p is None else f"{p:.1%}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_rows(plan: Any) -> list[dict[str, Any]]:
    """One row per release: the table shown by the CLI and published as a Prefect table artifact."""
    wave = {s: w.index for w in plan.order.waves for s in w.services}
    rows = []
    for r in plan.releases:
        rows.append({"service": r.service, "version": r.version, "team": r.team or "",
                     "decision": r.decision.decision.value, "failure_probability": r.decision.failure_probability,
                     "blast_radius": r.blast.size, "wave": wave.get(r.service),
                     "window": r.window.start.isoformat() if r.window else None,
                     "best_window": r.windows.best[0].start.isoformat() if r.windows.best else None,
                     "rollout": "/".join(str(s.weight_percent) for s in r.rollout.steps) + f" ({r.rollout.band})",
                     "conditions": len(r.decision.conditions)})
    return rows


def plan_markdown(plan: Any) -> str:
    """The whole plan as markdown: decision, releases, conflicts, waves, rollouts, readiness, notes."""
    d = plan.decision
    headline = (f"**Decision: {d.decision.value}**" + (f" (recommended {d.recommended.value})" if d.override else "")
                + f" · train failure probability {_pct(d.failure_probability)}")
    out = [f"# Release plan: {plan.train}", "", headline, "",
           f"- plan id: `{plan.plan_id or 'not stored'}`; {plan.note}",
           f"- risk: {plan.risk_note}", ""]
    if d.reasons:
        out += ["## Why", *(f"- {_cell(x.text)}" for x in d.reasons), ""]
    out += ["## Releases", "",
            "| service | version | decision | p(fail) | blast radius | wave | window | rollout | conditions |",
            "|---|---|---|---|---|---|---|---|---|"]
    for row in summary_rows(plan):
        out.append("| " + " | ".join(_cell(x) for x in (
            row["service"], row["version"], row["decision"], _pct(row["failure_probability"]), row["blast_radius"],
            row["wave"], row["window"] or "-", row["rollout"], row["conditions"])) + " |")
    out.append("")
    if plan.conflicts:
        out += ["## Conflicts", *(f"- **{c.kind}** ({', '.join(c.services)}): {_cell(c.text)}" for c in plan.conflicts), ""]
    out += ["## Deploy order", *(f"{w.index}. {', '.join(w.services)}: {_cell(w.why)}" for w in plan.order.waves), ""]
    for r in plan.releases:
        status = (f"**{r.decision.decision.value}** · risk {_pct(r.decision.failure_probability)} · "
                  f"previous version {r.previous_version or 'none'}")
        out += [f"## {r.service} {r.version}", "", status, ""]
        if r.risk and r.risk.drivers:
            out += ["Risk drivers:", *(f"- {_cell(x.text)}" for x in r.risk.drivers), ""]
        b = r.blast
        out += [f"Blast radius: {b.size} dependent(s) ({len(b.direct)} direct)"
                + (f": {', '.join(b.transitive[:12])}{' ...' if b.size > 12 else ''}" if b.size else ""), ""]
        out += [f"Windows: {_cell(r.windows.comparison)}", ""]
        out += ["Rollout: " + _cell(r.rollout.why), "",
                "| step | scope | targets | weight | bake (min) | gate |", "|---|---|---|---|---|---|"]
        out += [f"| {s.index} | {s.scope} | {', '.join(s.targets)} | {s.weight_percent}% | {s.bake_minutes} | {s.gate} |"
                for s in r.rollout.steps]
        out += ["", "Readiness:", *(f"- {c.name}: **{c.status}** ({_cell(c.detail)}; {c.source})"
                                    for c in r.decision.checks), ""]
        if r.decision.conditions:
            out += ["Conditions:", *(f"- {_cell(c)}" for c in r.decision.conditions), ""]
    out += [plan.notes.replace("# Release notes", "## Release notes", 1)]
    return "\n".join(out).rstrip() + "\n"
