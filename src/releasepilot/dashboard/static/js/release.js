/* Release page: risk gauge and reasons, blast radius graph, window heat map, live rollout (polled events,
   gates, health, approvals), override form with audit trail, release notes. */
(function () {
  "use strict";
  const { api, el, clear, pick, listOf, pct, num, when, badge, table, flash, chart, start, release, planOf, windowText } = RP;
  const root = document.getElementById("release-root");
  const PLAN = root.dataset.plan, SERVICE = root.dataset.service;
  const POLL_MS = 2000, IDLE_POLL_MS = 6000;
  const HEALTH_METRICS = ["error_rate", "latency_p99", "saturation", "throughput"];
  const state = { after: 0, events: [], timer: null, pending: [], health: new Map(), finished: false };
  const enc = encodeURIComponent;

  // ---- risk -------------------------------------------------------------------------------------
  function riskColour(p) { return p === null ? "#94a3b8" : p >= 0.3 ? "#dc2626" : p >= 0.15 ? "#d97706" : "#16a34a"; }

  function renderRisk(rel, plain) {
    const risk = typeof rel.risk === "object" && rel.risk ? rel.risk : {};
    const p = plain.p;
    document.getElementById("risk-value").textContent = p === null ? "not scored" : pct(p);
    chart("risk-gauge", { type: "doughnut", data: { labels: ["risk", ""], datasets: [{
      data: p === null ? [0, 1] : [p, 1 - p], backgroundColor: [riskColour(p), "#e5e7eb"], borderWidth: 0 }] },
      options: { rotation: -90, circumference: 180, cutout: "70%", responsive: false,
        plugins: { legend: { display: false }, tooltip: { enabled: false } } } });
    document.getElementById("risk-note").textContent = p === null
      ? (pick(rel, "risk_note") || "No risk score: the decision asks for a review by hand.")
      : "Failure probability from " + (pick(risk, "model") || "the risk model") + ".";
    const drivers = listOf(pick(risk, "drivers") || pick(rel, "drivers", "risk_reasons") || [], "drivers");
    const list = clear(document.getElementById("risk-reasons"));
    const biggest = Math.max(1e-9, ...drivers.map(d => Math.abs(Number(d.contribution) || 0)));
    for (const d of drivers) {
      const c = Number(d.contribution) || 0;
      list.append(el("li", { class: "reason " + (c > 0 ? "up" : "down") }, [
        el("span", { class: "bar", style: `width:${Math.round(60 * Math.abs(c) / biggest)}px` }),
        el("span", { text: d.text || (d.feature + " = " + d.value) }),
        el("small", { class: "muted", text: " (" + (c > 0 ? "+" : "") + num(c, 3) + ")" })]));
    }
    if (!drivers.length) list.append(el("li", { class: "muted", text: "no risk drivers (no score)" }));
  }

  // ---- decision, readiness ------------------------------------------------------------------------
  function renderDecision(rel, plain) {
    const decision = typeof rel.decision === "object" && rel.decision ? rel.decision : {};
    const b = document.getElementById("decision-badge");
    b.replaceWith(Object.assign(badge(plain.decision), { id: "decision-badge" }));
    const reasons = clear(document.getElementById("decision-reasons"));
    const items = listOf(pick(rel, "reasons") || pick(decision, "reasons") || [], "reasons");
    for (const r of items) {
      reasons.append(el("li", { class: "reason-line" }, [badge(r.decision), " ",
        el("span", { class: "kind", text: r.kind || "" }), " ", typeof r === "string" ? r : r.text]));
    }
    if (plain.override) {
      reasons.append(el("li", { class: "override-line" }, [badge(plain.override.decision),
        " override by " + plain.override.by + ": " + plain.override.reason + " (recommended " + (plain.recommended || "?") + ")"]));
    }
    const conditions = clear(document.getElementById("conditions"));
    for (const c of plain.conditions) conditions.append(el("li", { text: c }));
    if (!plain.conditions.length) conditions.append(el("li", { class: "muted", text: "none" }));
    const checks = listOf(pick(rel, "readiness", "checks") || pick(decision, "checks") || [], "checks");
    const body = clear(document.querySelector("#checks tbody"));
    for (const c of checks) {
      body.append(el("tr", { class: "check " + c.status }, [el("td", { text: c.name }),
        el("td", {}, el("span", { class: "status " + c.status, text: c.status })), el("td", { text: c.detail }),
        el("td", { class: "muted", text: c.source })]));
    }
  }

  // ---- blast radius ----------------------------------------------------------------------------
  function renderBlast(rel) {
    const blast = pick(rel, "blast_radius", "blast", "graph") || {};
    const graph = pick(rel, "graph");
    const drawn = RPGraph.render(document.getElementById("blast-graph"), graph && graph.nodes ? graph : blast, SERVICE);
    const direct = (blast.direct || []).length, size = pick(blast, "size") ?? (drawn.nodes - 1);
    const providers = graph && graph.nodes ? graph.nodes.filter(n => n.role === "provider").length : 0;
    document.getElementById("blast-summary").textContent =
      `${size} dependent services` + (direct ? `, ${direct} direct` : "") + (providers ? ` · depends on ${providers}` : "") +
      ` · ${drawn.edges} edges drawn (dependent → dependency)`;
  }

  // ---- window heat map ---------------------------------------------------------------------------
  /* [{start: Date, value, excluded, reasons}] from the API's heat map or the plan's best windows. */
  function heatCells(rel) {
    let raw = pick(rel, "heat_map", "heatmap", "windows_heatmap", "window_heatmap");
    if (raw && !Array.isArray(raw)) raw = pick(raw, "cells", "hours", "windows") || raw;
    if (!Array.isArray(raw)) {
      const windows = pick(rel, "windows") || {};
      raw = Array.isArray(windows) ? windows : (windows.all || windows.best || []);
    }
    return raw.map(c => ({ start: new Date(pick(c, "start", "hour", "at")),
      value: Number(pick(c, "risk", "p_fail", "value", "expected_impact") ?? NaN),
      excluded: Boolean(c.excluded), reasons: c.reasons || c.blocked_by || [], rank: c.rank }))
      .filter(c => !isNaN(c.start));
  }

  function heatColour(v, lo, hi) {
    if (isNaN(v)) return "#f1f5f9";
    const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    const hue = 120 - 120 * Math.min(1, Math.max(0, t));
    return `hsl(${hue}, 70%, ${78 - 20 * t}%)`;
  }

  function renderHeatmap(rel, plain) {
    const box = clear(document.getElementById("heatmap"));
    const cells = heatCells(rel).sort((a, b) => a.start - b.start);
    document.getElementById("window-chosen").textContent = "Planned window: " + windowText(plain.window);
    if (!cells.length) { box.append(el("p", { class: "muted", text: "no windows scored for this release" })); return; }
    const values = cells.filter(c => !isNaN(c.value)).map(c => c.value);
    const lo = Math.min(...values), hi = Math.max(...values);
    const day0 = Date.UTC(cells[0].start.getUTCFullYear(), cells[0].start.getUTCMonth(), cells[0].start.getUTCDate());
    const byKey = new Map(cells.map(c => [Math.floor((c.start - day0) / 3600000), c]));
    const days = Math.min(8, Math.ceil((cells[cells.length - 1].start - day0 + 1) / 86400000));
    const chosen = plain.window && plain.window.start ? new Date(plain.window.start) : null;
    const grid = el("table", { class: "heat" });
    grid.append(el("tr", {}, [el("th")].concat([...Array(24).keys()].map(h => el("th", { text: String(h).padStart(2, "0") })))));
    for (let d = 0; d < days; d++) {
      const date = new Date(day0 + d * 86400000);
      const row = el("tr", {}, el("th", { text: date.toUTCString().slice(0, 11) }));
      for (let h = 0; h < 24; h++) {
        const c = byKey.get(d * 24 + h);
        const isChosen = c && chosen && Math.abs(c.start - chosen) < 1800000;
        const title = c ? `${when(c.start)}: risk ${isNaN(c.value) ? "–" : pct(c.value)}${c.excluded ? " · excluded: " + c.reasons.join(", ") : ""}` : "not scored";
        row.append(el("td", { class: "cell" + (c ? "" : " empty") + (c && c.excluded ? " excluded" : "") + (isChosen ? " chosen" : ""),
          title, style: c ? `background:${heatColour(c.value, lo, hi)}` : null }));
      }
      grid.append(row);
    }
    box.append(grid, el("p", { class: "muted legend", text: `${cells.length} hours scored · green ${pct(lo)} → red ${pct(hi)} · hatched: excluded · outlined: planned window` }));
  }

  // ---- notes and audit ---------------------------------------------------------------------------
  /* A tiny, safe markdown renderer (headings, lists, bold, code): text only, never innerHTML. */
  function inline(text) {
    const out = [];
    const re = /(\*\*[^*]+\*\*|`[^`]+`)/g;
    let last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) out.push(text.slice(last, m.index));
      out.push(m[0].startsWith("**") ? el("strong", { text: m[0].slice(2, -2) }) : el("code", { text: m[0].slice(1, -1) }));
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }

  function markdown(text) {
    const box = el("div");
    let list = null;
    for (const line of String(text || "").split("\n")) {
      const h = /^(#{1,4})\s+(.*)$/.exec(line), li = /^\s*[-*]\s+(.*)$/.exec(line);
      if (li) { if (!list) { list = el("ul"); box.append(list); } list.append(el("li", {}, inline(li[1]))); continue; }
      list = null;
      if (h) box.append(el("h" + Math.min(6, h[1].length + 2), {}, inline(h[2])));
      else if (line.trim()) box.append(el("p", {}, inline(line)));
    }
    return box;
  }

  /* This release's section of the train's notes ("## service version" up to the next "## "). */
  function ownNotes(notes) {
    const lines = String(notes || "").split("\n");
    const startAt = lines.findIndex(l => l.startsWith("## ") && l.slice(3).split(" ")[0] === SERVICE);
    if (startAt < 0) return notes;
    const end = lines.findIndex((l, i) => i > startAt && l.startsWith("## "));
    return lines.slice(startAt, end < 0 ? undefined : end).join("\n");
  }

  function renderNotes(rel, plan) {
    const notes = ownNotes(pick(rel, "notes", "release_notes") ?? plan.notes);
    clear(document.getElementById("notes")).append(markdown(typeof notes === "string" ? notes : JSON.stringify(notes, null, 1)));
  }

  function renderAudit(rel, plan) {
    let entries = listOf(pick(rel, "audit", "audit_trail") || [], "entries");
    if (!entries.length) entries = listOf(plan.overrides || [], "overrides").filter(o => !o.service || o.service === SERVICE)
      .map(o => ({ at: o.at, who: o.by, action: "override", reason: o.reason, details: { decision: o.decision } }));
    const body = clear(document.querySelector("#audit tbody"));
    for (const a of entries.slice().reverse()) {
      body.append(el("tr", { class: "audit-row" }, [el("td", { text: when(pick(a, "at", "logged_at")) }),
        el("td", { text: pick(a, "who", "by") }), el("td", { text: a.action }), el("td", { text: a.reason || "" }),
        el("td", { class: "muted", text: a.details ? Object.entries(a.details).map(([k, v]) => k + "=" + (typeof v === "object" ? JSON.stringify(v) : v)).join(", ") : "" })]));
    }
    if (!entries.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "muted", text: "no entries" })));
  }

  // ---- rollout (live) ----------------------------------------------------------------------------
  function mine(e) { return !e.release_id && !e.service ? true : e.service === SERVICE || e.release_id === SERVICE; }

  function renderSteps(rel) {
    const rollout = pick(rel, "rollout") || {};
    const steps = listOf(pick(rel, "rollout_steps") || rollout.steps || [], "steps");
    const events = state.events.filter(e => e.release_id || e.service).filter(mine);
    const status = new Map();
    for (const e of events) {
      if (e.step_index === null || e.step_index === undefined) continue;
      const k = { step_started: "running", step_deployed: "baking", step_completed: "done", step_failed: "failed" }[e.kind];
      if (k) status.set(e.step_index, k);
      if (e.kind === "approval_requested") status.set(e.step_index, "paused");
      if (e.kind === "approval_answered") status.set(e.step_index, e.status === "approved" ? "baking" : "failed");
    }
    const box = clear(document.getElementById("rollout-steps"));
    const bar = el("div", { class: "steps" });
    for (const s of steps) {
      const st = status.get(s.index) || "pending";
      bar.append(el("div", { class: "step " + st, "data-step": s.index, title: `${s.scope} ${(s.targets || []).join(", ")} · bake ${s.bake_minutes} min · gate ${s.gate}` },
        [el("strong", { text: s.weight_percent + "%" }), el("small", { text: st })]));
    }
    if (steps.length) box.append(bar, el("p", { class: "muted", text: (rollout.band ? "band " + rollout.band + " · " : "") + (rollout.why || "") }));
    const finished = events.filter(e => e.kind === "release_finished").pop();
    const plan = state.events.filter(e => e.kind === "plan_finished").pop();
    document.getElementById("rollout-status").textContent = finished ? "finished: " + finished.status
      : events.length ? "running" : (state.known ? "not started for this release" : "no rollout yet");
    state.finished = Boolean(plan);
  }

  function gateRows() {
    return state.events.filter(mine).filter(e => e.kind === "gate" || e.kind === "decision" || e.kind === "approval_answered");
  }

  function renderGates() {
    const body = clear(document.querySelector("#gates tbody"));
    for (const e of gateRows()) {
      const d = e.detail || {};
      const why = [].concat(d.reasons || d.reason || d.by || []).slice(0, 3).join("; ");
      body.append(el("tr", { class: "gate " + (e.status || "") }, [el("td", { text: e.seq }), el("td", { text: e.step_index ?? "" }),
        el("td", { text: e.kind }), el("td", {}, el("span", { class: "status " + (e.status || ""), text: e.status || "" })), el("td", { text: why })]));
    }
  }

  /* Per-metric canary medians from gate analyses (and the API's health points), in order. */
  function healthSeries() {
    const points = [];
    for (const e of state.events.filter(mine).filter(e => e.kind === "gate")) {
      for (const a of (e.detail && e.detail.analyses) || []) {
        const metrics = (a.judge && a.judge.metrics) || [];
        if (!metrics.length) continue;
        const p = { label: "s" + e.step_index + "·" + a.analysis };
        for (const m of metrics) p[m.name] = m.canary_median;
        points.push(p);
      }
    }
    if (!state.health.size) return points;
    const byTime = new Map();     // the API's readings: one row per (gate event, analysis window, metric)
    for (const r of state.health.values()) {
      const key = r.seq + "@" + r.at;
      if (!byTime.has(key)) byTime.set(key, { label: "s" + r.step_index + " " + when(r.at).slice(11, 16), seq: r.seq, at: r.at });
      byTime.get(key)[r.metric] = r.canary;
    }
    return [...byTime.values()].sort((a, b) => a.seq - b.seq || String(a.at).localeCompare(String(b.at)));
  }

  function renderHealth() {
    const points = healthSeries();
    const metrics = HEALTH_METRICS.filter(m => points.some(p => typeof p[m] === "number"));
    chart("health-chart", { type: "line", data: { labels: points.map(p => p.label), datasets: metrics.map((m, i) => ({
      label: m, data: points.map(p => p[m] ?? null), borderColor: RP.PALETTE[i], backgroundColor: RP.PALETTE[i],
      yAxisID: m === "error_rate" || m === "saturation" ? "y" : "y2", pointRadius: 2, spanGaps: true })) },
      options: { scales: { y: { position: "left", title: { display: true, text: "rate" } },
        y2: { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "ms / rps" } } } } });
    const latest = points[points.length - 1];
    document.getElementById("health-latest").textContent = latest
      ? "latest " + metrics.map(m => m + " " + num(latest[m], 4)).join(" · ") : "no health measurements yet";
  }

  function pendingApprovals() {
    if (state.pending.length) return state.pending.filter(p => !p.service || p.service === SERVICE || p.release_id === SERVICE);
    const open = new Map();
    for (const e of state.events.filter(mine)) {
      if (e.kind === "approval_requested") open.set(e.release_id + "#" + e.step_index, { release_id: e.release_id, service: e.service,
        step_index: e.step_index, status: e.status, reasons: (e.detail && e.detail.reasons) || [], at: e.at });
      if (e.kind === "approval_answered") open.delete(e.release_id + "#" + e.step_index);
    }
    return [...open.values()];
  }

  function renderApprovals() {
    const box = clear(document.getElementById("pending-approvals"));
    if (state.answered) box.append(el("p", { id: "approval-result", class: "message ok", text: state.answered }));
    for (const p of pendingApprovals()) {
      const reason = el("input", { class: "approval-reason", placeholder: "reason (recorded)", value: "" });
      const message = el("span", { class: "message" });
      const answer = approve => async () => {
        message.textContent = "sending…";
        try {
          await api("/rollouts/" + enc(PLAN) + "/approvals", { method: "POST", body: { release_id: p.release_id || SERVICE,
            approve, reason: reason.value.trim() || (approve ? "approved from the dashboard" : "rolled back from the dashboard") } });
          message.textContent = approve ? "approved: the rollout continues" : "rollback requested";
          message.className = "message ok";
          state.answered = (approve ? "Approved" : "Rolled back") + " step " + (p.step_index ?? "?") + " of " + (p.release_id || SERVICE) + " by you";
          box.querySelectorAll("button").forEach(b => { b.disabled = true; });
          poll(true);
        } catch (e) { message.textContent = e.message; message.className = "message error-text"; }
      };
      box.append(el("div", { class: "approval", "data-release": p.release_id || SERVICE }, [
        el("strong", { text: "Paused: waiting for approval" }), " ",
        el("span", { text: `step ${p.step_index ?? "?"} gate ${p.status || pick(p, "phase") || "inconclusive"}` }),
        el("ul", {}, [].concat(p.reasons || p.reason || []).map(r => el("li", { text: r }))),
        reason, el("button", { class: "approve", text: "Approve", onclick: answer(true) }), " ",
        el("button", { class: "rollback danger", text: "Roll back", onclick: answer(false) }), " ", message]));
    }
  }

  function renderEvents() {
    const list = clear(document.getElementById("events"));
    const mineList = state.events.filter(mine);
    for (const e of mineList.slice(-40).reverse()) {
      list.append(el("li", { class: "event " + e.kind, "data-seq": e.seq }, [el("code", { text: "#" + e.seq }), " ", when(e.at), " ",
        el("strong", { text: e.kind }), e.step_index !== null && e.step_index !== undefined ? " step " + e.step_index : "", e.status ? " · " + e.status : ""]));
    }
    document.getElementById("events-count").textContent = mineList.length + " events";
  }

  async function poll(soon) {
    clearTimeout(state.timer);
    try {
      const data = await api("/rollouts/" + enc(PLAN) + "/events?after=" + state.after);
      state.known = true;
      const fresh = listOf(data, "events");
      for (const e of fresh) if (!state.events.some(x => x.seq === e.seq)) state.events.push(e);
      state.events.sort((a, b) => a.seq - b.seq);
      state.after = Math.max(state.after, pick(data || {}, "last_seq", "next_after") || 0, ...state.events.map(e => e.seq));
      state.pending = listOf(pick(data || {}, "pending_approvals", "approvals", "pending") || [], "items");
      const health = pick(data || {}, "health") || {};
      for (const r of listOf(health[SERVICE] || [], "points")) state.health.set(r.seq + "|" + r.at + "|" + r.metric, r);
    } catch (e) {
      if (!(e instanceof RP.ApiError && e.status === 404)) { flash(e.message); }
    }
    renderSteps(state.rel || {}); renderGates(); renderHealth(); renderApprovals(); renderEvents();
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
    state.timer = setTimeout(poll, soon ? 500 : state.finished && !pendingApprovals().length ? IDLE_POLL_MS : POLL_MS);
  }

  // ---- override -----------------------------------------------------------------------------------
  function setupOverride() {
    document.getElementById("override-form").addEventListener("submit", async ev => {
      ev.preventDefault();
      const message = document.getElementById("override-message");
      const body = { decision: document.getElementById("override-decision").value,
        reason: document.getElementById("override-reason").value, service: SERVICE };
      message.className = "message"; message.textContent = "sending…";
      try {
        const saved = await api("/plans/" + enc(PLAN) + "/overrides", { method: "POST", body });
        document.getElementById("override-reason").value = "";
        await loadRelease();                 // the new decision and its audit entry
        message.textContent = "Override recorded: " + (pick(saved || {}, "decision") || body.decision) + " by " + (pick(saved || {}, "by") || "you");
        message.className = "message ok";
      } catch (e) { message.textContent = e.message; message.className = "message error-text"; }
    });
  }

  // ---- load -----------------------------------------------------------------------------------
  async function loadRelease() {
    const [relData, planData] = await Promise.all([
      api("/plans/" + enc(PLAN) + "/releases/" + enc(SERVICE)),
      api("/plans/" + enc(PLAN))]);
    const plan = planOf(planData);
    const fromPlan = listOf(plan.releases || [], "releases").find(r => r.service === SERVICE) || {};
    const rel = Object.assign({}, fromPlan, relData && relData.release ? relData.release : relData);
    state.rel = rel;
    const effective = typeof (relData || {}).decision === "object" ? relData.decision
      : plan.effective && plan.effective.releases ? plan.effective.releases[SERVICE] : undefined;
    const plain = release(rel, listOf(plan.overrides || [], "overrides"), effective);
    document.getElementById("release-title").textContent = SERVICE + (plain.version ? " " + plain.version : "");
    renderRisk(rel, plain); renderDecision(rel, plain); renderBlast(rel); renderHeatmap(rel, plain);
    renderNotes(rel, plan); renderAudit(rel, plan); renderSteps(rel);
  }

  setupOverride();
  start(async () => { await loadRelease(); state.after = 0; state.events = []; await poll(); });
})();
