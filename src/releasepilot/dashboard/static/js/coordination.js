/* Coordination page: shares scored / planned / automatic, who needed a person and why, MTTD, planning time. */
(function () {
  "use strict";
  const { api, el, clear, pct, num, pick, listOf, table, chart, start, tables, scalars, label, PALETTE } = RP;
  const CARD_KEYS = ["share_scored", "share_planned", "share_automatic", "share_needed_a_person", "mttd_minutes"];

  function isShare(key, value) { return /share|rate|fraction|ratio|pct/.test(key) && value >= 0 && value <= 1; }

  function unit(key) { return /seconds|_s$/.test(key) ? " s" : /minutes|mttd/.test(key) ? " min" : /hours/.test(key) ? " h" : ""; }

  function barChart(canvasId, rows, labelKey, valueKey, title) {
    chart(canvasId, { type: "bar", data: { labels: rows.map(r => String(r[labelKey])), datasets: [{ label: label(valueKey),
      data: rows.map(r => r[valueKey]), backgroundColor: PALETTE[0] }] },
      options: { indexAxis: rows.length > 6 ? "y" : "x", plugins: { legend: { display: false }, title: { display: true, text: title } } } });
  }

  function firstKey(row, pattern) { return Object.keys(row).find(k => pattern.test(k)); }

  async function load() {
    const data = await api("/metrics/coordination");
    const cards = clear(document.getElementById("coordination-cards"));
    const numbers = scalars(data);
    for (const key of CARD_KEYS) if (data && key in data && !(key in numbers)) numbers[key] = null;
    for (const [key, value] of Object.entries(numbers)) {
      cards.append(el("div", { class: "card", "data-key": key }, [el("div", { class: "label", text: label(key) }),
        el("div", { class: "value", text: value === null ? "–" : isShare(key, value) ? pct(value) : num(value) + unit(key) })]));
    }
    const found = tables(data);
    const needed = listOf(pick(data || {}, "needed_a_person") || [], "items");
    const counts = new Map();
    for (const n of needed) { const k = n.kind + ": " + String(n.why || "").replace(/ at step \d+/, ""); counts.set(k, (counts.get(k) || 0) + 1); }
    const whyRows = [...counts.entries()].map(([why, count]) => ({ why, count })).sort((a, b) => b.count - a.count);
    if (whyRows.length) barChart("why-chart", whyRows, "why", "count", "times a person stepped in, by reason");
    clear(document.getElementById("why-table")).append(needed.length ? table(needed, ["plan_id", "release_id", "kind", "why", "answer", "by", "reason"])
      : el("p", { class: "muted", text: "nobody had to step in" }));
    const planning = listOf(pick(data || {}, "planning") || [], "items").filter(r => typeof r.planning_seconds === "number");
    if (planning.length) barChart("planning-chart", planning, "train", "planning_seconds", "planning time per train (seconds)");
    document.getElementById("planning-chart").dataset.trains = String(planning.length);
    if (!planning.length) document.getElementById("planning-chart").replaceWith(el("p", { id: "planning-chart", class: "muted",
      text: "no planning time recorded for these plans (app.audit_log plan.create has no planning_seconds)" }));
    const raw = clear(document.getElementById("coordination-raw"));
    for (const [name, rows] of Object.entries(found)) raw.append(el("h3", { text: label(name) }), table(rows));
    if (!Object.keys(found).length && !cards.childNodes.length) raw.append(el("p", { class: "muted", text: "no figures yet" }));
  }

  start(load);
})();
