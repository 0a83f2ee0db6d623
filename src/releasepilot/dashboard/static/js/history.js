/* History page: DORA metrics by team/service over time, calibration, model quality over time, drift. */
(function () {
  "use strict";
  const { api, el, clear, pick, listOf, pct, num, when, table, chart, start, tables, timeKey, numericKeys, label, PALETTE } = RP;
  const MAX_SERIES = 8;
  const GROUP_KEYS = ["team", "service", "owner"];
  const DORA_GROUPS = ["team", "service"], DORA_WEEKS = 26;
  const state = { dora: [] };

  function seriesChart(canvasId, rows, tKey, groupKey, metric) {
    const times = [...new Set(rows.map(r => String(r[tKey])))].sort();
    const groups = groupKey ? [...new Set(rows.map(r => r[groupKey]))] : ["all"];
    const totals = new Map(groups.map(g => [g, rows.filter(r => !groupKey || r[groupKey] === g).reduce((s, r) => s + (Number(r[metric]) || 0), 0)]));
    const top = groups.sort((a, b) => totals.get(b) - totals.get(a)).slice(0, MAX_SERIES);
    return chart(canvasId, { type: "line", data: { labels: times.map(t => t.slice(0, 10)), datasets: top.map((g, i) => ({
      label: String(g), borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], pointRadius: 2, spanGaps: true,
      data: times.map(t => { const r = rows.find(x => String(x[tKey]) === t && (!groupKey || x[groupKey] === g)); return r ? r[metric] : null; }) })) },
      options: { plugins: { title: { display: true, text: label(metric) + (groupKey ? " by " + groupKey : "") } } } });
  }

  function renderDora() {
    const groupSel = document.getElementById("dora-group"), metricSel = document.getElementById("dora-metric");
    const groupKey = groupSel.value;
    const rows = state.dora;
    const tKey = timeKey(rows);
    const metrics = numericKeys(rows, [tKey, ...GROUP_KEYS]);
    if (![...metricSel.options].map(o => o.value).join() || metrics.join() !== [...metricSel.options].map(o => o.value).join()) {
      const keep = metricSel.value;
      clear(metricSel).append(...metrics.map(m => el("option", { value: m, text: label(m) })));
      if (metrics.includes(keep)) metricSel.value = keep;
    }
    if (tKey && metricSel.value) seriesChart("dora-chart", rows, tKey, groupKey || null, metricSel.value);
    const box = clear(document.getElementById("dora-table"));
    const latest = tKey ? rows.filter(r => String(r[tKey]) === String(rows.map(r => r[tKey]).sort().pop())) : rows;
    box.append(el("h3", { text: "Latest period" + (tKey ? " (" + String(latest[0] && latest[0][tKey]).slice(0, 10) + ")" : "") }), table(latest));
  }

  async function loadDora() {
    const groupSel = document.getElementById("dora-group");
    if (!groupSel.options.length) {
      groupSel.append(...DORA_GROUPS.map(g => el("option", { value: g, text: g })));
      groupSel.onchange = () => loadDora().catch(e => RP.flash(e.message));
      document.getElementById("dora-metric").onchange = renderDora;
    }
    const data = await api("/metrics/dora?group_by=" + encodeURIComponent(groupSel.value) + "&weeks=" + DORA_WEEKS);
    state.dora = listOf(data, "series", "rows");
    document.getElementById("dora-chart").dataset.rows = String(state.dora.length);
    if (!state.dora.length) {
      clear(document.getElementById("dora-table")).append(el("p", { class: "muted", text: pick(data || {}, "note") || "no deployments in the history yet" }));
    } else renderDora();
  }

  async function loadCalibration() {
    const data = await api("/metrics/calibration");
    const found = tables(data);
    const predKey = r => pick(r, "predicted", "mean_predicted", "predicted_rate", "p_mean");
    const actKey = r => pick(r, "actual", "observed", "actual_rate", "failure_rate", "observed_rate");
    const bins = Object.entries(found).find(([, rows]) => rows.some(r => predKey(r) !== undefined && actKey(r) !== undefined));
    if (bins) {
      const rows = bins[1].filter(r => predKey(r) !== undefined && actKey(r) !== undefined && (r.n === undefined || r.n > 0));
      chart("calibration-chart", { type: "scatter", data: { datasets: [
        { label: "bins (predicted, actual)", data: rows.map(r => ({ x: predKey(r), y: actKey(r) })), backgroundColor: PALETTE[0], pointRadius: 5, showLine: true, borderColor: PALETTE[0] },
        { label: "perfect calibration", data: [{ x: 0, y: 0 }, { x: Math.max(...rows.map(predKey), ...rows.map(actKey), 0.1), y: Math.max(...rows.map(predKey), ...rows.map(actKey), 0.1) }],
          showLine: true, borderDash: [4, 4], borderColor: "#94a3b8", pointRadius: 0 }] },
        options: { scales: { x: { title: { display: true, text: "predicted failure rate" } }, y: { title: { display: true, text: "actual failure rate" } } } } });
    }
    const quality = Object.entries(found).find(([name, rows]) => name !== (bins && bins[0]) && timeKey(rows));
    if (quality) {
      const rows = quality[1], tKey = timeKey(rows);
      const metrics = numericKeys(rows, [tKey, "count", "n", "version"]).slice(0, 5);
      chart("quality-chart", { type: "line", data: { labels: rows.map(r => String(r[tKey]).slice(0, 10)), datasets: metrics.map((m, i) => ({
        label: label(m), data: rows.map(r => r[m] ?? null), borderColor: PALETTE[i], backgroundColor: PALETTE[i], pointRadius: 2, spanGaps: true })) } });
    }
    document.getElementById("calibration-chart").dataset.bins = bins ? String(bins[1].filter(r => (r.n ?? 1) > 0).length) : "0";
    const summary = [pick(data || {}, "n") !== undefined ? "n = " + data.n + " scored releases with an outcome" : null,
      typeof data.brier === "number" ? "Brier " + num(data.brier, 3) : null, typeof data.ece === "number" ? "ECE " + num(data.ece, 3) : null,
      pick(data || {}, "note")].filter(Boolean).join(" · ");
    document.getElementById("calibration-summary").textContent = summary;
  }

  /* The metrics of the champion version (or the newest one). */
  function championMetrics(m) {
    const versions = Array.isArray(m.versions) ? m.versions : [];
    const champ = (m.aliases || {}).champion;
    const v = versions.find(x => String(x.version) === String(champ)) || versions[0] || {};
    return pick(v, "metrics") || pick(m, "metrics", "champion_metrics") || {};
  }

  /* A browser link for a report reference: http(s) and site paths as they are; runs:/ references point at
     the MLflow run (the UI address comes from the API's models answer when it gives one). */
  function reportHref(ref, data) {
    if (!ref) return null;
    if (/^(https?:)?\//.test(ref)) return ref;
    const ui = pick(data || {}, "mlflow_ui", "mlflow_url");
    const m = /^runs:\/([^/]+)\/(.*)$/.exec(ref);
    return ui && m ? ui.replace(/\/$/, "") + "/#/experiments/0/runs/" + m[1] + "/artifacts" : null;
  }

  function driftCell(model) {
    const drift = pick(model, "drift", "drift_status", "monitoring");
    if (drift === undefined) return "–";
    const status = typeof drift === "object" ? pick(drift, "status", "drifted", "detected") : drift;
    const ref = typeof drift === "object" ? pick(drift, "report_url", "report", "url", "html") : pick(model, "report_url");
    const href = reportHref(ref, state.models);
    const text = drift === null ? "not checked yet" : typeof drift === "object" && "retrain" in drift
      ? (drift.retrain ? "drift or decay: retrain" : "no drift") : String(status);
    return el("span", {}, [el("span", { class: "status drift-status " + (drift && drift.retrain ? "failed" : "passed"), text }),
      drift && drift.reasons ? el("small", { class: "muted", text: " " + drift.reasons }) : null, " ",
      href ? el("a", { href, target: "_blank", rel: "noopener", class: "report-link", text: "Evidently report" })
        : ref ? el("span", { class: "report-link" }, ["Evidently report: ", el("code", { text: String(ref) }), " (MLflow UI → run artifacts)"]) : null]);
  }

  async function loadModels() {
    const data = await api("/models");
    state.models = data;
    const models = listOf(data, "models", "items");
    const box = clear(document.getElementById("models"));
    if (!models.length) { box.append(el("p", { class: "muted", text: "No registered models yet: run `releasepilot train`." })); }
    box.append(table(models, [
      { label: "model", value: m => pick(m, "name", "model") },
      { label: "aliases", value: m => { const a = pick(m, "aliases") || {}; return Array.isArray(a) ? a.join(", ") : Object.entries(a).map(([k, v]) => k + " → v" + v).join(", "); } },
      { label: "versions", value: m => { const v = pick(m, "versions"); return Array.isArray(v) ? v.length : v; } },
      { label: "champion metrics", value: m => { const x = championMetrics(m); return Object.entries(x).filter(([, v]) => typeof v === "number").slice(0, 4).map(([k, v]) => k + " " + num(v, 3)).join(" · ") || "–"; } },
    ]));
    if (!Array.isArray(data)) box.append(el("div", { class: "drift", id: "drift" }, [el("h3", { text: "Drift (last monitoring run)" }),
      driftCell({ drift: data ? data.drift ?? null : null })]));
  }

  start(async () => {
    const results = await Promise.allSettled([loadDora(), loadCalibration(), loadModels()]);
    const failed = results.filter(r => r.status === "rejected").map(r => r.reason.message);
    if (failed.length) throw new Error(failed.join(" · "));
  });
})();
