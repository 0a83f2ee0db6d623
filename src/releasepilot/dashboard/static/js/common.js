/* ReleasePilot dashboard: shared helpers (API calls with the stored token, DOM building, formatting). */
(function () {
  "use strict";
  const TOKEN_KEY = "releasepilot.token";
  const API = document.body.dataset.api || "/api/v1";
  const charts = {};

  function token() { return localStorage.getItem(TOKEN_KEY) || ""; }

  /* A readable message from a FastAPI error body: {"detail": "..."} or {"detail": [{loc, msg}]}. */
  function errorMessage(status, body) {
    if (body && typeof body.message === "string" && body.message) return body.message;
    const detail = body && body.detail !== undefined ? body.detail : body;
    if (Array.isArray(detail)) {
      return detail.map(d => (d.loc ? d.loc.filter(x => x !== "body").join(".") + ": " : "") + (d.msg || JSON.stringify(d))).join("; ");
    }
    if (detail && typeof detail === "object") return detail.message || JSON.stringify(detail);
    return detail ? String(detail) : "HTTP " + status;
  }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path, options) {
    options = options || {};
    const headers = { "Accept": "application/json" };
    if (token()) headers["Authorization"] = "Bearer " + token();
    let body;
    if (options.body !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(options.body); }
    const response = await fetch(API + path, { method: options.method || "GET", headers, body, cache: "no-store" });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
    if (!response.ok) {
      const prefix = response.status === 401 ? "not signed in (paste a token above): "
        : response.status === 403 ? "refused: " : "";
      throw new ApiError(response.status, prefix + errorMessage(response.status, data));
    }
    return data;
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  /* The first present (not undefined/null) value among `keys` of `obj`. */
  function pick(obj, ...keys) {
    if (!obj) return undefined;
    for (const key of keys) if (obj[key] !== undefined && obj[key] !== null) return obj[key];
    return undefined;
  }

  /* A list from a response that is either a list or an object holding one under a known key. */
  function listOf(data, ...keys) {
    if (Array.isArray(data)) return data;
    const found = pick(data, ...keys);
    return Array.isArray(found) ? found : [];
  }

  function pct(value, digits) {
    if (value === undefined || value === null || isNaN(value)) return "–";
    return (100 * value).toFixed(digits === undefined ? 1 : digits) + "%";
  }

  function num(value, digits) {
    if (value === undefined || value === null || value === "" || isNaN(value)) return value === undefined || value === null ? "–" : String(value);
    const n = Number(value);
    return Number.isInteger(n) ? String(n) : n.toFixed(digits === undefined ? 2 : digits);
  }

  function when(value) {
    if (!value) return "–";
    const d = new Date(value);
    return isNaN(d) ? String(value) : d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
  }

  function decisionClass(decision) {
    const d = String(decision || "").toUpperCase();
    return d.startsWith("NO") ? "nogo" : d.includes("CONDITION") ? "cond" : d === "GO" ? "go" : "unknown";
  }

  function badge(decision) {
    return el("span", { class: "badge " + decisionClass(decision), text: decision || "?" });
  }

  function cell(value) {
    if (value === null || value === undefined) return "–";
    if (value instanceof Node) return value;
    if (typeof value === "number") return num(value, 3);
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  /* A table of records; columns default to the union of the records' keys. */
  function table(records, columns, options) {
    records = records || [];
    columns = columns || [...new Set(records.flatMap(r => Object.keys(r || {})))];
    const cls = "table" + (options && options.class ? " " + options.class : "");
    return el("table", { class: cls }, [
      el("thead", {}, el("tr", {}, columns.map(c => el("th", { text: typeof c === "string" ? c : c.label })))),
      el("tbody", {}, records.map(r => el("tr", {}, columns.map(c => el("td", {},
        cell(typeof c === "string" ? r[c] : c.value(r))))))),
    ]);
  }

  function flash(message, kind) {
    const box = document.getElementById("flash");
    if (!message) { box.hidden = true; return; }
    box.textContent = message;
    box.className = kind || "error";
    box.hidden = false;
  }

  /* Build (or rebuild) a Chart.js chart on a canvas id. */
  function chart(canvasId, config) {
    if (charts[canvasId]) charts[canvasId].destroy();
    const canvas = document.getElementById(canvasId);
    if (!canvas || typeof Chart === "undefined") return null;
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: true }, config.options || {});
    charts[canvasId] = new Chart(canvas, config);
    return charts[canvasId];
  }

  const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
    "#475569", "#ea580c"];

  async function whoami() {
    const label = document.getElementById("whoami");
    if (!token()) { label.textContent = "no token"; return null; }
    try {
      const me = await api("/me");
      const who = pick(me, "name", "who") || "?";
      label.textContent = who + " (" + (pick(me, "role") || "?") + ")";
      label.className = "ok";
      return me;
    } catch (e) {
      label.textContent = e.message;
      label.className = "error-text";
      return null;
    }
  }

  function setupTokenBox(onChange) {
    const form = document.getElementById("token-box");
    const input = document.getElementById("token-input");
    form.addEventListener("submit", async ev => {
      ev.preventDefault();
      if (input.value.trim()) localStorage.setItem(TOKEN_KEY, input.value.trim());
      input.value = "";
      await whoami();
      if (onChange) onChange();
    });
    document.getElementById("token-clear").addEventListener("click", async () => {
      localStorage.removeItem(TOKEN_KEY);
      await whoami();
      if (onChange) onChange();
    });
  }

  /* Run a page's load function after the token box is ready; errors go to the flash bar. */
  function start(load) {
    const run = async () => {
      flash(null);
      try { await load(); document.body.dataset.loaded = "true"; }
      catch (e) { flash(e.message); document.body.dataset.loaded = "error"; console.error(e); }
    };
    setupTokenBox(run);
    whoami();
    run();
  }

  /* One release in the same shape whether it comes from Plan.as_dict, app.plan_releases or the release
     endpoint: {service, version, team, p, decision, recommended, conditions, window, override, scored}. */
  function release(r, overrides, effective) {
    const d = Object.assign({}, typeof r.decision === "object" && r.decision ? r.decision : {}, effective || {});
    const risk = typeof r.risk === "object" && r.risk ? r.risk : {};
    const p = pick(risk, "probability", "p_fail") ?? pick(r, "failure_probability", "p_fail", "probability")
      ?? pick(d, "failure_probability");
    const own = (overrides || []).filter(o => o.service === r.service);
    const override = effective ? (effective.override || null)
      : pick(d, "override") || pick(r, "override") || (own.length ? own[own.length - 1] : null);
    return {
      service: r.service, version: r.version, team: r.team, p: typeof p === "number" ? p : null,
      scored: typeof p === "number",
      decision: override ? override.decision : (typeof r.decision === "string" ? r.decision : d.decision),
      recommended: pick(d, "recommended") || (typeof r.decision === "string" ? r.decision : d.decision),
      conditions: pick(r, "conditions") || pick(d, "conditions") || [],
      window: pick(r, "window"), override,
    };
  }

  /* The plan document inside a GET /plans/{id} answer ({plan: {...}, overrides} or the plan itself). */
  function planOf(data) {
    if (data && data.plan && typeof data.plan === "object") return Object.assign({}, data.plan, {
      overrides: data.overrides || data.plan.overrides || [], plan_id: data.plan.plan_id || data.plan_id });
    return data || {};
  }

  function windowText(w) {
    if (!w) return "no window";
    if (typeof w === "string") return when(w);
    return when(w.start) + (w.end ? " → " + when(w.end).slice(11) : "");
  }

  const TIME_KEYS = ["week", "period", "date", "month", "day", "at", "start", "trained_at", "created_at"];

  /* Every array of records inside a response, by its path ("dora.by_team"), searching two levels deep. */
  function tables(data, prefix, depth) {
    const out = {};
    depth = depth === undefined ? 3 : depth;
    if (Array.isArray(data)) {
      if (data.length && data.every(r => r && typeof r === "object" && !Array.isArray(r))) out[prefix || "rows"] = data;
      return out;
    }
    if (data && typeof data === "object" && depth > 0) {
      for (const [k, v] of Object.entries(data)) Object.assign(out, tables(v, prefix ? prefix + "." + k : k, depth - 1));
    }
    return out;
  }

  /* Numeric scalars at the top of an object (one level into plain objects), by path. */
  function scalars(data, prefix) {
    const out = {};
    if (!data || typeof data !== "object" || Array.isArray(data)) return out;
    for (const [k, v] of Object.entries(data)) {
      const key = prefix ? prefix + "." + k : k;
      if (typeof v === "number") out[key] = v;
      else if (v && typeof v === "object" && !Array.isArray(v) && !prefix) Object.assign(out, scalars(v, key));
    }
    return out;
  }

  function timeKey(rows) { return TIME_KEYS.find(k => rows.some(r => r[k] !== undefined && r[k] !== null)); }

  function numericKeys(rows, skip) {
    const keys = [...new Set(rows.flatMap(r => Object.keys(r)))];
    return keys.filter(k => !(skip || []).includes(k) && rows.some(r => typeof r[k] === "number"));
  }

  function label(key) { return String(key).replace(/[._]/g, " "); }

  window.RP = { tables, scalars, timeKey, numericKeys, label, release, planOf, windowText, api, el, clear, pick, listOf, pct, num, when, badge, decisionClass, table, flash, chart, start,
    token, PALETTE, ApiError, errorMessage };
})();
