// @ts-check
/**
 * The task graph of a goal, drawn as SVG: one node per task (its title and state), one arrow per
 * dependency, from the dependency to the task that waits for it. dagre computes the layout; the
 * layout is kept while only states change, so a live update redraws without moving anything.
 *
 * Each node is a focusable button whose spoken name starts with exactly the words it shows (WCAG
 * 2.5.3, Label in Name) and goes on with what the drawing abbreviates. Its lines are HTML inside
 * the SVG, so the browser cuts a line that does not fit with an ellipsis, always, and the words
 * stay whole in the page; on focus and on hover the whole title shows below the node. Tab follows
 * the drawing top to bottom, arrow keys follow the edges (Up: a dependency, Down: a dependent,
 * Left/Right: the neighbours in the row), Enter shows the task's details below. States differ in
 * icon, words, outline and fill pattern, not only in colour (style.css).
 */
import dagre from "./dagre.js";

const NODE_W = 220;
const NODE_H = 68;
/** Where a node's three lines go: right of the icon, inside the outline. */
const TEXT_X = 34;
const TEXT_INSET = 8;
const ZOOM_STEP = 1.25;
const ZOOM_MIN = 0.1;
const ZOOM_MAX = 2.5;

/**
 * @typedef {"ready" | "blocked" | "scheduled" | "in_progress" | "completed" | "failed" | "cancelled"} NodeState
 * @typedef {{ id: number, title: string, state: NodeState, priority: number, blocked_by: number[],
 *   external_dependencies: number[], assigned_to: string | null, lease_expires_at: string | null,
 *   attempt: number, max_attempts: number, updated_at: string,
 *   role: string | null, run_when: string, not_before: string | null }} GraphNode
 * @typedef {{ goal_id: number, nodes: GraphNode[], edges: [number, number][] }} GraphData
 * @typedef {{ x: number, y: number }} Point
 * @typedef {{ key: string, width: number, height: number, at: Map<number, Point>,
 *   routes: Map<string, Point[]>, order: number[] }} Layout
 */

/** @type {Record<NodeState, { label: string, icon: string, pattern: string | null }>} */
const STATES = {
  ready: { label: "Ready", icon: "ready", pattern: null },
  blocked: { label: "Blocked", icon: "blocked", pattern: "hatch" },
  scheduled: { label: "Scheduled", icon: "scheduled", pattern: "lines" },
  in_progress: { label: "In progress", icon: "running", pattern: null },
  completed: { label: "Done", icon: "done", pattern: null },
  failed: { label: "Failed", icon: "failed", pattern: "cross" },
  cancelled: { label: "Cancelled", icon: "cancelled", pattern: "dots" },
};

/** @param {string} text */
const escape = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
/** @param {number[]} ids */
const idsText = (ids) => ids.map((id) => `#${id}`).join(", ");

/** The role of the owner's decisions (docs/owner.md): no agent takes or finishes such a task. */
const OWNER_ROLE = "owner";
const today = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const day = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
/** A time of today as hours and minutes, another day's with its date. @param {string} iso */
const when = (iso) => {
  const at = new Date(iso);
  return today.format(at) === today.format(new Date()) ? clock.format(at) : `${day.format(at)}, ${clock.format(at)}`;
};

/** An owner task's third line: whose move it is, or what was decided. @param {GraphNode} n */
function ownerLine(n) {
  if (n.state === "ready") return "Waiting for you";
  if (n.state === "completed") return "Owner's decision: approved";
  if (n.state === "failed") return "Owner's decision: rejected";
  if (n.state === "blocked") return `Owner's decision · waits for ${idsText(n.blocked_by)}`;
  if (n.state === "scheduled" && n.not_before) return `Owner's decision · from ${when(n.not_before)}`;
  return "Owner's decision";
}

/**
 * The third line drawn in the node: who holds it and until when, what it waits for, when it
 * starts; a task for a role names it first. @param {GraphNode} n
 */
function detailLine(n) {
  if (n.role === OWNER_ROLE) return ownerLine(n);
  const line = stateDetail(n);
  if (!n.role) return line;
  return line ? `role ${n.role} · ${line}` : `role ${n.role}`;
}

/** @param {GraphNode} n */
function stateDetail(n) {
  if (n.state === "scheduled" && n.not_before) {
    return n.attempt > 0 ? `attempt ${n.attempt + 1} of ${n.max_attempts} at ${when(n.not_before)}` : `starts at ${when(n.not_before)}`;
  }
  if (n.state === "in_progress") {
    const until = n.lease_expires_at ? ` · until ${clock.format(new Date(n.lease_expires_at))}` : "";
    return `${n.assigned_to ?? "?"}${until}`;
  }
  if (n.state === "blocked") return `waits for ${idsText(n.blocked_by)}`;
  if (n.state === "failed") return `attempt ${n.attempt} of ${n.max_attempts}`;
  if (n.state === "ready") return `priority ${n.priority}`;
  return "";
}

/** The second line drawn in the node. @param {GraphNode} n */
const stateLine = (n) => `${STATES[n.state].label} · #${n.id}`;

/**
 * What a screen reader says for the node: first the node's three lines word for word (a speech
 * user says what they see), then what they abbreviate. @param {GraphNode} n
 */
function spokenLabel(n) {
  const parts = [`${n.title}.`, `${stateLine(n)}.`];
  const detail = detailLine(n);
  if (detail) parts.push(`${detail}.`);
  if (n.state === "in_progress") parts.push(`Claimed by ${n.assigned_to ?? "an agent"}${n.lease_expires_at ? `, lease ends ${full.format(new Date(n.lease_expires_at))}` : ""}.`);
  return parts.join(" ");
}

/** @param {GraphData} data */
const layoutKey = (data) => `${data.nodes.map((n) => n.id).join(",")}|${data.edges.map((e) => e.join(">")).join(",")}`;

/**
 * Above this many tasks dagre's defaults (network-simplex ranking, iterated crossing reduction)
 * grow too slow for a page (seconds at 500 tasks); the tight-tree ranker without the iterated
 * ordering lays 500 tasks out in a few hundred milliseconds, with a few more crossings.
 */
const FAST_LAYOUT_ABOVE = 150;

/** @param {GraphData} data @returns {Layout} */
function computeLayout(data) {
  const fast = data.nodes.length > FAST_LAYOUT_ABOVE;
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 22, ranksep: 46, marginx: 18, marginy: 18, ...(fast ? { ranker: "tight-tree" } : {}) });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of data.nodes) g.setNode(String(n.id), { width: NODE_W, height: NODE_H });
  for (const [from, to] of data.edges) g.setEdge(String(from), String(to));
  dagre.layout(g, fast ? { disableOptimalOrderHeuristic: true } : undefined);
  /** @type {Map<number, Point>} */
  const at = new Map();
  for (const n of data.nodes) {
    const placed = g.node(String(n.id));
    at.set(n.id, { x: placed.x - NODE_W / 2, y: placed.y - NODE_H / 2 });
  }
  /** @type {Map<string, Point[]>} */
  const routes = new Map();
  for (const [from, to] of data.edges) {
    const edge = g.edge(String(from), String(to));
    routes.set(`${from}>${to}`, edge?.points ?? []);
  }
  const label = g.graph();
  // Tab order: top to bottom, then left to right, as the drawing reads.
  const order = data.nodes
    .map((n) => n.id)
    .sort((a, b) => {
      const pa = /** @type {Point} */ (at.get(a));
      const pb = /** @type {Point} */ (at.get(b));
      return pa.y - pb.y || pa.x - pb.x;
    });
  return { key: layoutKey(data), width: Math.ceil(label.width ?? 0), height: Math.ceil(label.height ?? 0), at, routes, order };
}

/** @param {Point[]} points */
function pathOf(points) {
  if (points.length === 0) return "";
  return points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join("");
}

/** An owner task's node: a second, inner outline and the owner's icon under the state's. */
const ownerMark =
  `<rect class="oring" x="4" y="4" width="${NODE_W - 8}" height="${NODE_H - 8}" rx="5"></rect>` +
  `<use class="nowner" href="#i-owner" x="10" y="34" width="16" height="16"></use>`;

/** @param {GraphNode} n @param {Point} p */
function nodeSvg(n, p) {
  const state = STATES[n.state];
  const label = escape(spokenLabel(n));
  return (
    `<g class="node st-${n.state}" id="task-${n.id}" data-id="${n.id}" transform="translate(${p.x.toFixed(1)} ${p.y.toFixed(1)})" tabindex="0" role="button" aria-label="${label}">` +
    `<rect class="box" width="${NODE_W}" height="${NODE_H}" rx="8"></rect>` +
    (n.role === OWNER_ROLE ? ownerMark : "") +
    (state.pattern ? `<rect class="pat" width="${NODE_W}" height="${NODE_H}" rx="8"></rect>` : "") +
    `<use class="nicon" href="#i-${state.icon}" x="10" y="10" width="16" height="16"></use>` +
    `<foreignObject class="nlines" x="${TEXT_X}" y="${TEXT_INSET}" width="${NODE_W - TEXT_X - TEXT_INSET}" height="${NODE_H - 2 * TEXT_INSET}">` +
    // Spaces between the lines, so that their words never run together in the page's text.
    `<div class="ntitle">${escape(n.title)}</div> ` +
    `<div class="nstate">${stateLine(n)}</div> ` +
    `<div class="nmore">${escape(detailLine(n))}</div>` +
    `</foreignObject>` +
    `</g>`
  );
}

/**
 * @param {HTMLElement} container
 * @param {{ more?: (id: number) => Node | null }} [options] `more`: what else a task's details
 *   show after the drawing's own facts (the goal board adds the task's description and outcome).
 */
export function mountGraph(container, options = {}) {
  /** @type {Layout | null} */
  let layout = null;
  /** @type {GraphData} */
  let data = { goal_id: 0, nodes: [], edges: [] };
  /** @type {Map<number, GraphNode>} */
  let byId = new Map();
  /** @type {Map<number, number[]>} */
  let dependencies = new Map();
  /** @type {Map<number, number[]>} */
  let dependents = new Map();
  let zoom = 1;
  let fitted = false;
  /** @type {number | null} */
  let selected = null;

  const detail = document.getElementById("task-detail");

  // The whole title of a node whose title line is cut, right below the node, while the node has
  // the focus or the pointer (which may move onto it); Escape hides it. Not spoken: the node's
  // name already holds the title.
  const tip = document.createElement("div");
  tip.className = "graph-tip";
  tip.setAttribute("aria-hidden", "true");
  tip.hidden = true;
  /** @type {Element | null} */
  let hovered = null;
  /** @type {Element | null} */
  let focused = null;

  const updateTip = () => {
    const node = hovered ?? focused;
    const line = node?.querySelector(".ntitle");
    if (!(line instanceof HTMLElement) || line.scrollWidth <= line.clientWidth) {
      tip.hidden = true;
      return;
    }
    tip.textContent = line.textContent;
    if (tip.parentElement !== container) container.append(tip);
    tip.hidden = false;
    const at = /** @type {Element} */ (node).getBoundingClientRect();
    const frame = container.getBoundingClientRect();
    const left = at.left - frame.left + container.scrollLeft;
    tip.style.left = `${Math.round(Math.max(container.scrollLeft, Math.min(left, container.scrollLeft + container.clientWidth - tip.offsetWidth)))}px`;
    // Touching the node, so that the pointer crosses no gap on its way onto the tip.
    tip.style.top = `${Math.round(at.bottom - frame.top + container.scrollTop - 1)}px`;
  };

  const svg = () => container.querySelector("svg.graph-svg");

  const applyZoom = () => {
    const element = svg();
    if (!element || !layout) return;
    element.setAttribute("width", String(Math.max(1, Math.round(layout.width * zoom))));
    element.setAttribute("height", String(Math.max(1, Math.round(layout.height * zoom))));
  };

  const fitZoom = () => {
    if (!layout || layout.width === 0) return 1;
    return Math.max(ZOOM_MIN, Math.min(1, (container.clientWidth - 4) / layout.width));
  };

  /** @param {"in" | "out" | "fit" | "reset"} how */
  const setZoom = (how) => {
    if (how === "in") zoom = Math.min(ZOOM_MAX, zoom * ZOOM_STEP);
    else if (how === "out") zoom = Math.max(ZOOM_MIN, zoom / ZOOM_STEP);
    else if (how === "fit") zoom = fitZoom();
    else zoom = 1;
    applyZoom();
    updateTip();
  };

  /** @param {number} id */
  const focusNode = (id) => {
    const element = container.querySelector(`#task-${id}`);
    if (element instanceof SVGElement) {
      element.focus();
      element.scrollIntoView?.({ block: "nearest", inline: "nearest" });
    }
  };

  const highlight = () => {
    for (const edge of container.querySelectorAll(".edge.hl")) edge.classList.remove("hl");
    for (const node of container.querySelectorAll(".node.selected")) node.classList.remove("selected");
    if (selected === null) return;
    container.querySelector(`#task-${selected}`)?.classList.add("selected");
    for (const edge of container.querySelectorAll(`.edge[data-from="${selected}"], .edge[data-to="${selected}"]`)) edge.classList.add("hl");
  };

  const showDetail = () => {
    if (!detail) return;
    const n = selected === null ? undefined : byId.get(selected);
    if (!n) {
      detail.innerHTML = `<p class="hint">Select a task in the graph to see its details here.</p>`;
      return;
    }
    /** @param {number[]} ids */
    const links = (ids) =>
      ids.length ? ids.map((id) => (byId.has(id) ? `<button type="button" class="linkish" data-show="${id}">#${id}</button>` : `#${id}`)).join(", ") : `<span class="none">—</span>`;
    const state = STATES[n.state];
    const row = (/** @type {string} */ term, /** @type {string} */ value) => `<div><dt>${term}</dt><dd>${value}</dd></div>`;
    detail.innerHTML =
      `<h3>#${n.id} ${escape(n.title)}</h3>` +
      `<p><span class="badge st-${n.state}"><svg class="icon" aria-hidden="true" focusable="false"><use href="#i-${state.icon}"></use></svg>${state.label}</span></p>` +
      `<dl>` +
      row("Role", n.role === OWNER_ROLE ? "Owner's decision" : n.role ? escape(n.role) : `<span class="none">—</span>`) +
      row("Runs when", escape(n.run_when.replace(/_/g, " "))) +
      row("Not before", n.not_before ? escape(full.format(new Date(n.not_before))) : `<span class="none">—</span>`) +
      row("Priority", String(n.priority)) +
      row("Depends on", links([...(dependencies.get(n.id) ?? []), ...n.external_dependencies])) +
      row("Needed by", links(dependents.get(n.id) ?? [])) +
      row("Waiting for", links(n.blocked_by)) +
      row("Agent", n.assigned_to ? escape(n.assigned_to) : `<span class="none">—</span>`) +
      row("Lease ends", n.lease_expires_at ? escape(full.format(new Date(n.lease_expires_at))) : `<span class="none">—</span>`) +
      row("Attempt", `${n.attempt} of ${n.max_attempts}`) +
      row("Updated", escape(full.format(new Date(n.updated_at)))) +
      `</dl>`;
    const more = options.more?.(n.id);
    if (more) detail.append(more);
  };

  /** @param {number | null} id */
  const select = (id) => {
    selected = id;
    highlight();
    showDetail();
  };

  const render = () => {
    if (data.nodes.length === 0) {
      container.innerHTML = `<p class="empty">No tasks yet: decompose the goal (<code>decompose_goal</code>) or create tasks in it.</p>`;
      layout = null;
      return;
    }
    const started = performance.now();
    const reuse = layout !== null && layout.key === layoutKey(data);
    if (!reuse) layout = computeLayout(data);
    const laidOut = performance.now();
    const current = /** @type {Layout} */ (layout);
    const hadFocus = document.activeElement instanceof SVGElement ? document.activeElement.closest(".node") : null;
    const focusedId = hadFocus ? Number(hadFocus.getAttribute("data-id")) : null;
    const scroll = { left: container.scrollLeft, top: container.scrollTop };

    const parts = [
      `<svg class="graph-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${current.width} ${current.height}" role="group" aria-label="Task graph: ${data.nodes.length} tasks, ${data.edges.length} dependencies">`,
      `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path class="arrow" d="M0 0L10 5L0 10z"></path></marker></defs>`,
      `<g aria-hidden="true">`,
    ];
    for (const [from, to] of data.edges) {
      const done = byId.get(from)?.state === "completed";
      parts.push(`<path class="edge${done ? " done" : ""}" data-from="${from}" data-to="${to}" d="${pathOf(current.routes.get(`${from}>${to}`) ?? [])}" marker-end="url(#arrow)"></path>`);
    }
    parts.push(`</g>`);
    for (const id of current.order) {
      const n = byId.get(id);
      const p = current.at.get(id);
      if (n && p) parts.push(nodeSvg(n, p));
    }
    parts.push(`</svg>`);
    container.innerHTML = parts.join("");
    hovered = null;
    focused = null;
    tip.hidden = true;

    if (!fitted) {
      fitted = true;
      // Fitted to the width while the text stays readable; a phone starts at 100 % and scrolls
      // (Fit shows the whole graph).
      const fit = fitZoom();
      zoom = fit >= 0.75 ? fit : 1;
      applyZoom();
      // Wider than the screen: start with the first task in view, not the left edge.
      const first = current.at.get(current.order[0]);
      if (first) scroll.left = Math.max(0, (first.x + NODE_W / 2) * zoom - container.clientWidth / 2);
    }
    applyZoom();
    container.scrollLeft = scroll.left;
    container.scrollTop = scroll.top;
    if (selected !== null && !byId.has(selected)) selected = null;
    highlight();
    showDetail();
    // Redrawn under the keyboard: the same task keeps the focus.
    const refocus = focusedId === null ? null : container.querySelector(`#task-${focusedId}`);
    if (refocus instanceof SVGElement) refocus.focus({ preventScroll: true });

    const drawn = performance.now();
    container.dataset.rendered = String(data.nodes.length);
    container.dataset.layoutMs = (laidOut - started).toFixed(1);
    container.dataset.drawMs = (drawn - laidOut).toFixed(1);
    performance.mark("graph-drawn");
    // After the browser has painted this frame.
    requestAnimationFrame(() => setTimeout(() => performance.mark("graph-painted"), 0));
  };

  // ─── input: one listener each for every node (delegation), not one per node ───

  container.addEventListener("click", (event) => {
    const node = event.target instanceof Element ? event.target.closest(".node") : null;
    if (node) select(Number(node.getAttribute("data-id")));
  });
  container.addEventListener("focusin", (event) => {
    const node = event.target instanceof Element ? event.target.closest(".node") : null;
    if (node) select(Number(node.getAttribute("data-id")));
    focused = node;
    updateTip();
  });
  container.addEventListener("focusout", () => {
    focused = null;
    updateTip();
  });
  container.addEventListener("mouseover", (event) => {
    // The pointer may move onto the tip without it going away.
    if (!(event.target instanceof Element) || tip.contains(event.target)) return;
    const node = event.target.closest(".node");
    if (node === hovered) return;
    hovered = node;
    updateTip();
  });
  container.addEventListener("mouseleave", () => {
    hovered = null;
    updateTip();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") tip.hidden = true;
  });
  container.addEventListener("keydown", (event) => {
    const node = event.target instanceof Element ? event.target.closest(".node") : null;
    if (!node || !layout) return;
    const id = Number(node.getAttribute("data-id"));
    const current = layout;
    /** @param {number[]} ids */
    const nearest = (ids) => {
      const here = /** @type {Point} */ (current.at.get(id));
      const candidates = ids.filter((other) => current.at.has(other));
      candidates.sort((a, b) => Math.abs(/** @type {Point} */ (current.at.get(a)).x - here.x) - Math.abs(/** @type {Point} */ (current.at.get(b)).x - here.x));
      return candidates[0];
    };
    let target;
    if (event.key === "Enter" || event.key === " ") {
      select(id);
      detail?.scrollIntoView?.({ block: "nearest" });
      event.preventDefault();
      return;
    }
    if (event.key === "ArrowUp") target = nearest(dependencies.get(id) ?? []);
    else if (event.key === "ArrowDown") target = nearest(dependents.get(id) ?? []);
    else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      const index = current.order.indexOf(id);
      const next = current.order[index + (event.key === "ArrowLeft" ? -1 : 1)];
      if (next !== undefined && /** @type {Point} */ (current.at.get(next)).y === /** @type {Point} */ (current.at.get(id)).y) target = next;
    } else return;
    event.preventDefault();
    if (target !== undefined) focusNode(target);
  });
  detail?.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-show]") : null;
    if (button) focusNode(Number(button.getAttribute("data-show")));
  });
  for (const button of document.querySelectorAll("[data-zoom]")) {
    button.addEventListener("click", () => setZoom(/** @type {"in" | "out" | "fit" | "reset"} */ (button.getAttribute("data-zoom"))));
  }

  return {
    /** @param {GraphData | null} next */
    update(next) {
      if (!next) return;
      data = next;
      byId = new Map(next.nodes.map((n) => [n.id, n]));
      dependencies = new Map();
      dependents = new Map();
      for (const [from, to] of next.edges) {
        dependencies.set(to, [...(dependencies.get(to) ?? []), from]);
        dependents.set(from, [...(dependents.get(from) ?? []), to]);
      }
      render();
    },
  };
}
