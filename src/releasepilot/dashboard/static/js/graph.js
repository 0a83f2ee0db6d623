/* Blast radius as an SVG dependency graph: the released service on the left, its dependents in columns by
   distance (1 = calls it directly), edges "dependent -> dependency". No library: plain SVG elements. */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const COLUMN_GAP = 190, ROW_GAP = 34, MARGIN = 30, MAX_ROWS = 14;
  const TIER_COLOURS = { 1: "#dc2626", 2: "#d97706", 3: "#2563eb" };

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* {nodes, edges} from the API's graph, or from a plan's blast_radius (service, direct, impacted). */
  function normalise(blast, service) {
    blast = blast || {};
    const graph = blast.graph || blast;
    if (Array.isArray(graph.nodes)) {
      const nodes = graph.nodes.map(n => typeof n === "string" ? { id: n } : Object.assign({}, n, { id: n.id || n.service || n.name }));
      const edges = (graph.edges || []).map(e => Array.isArray(e) ? { source: e[0], target: e[1] }
        : { source: e.source || e.from, target: e.target || e.to, approximate: Boolean(e.approximate) });
      const centre = blast.service || service;
      nodes.forEach(n => { if (n.distance === undefined) n.distance = n.id === centre ? 0 : undefined; });
      return { nodes, edges, centre };
    }
    const centre = blast.service || service;
    const impacted = blast.impacted || (blast.transitive || []).map(s => ({ service: s }));
    const direct = new Set(blast.direct || impacted.filter(i => i.distance === 1).map(i => i.service));
    const nodes = [{ id: centre, distance: 0, centre: true }].concat(impacted.map(i => Object.assign({}, i, { id: i.service })));
    const edges = [...direct].map(d => ({ source: d, target: centre }));
    return { nodes, edges, centre };
  }

  /* Distances by breadth-first search over reversed edges when the API gives none. */
  function fillDistances(g) {
    const dist = new Map(g.nodes.filter(n => n.distance !== undefined && n.distance !== null).map(n => [n.id, n.distance]));
    if (!dist.has(g.centre)) dist.set(g.centre, 0);
    let frontier = [g.centre];
    while (frontier.length) {
      const next = [];
      for (const id of frontier) for (const e of g.edges) if (e.target === id && !dist.has(e.source)) {
        dist.set(e.source, dist.get(id) + 1); next.push(e.source);
      }
      frontier = next;
    }
    g.nodes.forEach(n => { n.distance = dist.has(n.id) ? dist.get(n.id) : 1; });
  }

  function layout(g) {
    const columns = new Map();
    g.nodes.forEach(n => { const c = n.id === g.centre ? 0 : n.distance < 0 ? -1 : Math.max(1, n.distance); if (!columns.has(c)) columns.set(c, []); columns.get(c).push(n); });
    const positions = new Map();
    let x = MARGIN + 60, height = 0;
    for (const c of [...columns.keys()].sort((a, b) => a - b)) {
      const items = columns.get(c).sort((a, b) => (a.tier || 9) - (b.tier || 9) || String(a.id).localeCompare(b.id));
      const subColumns = Math.ceil(items.length / MAX_ROWS);
      items.forEach((n, i) => {
        const sub = Math.floor(i / MAX_ROWS), row = i % MAX_ROWS;
        positions.set(n.id, { x: x + sub * (COLUMN_GAP * 0.8), y: MARGIN + row * ROW_GAP, column: c });
        height = Math.max(height, MARGIN + row * ROW_GAP);
      });
      x += COLUMN_GAP * (0.8 * (subColumns - 1) + 1);
    }
    // centre the service vertically
    const centre = positions.get(g.centre);
    if (centre) centre.y = Math.max(MARGIN, height / 2);
    return { positions, width: x + 40, height: height + MARGIN * 2 };
  }

  function render(container, blast, service) {
    while (container.firstChild) container.removeChild(container.firstChild);
    const g = normalise(blast, service);
    fillDistances(g);
    const { positions, width, height } = layout(g);
    const root = svg("svg", { viewBox: `0 0 ${width} ${Math.max(height, 80)}`, width: "100%", role: "img",
      "aria-label": `blast radius of ${g.centre}: ${g.nodes.length - 1} dependent services` });
    const defs = svg("defs");
    const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "16", refY: "5", markerWidth: "6", markerHeight: "6", orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#94a3b8" }));
    defs.append(marker);
    root.append(defs);
    const edgeLayer = svg("g", { class: "edges" }), nodeLayer = svg("g", { class: "nodes" });
    for (const e of g.edges) {
      const a = positions.get(e.source), b = positions.get(e.target);
      if (!a || !b) continue;
      edgeLayer.append(svg("line", { class: "edge" + (e.approximate ? " approximate" : ""), x1: a.x, y1: a.y, x2: b.x, y2: b.y, "marker-end": "url(#arrow)",
        "data-source": e.source, "data-target": e.target }));
    }
    for (const n of g.nodes) {
      const p = positions.get(n.id);
      const share = Number(n.traffic_share || 0);
      const radius = n.id === g.centre ? 14 : 6 + Math.min(8, Math.sqrt(share) * 30);
      const group = svg("g", { class: "node" + (n.id === g.centre ? " centre" : ""), "data-id": n.id,
        transform: `translate(${p.x},${p.y})` });
      const fill = n.id === g.centre ? "#111827" : n.role === "provider" ? "#ffffff" : (TIER_COLOURS[n.tier] || "#64748b");
      group.append(svg("circle", { r: radius, fill, stroke: "#475569", "stroke-width": n.role === "provider" ? 1.5 : 0 }));
      group.append(svg("text", { x: radius + 4, y: 4, class: "label" }, n.id));
      group.append(svg("title", {}, `${n.id}${n.tier ? " · tier " + n.tier : ""}${n.owner ? " · " + n.owner : ""}` +
        `${n.role === "provider" ? " · it depends on this" : n.distance ? " · distance " + n.distance : ""}${share ? " · " + (100 * share).toFixed(1) + "% of traffic" : ""}`));
      nodeLayer.append(group);
    }
    root.append(edgeLayer, nodeLayer);
    container.append(root);
    return { nodes: g.nodes.length, edges: edgeLayer.childNodes.length };
  }

  window.RPGraph = { render, normalise };
})();
