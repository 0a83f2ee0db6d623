/* Upcoming page: planned trains (newest first) and their releases with risk, decision, window, conditions. */
(function () {
  "use strict";
  const { api, el, clear, listOf, pick, pct, when, badge, table, start, release, planOf, windowText } = RP;
  const MAX_TRAINS = 12;

  function releaseLink(planId, service) {
    return el("a", { href: "/releases/" + encodeURIComponent(planId) + "/" + encodeURIComponent(service),
      class: "release-link", text: service });
  }

  function trainCard(summary, plan) {
    const planId = pick(summary, "plan_id") || plan.plan_id;
    const overrides = listOf(plan.overrides || [], "overrides");
    const effective = (plan.effective && plan.effective.releases) || {};
    const releases = listOf(plan.releases || [], "releases").map(r => release(r, overrides, effective[r.service]));
    const decision = pick(summary, "decision") || pick(plan.decision || {}, "decision");
    const pTrain = pick(summary, "p_fail", "failure_probability") ?? pick(plan.risk || {}, "train_failure_probability");
    const header = el("div", { class: "train-head" }, [
      el("h3", {}, [pick(summary, "train", "train_name") || plan.train || planId, " ", badge(typeof decision === "string" ? decision : "?")]),
      el("span", { class: "muted" }, ["plan ", el("code", { text: planId }), " · created ", when(pick(summary, "created_at") || plan.created_at),
        " · train risk ", pct(pTrain), " · window ", windowText(pick(summary, "window"))]),
    ]);
    const rows = table(releases, [
      { label: "release", value: r => releaseLink(planId, r.service) },
      { label: "version", value: r => r.version },
      { label: "team", value: r => r.team },
      { label: "risk", value: r => el("span", { class: "risk " + (r.scored ? "" : "muted"), text: r.scored ? pct(r.p) : "not scored" }) },
      { label: "decision", value: r => el("span", {}, [badge(r.decision), r.override ? el("small", { class: "muted", text: " (override by " + r.override.by + ")" }) : null]) },
      { label: "window", value: r => windowText(r.window) },
      { label: "conditions", value: r => r.conditions.length ? el("ul", { class: "compact" }, r.conditions.map(c => el("li", { text: c }))) : "–" },
    ], { class: "releases" });
    return { node: el("article", { class: "train panel", "data-plan": planId }, [header, rows]), releases };
  }

  async function load() {
    const box = clear(document.getElementById("trains"));
    const plans = listOf(await api("/plans"), "plans", "items").slice(0, MAX_TRAINS);
    if (!plans.length) { box.append(el("p", { class: "muted", text: "No planned trains yet: run `releasepilot plan --train FILE`." })); }
    const details = await Promise.all(plans.map(p => api("/plans/" + encodeURIComponent(p.plan_id)).then(planOf)));
    let total = 0, scored = 0, nogo = 0;
    plans.forEach((summary, i) => {
      const { node, releases } = trainCard(summary, details[i]);
      box.append(node);
      total += releases.length;
      scored += releases.filter(r => r.scored).length;
      nogo += releases.filter(r => RP.decisionClass(r.decision) === "nogo").length;
    });
    document.getElementById("stat-trains").textContent = String(plans.length);
    document.getElementById("stat-releases").textContent = String(total);
    document.getElementById("stat-scored").textContent = total ? pct(scored / total, 0) : "–";
    document.getElementById("stat-scored-sub").textContent = scored + " of " + total + " releases";
    document.getElementById("stat-nogo").textContent = String(nogo);
  }

  start(load);
})();
