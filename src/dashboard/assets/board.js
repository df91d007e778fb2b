// @ts-check
/**
 * The goal board (SPEC §15, docs/app.md): what an MCP Apps host shows under `get_goal`'s result.
 * It draws the goal's tasks with the dashboard's own graph (graph.js) and keeps the drawing
 * current through its own tool calls, relayed by the host: `get_goal` every few seconds while the
 * board is on screen, and every page of `list_tasks {goal_id, view: "full"}` when the goal's
 * counts moved, at least every `RELIST_MS`, and on demand (Refresh) — a goal of 500 tasks is a
 * few hundred kilobytes of tasks, its counts a few hundred bytes. It only reads (`READS`):
 * nothing in it can change a goal or a task.
 *
 * The host's theme decides light or dark (color-scheme, which style.css's palette follows), and
 * its theme variables stand in for the palette's colours where it has them (`HOST_VARIABLES`).
 */
import { graphOf } from "./board-data.js";
import { mountGraph } from "./graph.js";
import { connectToHost, errorText } from "./mcp-view.js";

/**
 * @typedef {import("./board-data.js").ListedTask & { description?: string, result?: string | null,
 *   error?: string | null, progress?: string | null }} FullTask
 * @typedef {{ id: number, name: string, status: string, progress: number, updated_at: string,
 *   task_counts: Record<"pending" | "in_progress" | "completed" | "failed" | "cancelled", number> }} Goal
 * @typedef {import("./mcp-view.js").HostContext} HostContext
 * @typedef {import("./mcp-view.js").Host} Host
 * @typedef {import("./mcp-view.js").ToolResult} ToolResult
 */

/** How often the board looks again while the goal is active, and once it is finished. */
const POLL_MS = 4_000;
const FINISHED_POLL_MS = 30_000;
/** The tasks are listed again at least this often, even when the goal's counts stay the same. */
const RELIST_MS = 30_000;
/** Tasks per list_tasks page (the tool's maximum; a page also stops at its size bound). */
const PAGE_SIZE = 500;
/** More than anyone reads in one drawing; the counts above it still name every task. */
const MAX_TASKS = 1_000;
/** The tools the board calls, all of them reads. */
const READS = new Set(["get_goal", "list_tasks"]);
/** A task's texts in its details are cut here; the whole text is one get_task away. */
const TEXT_CHARS = 600;

/** The host's theme variables (MCP Apps' standard names) that replace the colours of style.css. */
const HOST_VARIABLES = {
  "--bg": "--color-background-primary",
  "--surface": "--color-background-secondary",
  "--text": "--color-text-primary",
  "--muted": "--color-text-secondary",
  "--line": "--color-border-primary",
  "--accent": "--color-text-info",
  "--focus": "--color-ring-primary",
  "--ready": "--color-text-info",
  "--ready-bg": "--color-background-info",
  "--running": "--color-text-warning",
  "--running-bg": "--color-background-warning",
  "--done": "--color-text-success",
  "--done-bg": "--color-background-success",
  "--failed": "--color-text-danger",
  "--failed-bg": "--color-background-danger",
};

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** The dashboard's words and icons for every status (html.ts STATUS, sent along in the document). */
const STATUS = /** @type {Record<string, { label: string, icon: string }>} */ (JSON.parse(byId("status-words").textContent ?? "{}"));
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const number = new Intl.NumberFormat("en");

/** @type {Host | null} */
let host = null;
/** @type {number | null} */
let goalId = null;
/** @type {Goal | null} */
let goal = null;
/** @type {Map<number, FullTask>} */
let tasks = new Map();
/** The drawn data as JSON: a refresh that changed nothing draws nothing. */
let drawn = "";
/** The goal's task counts when its tasks were last listed, and when that was. */
let listedCounts = "";
let listedAt = 0;
/** The next refresh lists the tasks whatever the counts say (Refresh was pressed). */
let relist = false;
let displayMode = "inline";
/** @type {HostContext["containerDimensions"]} */
let dimensions;

/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
let inFlight = false;
let again = false;
let paused = false;
let onScreen = true;
let stopped = false;

const graph = mountGraph(byId("graph"), { more: taskTexts });

// ─── the host ───

/** @param {string} method @param {any} params */
function onHostMessage(method, params) {
  if (method === "ui/notifications/tool-input") setGoal(params?.arguments?.goal_id);
  else if (method === "ui/notifications/tool-result") onToolResult(params);
  else if (method === "ui/notifications/host-context-changed") applyHostContext(params);
  else if (method === "ui/notifications/tool-cancelled") showStatus("error", "The call was cancelled.");
  else if (method === "ui/resource-teardown") {
    stopped = true;
    clearTimeout(timer);
  }
}

/** get_goal's own answer, which the host passes on: the goal, or why there is none. @param {ToolResult} result */
function onToolResult(result) {
  if (result?.isError) {
    showStatus("error", errorText(result));
    byId("graph").replaceChildren(paragraph("empty", errorText(result)));
    return;
  }
  const answered = /** @type {Goal | undefined} */ (result?.structuredContent);
  if (!answered || typeof answered.id !== "number") return;
  // Unless the board's own calls have already drawn something fresher.
  if (drawn === "") renderGoal(answered, null);
  setGoal(answered.id);
}

/** @param {unknown} id */
function setGoal(id) {
  if (typeof id !== "number" || !Number.isInteger(id) || id <= 0 || id === goalId) return;
  goalId = id;
  drawn = "";
  listedCounts = "";
  schedule(0);
}

/** The only way the board reaches the server. @param {string} name @param {Record<string, unknown>} args */
async function callTool(name, args) {
  if (!host || !READS.has(name)) throw new Error(`the board does not call ${name}`);
  /** @type {ToolResult} */
  const result = await host.request("tools/call", { name, arguments: args });
  if (result.isError) throw new Error(errorText(result));
  return /** @type {any} */ (result.structuredContent);
}

const canRefresh = () => host !== null && host.hostCapabilities.serverTools !== undefined;

// ─── refreshing ───

/** @param {number} delay */
function schedule(delay) {
  clearTimeout(timer);
  if (!stopped) timer = setTimeout(tick, delay);
}

async function tick() {
  timer = undefined;
  if (goalId === null || !host) return;
  if (!canRefresh()) {
    showStatus("static", "This client does not relay the board's tool calls: the counts are get_goal's answer.");
    byId("graph").replaceChildren(paragraph("empty", "The tasks cannot be drawn here: this client does not let the board read them."));
    return;
  }
  if (document.hidden || !onScreen) {
    paused = true;
    showStatus("paused", "Paused while out of view");
    return;
  }
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  try {
    await refresh();
    showStatus("live", `Live · updated ${clock.format(new Date())}`);
  } catch (error) {
    showStatus("error", `Could not refresh: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    inFlight = false;
    if (again) {
      again = false;
      schedule(0);
    } else {
      schedule(goal?.status === "active" ? POLL_MS : FINISHED_POLL_MS);
    }
  }
}

async function refresh() {
  const id = /** @type {number} */ (goalId);
  const fresh = /** @type {Goal} */ (await callTool("get_goal", { goal_id: id }));
  // Every change of a task's status moves the counts; what does not (a heartbeat, an edit) waits
  // for the next listing at most RELIST_MS.
  const counts = JSON.stringify(fresh.task_counts);
  if (!relist && counts === listedCounts && Date.now() - listedAt < RELIST_MS) {
    renderGoal(fresh, tasks.size);
    return;
  }
  /** @type {FullTask[]} */
  const listed = [];
  /** @type {string | null} */
  let cursor = null;
  do {
    const page = await callTool("list_tasks", { goal_id: id, view: "full", limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) });
    listed.push(...page.tasks);
    cursor = page.next_cursor;
  } while (cursor && listed.length < MAX_TASKS);
  if (id !== goalId) return;
  const shown = listed.slice(0, MAX_TASKS);
  listedCounts = counts;
  listedAt = Date.now();
  relist = false;
  tasks = new Map(shown.map((task) => [task.id, task]));
  renderGoal(fresh, shown.length);
  const data = graphOf(id, shown);
  const json = JSON.stringify(data);
  if (json !== drawn) {
    drawn = json;
    graph.update(data);
  }
}

function resume() {
  if (paused && !document.hidden && onScreen) {
    paused = false;
    schedule(0);
  }
}

// ─── drawing the goal ───

/** @param {string} className @param {string} text */
function paragraph(className, text) {
  const p = document.createElement("p");
  p.className = className;
  p.textContent = text;
  return p;
}

/** A status badge as the dashboard draws it (html.ts `badge`). @param {string} status */
function badge(status) {
  const words = STATUS[status] ?? { label: status, icon: "ready" };
  const span = document.createElement("span");
  span.className = `badge st-${status}`;
  span.innerHTML = `<svg class="icon" aria-hidden="true" focusable="false"><use href="#i-${words.icon}"></use></svg>`;
  span.append(status === "active" ? "Active" : words.label);
  return span;
}

/** The head of the board: name, status, progress, counts. `shown`: tasks drawn, null before the first list. @param {Goal} next @param {number | null} shown */
function renderGoal(next, shown) {
  goal = next;
  byId("goal-name").textContent = next.name;
  byId("goal-status").replaceChildren(badge(next.status));
  const percent = `${Math.round(next.progress * 100)} %`;
  const bar = /** @type {HTMLProgressElement} */ (byId("goal-progress"));
  bar.value = Math.round(next.progress * 1000) / 1000;
  bar.setAttribute("aria-label", `Progress of ${next.name}`);
  bar.textContent = percent;
  byId("goal-percent").textContent = percent;
  const c = next.task_counts;
  const total = c.pending + c.in_progress + c.completed + c.failed + c.cancelled;
  const parts = /** @type {[number, string][]} */ ([
    [c.completed, "done"],
    [c.in_progress, "in progress"],
    [c.pending, "pending"],
    [c.failed, "failed"],
    [c.cancelled, "cancelled"],
  ])
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${number.format(n)} ${what}`);
  const cut = shown !== null && shown < total ? ` Only the first ${number.format(shown)} are drawn.` : "";
  byId("goal-counts").textContent = `${number.format(total)} ${total === 1 ? "task" : "tasks"}${parts.length ? `: ${parts.join(", ")}` : ""}.${cut}`;
}

/** What a task's details add to the drawing's facts: its texts, cut. @param {number} id */
function taskTexts(id) {
  const task = tasks.get(id);
  if (!task) return null;
  const list = document.createElement("dl");
  list.className = "texts";
  for (const [term, value] of /** @type {[string, unknown][]} */ ([
    ["Description", task.description],
    ["Progress note", task.progress],
    ["Result", task.result],
    ["Error", task.error],
  ])) {
    if (typeof value !== "string" || value === "") continue;
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value.length > TEXT_CHARS ? `${value.slice(0, TEXT_CHARS - 1).trimEnd()}…` : value;
    list.append(dt, dd);
  }
  return list.childElementCount ? list : null;
}

/** @param {"connecting" | "live" | "paused" | "error" | "static"} state @param {string} text */
function showStatus(state, text) {
  const status = byId("live-status");
  status.dataset.state = state;
  const words = status.querySelector(".live-text");
  if (words) words.textContent = text;
  byId("refresh").hidden = state === "static";
}

// ─── fitting into the host ───

/** Theme, colours, display mode and frame size, whole at start and in parts after. @param {HostContext | undefined} context */
function applyHostContext(context) {
  if (!context) return;
  const root = document.documentElement;
  if (context.theme === "light" || context.theme === "dark") {
    root.dataset.theme = context.theme;
    root.style.colorScheme = context.theme;
  }
  const variables = context.styles?.variables;
  if (variables) {
    for (const [name, value] of Object.entries(variables)) if (name.startsWith("--") && typeof value === "string") root.style.setProperty(name, value);
    for (const [ours, theirs] of Object.entries(HOST_VARIABLES)) {
      const value = variables[theirs];
      if (typeof value === "string") root.style.setProperty(ours, value);
    }
    if (typeof variables["--font-sans"] === "string") root.style.fontFamily = variables["--font-sans"];
  }
  if (context.containerDimensions) dimensions = context.containerDimensions;
  if (typeof context.displayMode === "string") displayMode = context.displayMode;
  if (context.availableDisplayModes) byId("fullscreen").hidden = !context.availableDisplayModes.includes("fullscreen");
  const full = displayMode === "fullscreen";
  const button = byId("fullscreen");
  button.textContent = full ? "Exit full screen" : "Full screen";
  button.setAttribute("aria-pressed", String(full));
  // A frame of fixed height (or the whole screen): the graph takes the room the rest leaves.
  root.toggleAttribute("data-fill", full || typeof dimensions?.height === "number");
}

async function toggleFullscreen() {
  if (!host) return;
  try {
    const answer = await host.request("ui/request-display-mode", { mode: displayMode === "fullscreen" ? "inline" : "fullscreen" });
    applyHostContext({ displayMode: answer?.mode ?? displayMode });
  } catch {
    // The host declined: the board stays as it is.
  }
}

// ─── start ───

async function start() {
  byId("refresh").addEventListener("click", () => {
    paused = false;
    relist = true;
    schedule(0);
  });
  byId("fullscreen").addEventListener("click", () => void toggleFullscreen());
  document.addEventListener("visibilitychange", resume);
  new IntersectionObserver((entries) => {
    onScreen = entries.some((entry) => entry.isIntersecting);
    resume();
  }).observe(byId("main"));
  try {
    host = await connectToHost({ name: "agent-runtime-goal-board", version: "1.0.0" }, { availableDisplayModes: ["inline", "fullscreen"] }, onHostMessage);
  } catch (error) {
    showStatus("error", `This client did not connect the board: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  applyHostContext(host.hostContext);
  showStatus("connecting", "Waiting for the goal…");
  if (goalId !== null) schedule(0);
}

void start();
