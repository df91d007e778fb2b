// @ts-check
/**
 * The dashboard's page script. The server renders every page; this script keeps it current:
 *
 *  - When the Runtime says something changed (live.js), it fetches the same URL again with
 *    `X-Dashboard-Fragment: main` and swaps the inside of <main>, keeping focus, open <details>,
 *    what the owner is typing and the graph in place, and sets the navigation's count of
 *    decisions waiting from the answer's `X-Dashboard-Waiting`. Changes are debounced, one fetch
 *    at a time, none while the tab is hidden: however busy the agents, a page costs a few
 *    requests per second at most.
 *  - On a goal page it draws the task graph (graph.js, loaded only there).
 *  - It shows times in the reader's time zone and counts breaker cooldowns down.
 *  - Copy buttons (data-copy="<id>") put the text of that element on the clipboard.
 */
import { connectLive } from "./live.js";

const FRAGMENT_HEADER = "X-Dashboard-Fragment";
const DEBOUNCE_MS = 200;

/** @type {{ update(data: any): void } | null} */
let graph = null;

// ─── refresh after a change ───

/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
let inFlight = false;
let again = false;
let staleWhileHidden = false;
/** A new agent key is shown once: no refresh may take its page away. */
const FROZEN = document.body.dataset.page === "key-created";

function scheduleRefresh(delay = DEBOUNCE_MS) {
  if (FROZEN) return;
  if (document.hidden) {
    staleWhileHidden = true;
    return;
  }
  if (timer !== undefined) return;
  timer = setTimeout(runRefresh, delay);
}

async function runRefresh() {
  timer = undefined;
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  try {
    await refresh();
  } catch {
    // The server is away (restarting): the live socket's reconnect brings the next refresh.
  } finally {
    inFlight = false;
    if (again) {
      again = false;
      scheduleRefresh();
    }
  }
}

async function refresh() {
  const response = await fetch(location.pathname + location.search, {
    headers: { [FRAGMENT_HEADER]: "main" },
    credentials: "same-origin",
    cache: "no-store",
  });
  if (response.status === 401) {
    location.assign("/");
    return;
  }
  if (!response.ok && response.status !== 404) return;
  swapMain(await response.text());
  const title = response.headers.get("X-Dashboard-Title");
  if (title) document.title = `${decodeURIComponent(title)} · Agent Runtime`;
  setWaitingCount(response.headers.get("X-Dashboard-Waiting"));
}

/** The count beside "Waiting for you" in the navigation. @param {string | null} value */
function setWaitingCount(value) {
  const count = document.getElementById("waiting-count");
  if (!count || value === null || !/^\d+$/.test(value)) return;
  if (count.textContent !== value) count.textContent = value;
  count.dataset.count = value;
}

/** What has focus, as something that can be found again in the new content. */
function focusKey() {
  const active = document.activeElement;
  const main = document.getElementById("main");
  if (!active || !main || !main.contains(active) || active === main) return null;
  if (active.id) return `#${CSS.escape(active.id)}`;
  const href = active.getAttribute("href");
  if (href) return `[href="${CSS.escape(href)}"]`;
  return null;
}

/** @param {string} html the inside of <main>, as the server renders it */
function swapMain(html) {
  const main = document.getElementById("main");
  if (!main) return;
  // Before anything moves: a focused element leaves the document while it is moved.
  const key = focusKey();
  const template = document.createElement("template");
  template.innerHTML = html;
  const fresh = template.content;
  // Elements marked data-keep stay as they are (the drawn graph, the task details).
  for (const placeholder of fresh.querySelectorAll("[data-keep][id]")) {
    const current = document.getElementById(placeholder.id);
    if (current) placeholder.replaceWith(current);
  }
  for (const details of fresh.querySelectorAll("details[id]")) {
    const current = document.getElementById(details.id);
    if (current instanceof HTMLDetailsElement && details instanceof HTMLDetailsElement) details.open = current.open;
  }
  // What the owner is typing (a decision's note) survives the redraw, caret and all.
  /** @type {{ id: string, start: number | null, end: number | null } | null} */
  let caret = null;
  for (const field of fresh.querySelectorAll("textarea[id]")) {
    const current = document.getElementById(field.id);
    if (!(current instanceof HTMLTextAreaElement) || !(field instanceof HTMLTextAreaElement) || current.value === "") continue;
    field.defaultValue = current.value;
    if (current === document.activeElement) caret = { id: field.id, start: current.selectionStart, end: current.selectionEnd };
  }
  main.replaceChildren(fresh);
  enhance(main);
  // The graph redraws from the new data; a focused task node is found again by its id.
  if (graph) graph.update(readGraphData());
  const target = key ? main.querySelector(key) : null;
  if (target instanceof HTMLElement || target instanceof SVGElement) target.focus({ preventScroll: true });
  const typing = caret ? document.getElementById(caret.id) : null;
  if (caret && typing instanceof HTMLTextAreaElement) typing.setSelectionRange(caret.start, caret.end);
}

// ─── small enhancements of server-rendered content ───

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** @param {number} seconds */
function durationWords(seconds) {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** @param {ParentNode} root */
function enhance(root) {
  for (const element of root.querySelectorAll("time[datetime]")) {
    const iso = element.getAttribute("datetime");
    if (!iso || element.hasAttribute("title")) continue;
    element.setAttribute("title", element.textContent ?? iso);
    element.textContent = timeFormat.format(new Date(iso));
  }
  tick(root);
}

/** @param {ParentNode} root */
function tick(root = document) {
  for (const element of root.querySelectorAll("[data-countdown]")) {
    const until = Date.parse(element.getAttribute("data-countdown") ?? "");
    const text = durationWords(Math.max(0, Math.ceil((until - Date.now()) / 1000)));
    if (element.textContent !== text) element.textContent = text;
  }
}

// ─── copy buttons ───

/** @param {Event} event */
async function copyFrom(event) {
  const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
  if (!(button instanceof HTMLButtonElement)) return;
  const source = document.getElementById(button.dataset.copy ?? "");
  if (!source) return;
  const note = button.parentElement?.querySelector(".copy-note");
  const say = (/** @type {string} */ words) => {
    if (note) note.textContent = words;
  };
  try {
    await navigator.clipboard.writeText(source.textContent ?? "");
    say("Copied");
  } catch {
    // No clipboard (an insecure origin, a denied permission): select the text for Ctrl+C.
    getSelection()?.selectAllChildren(source);
    say("Selected: press Ctrl+C");
  }
  setTimeout(() => say(""), 2500);
}

function readGraphData() {
  const block = document.getElementById("graph-data");
  return block ? JSON.parse(block.textContent ?? "{}") : null;
}

/**
 * Below a graph node's details: the link to the task's page, and for a decision waiting for the
 * owner, to where it is decided. @param {number} id
 */
function taskLinks(id) {
  const links = document.createElement("p");
  const page = document.createElement("a");
  page.href = `/app/tasks/${id}`;
  page.textContent = "The task's page";
  links.append(page, ": description, result, error, inputs, history.");
  const node = readGraphData()?.nodes.find((/** @type {{ id: number }} */ n) => n.id === id);
  if (node?.role === "owner" && node.state === "ready") {
    const decide = document.createElement("a");
    decide.href = `/app/waiting#decision-${id}`;
    decide.textContent = "Decide it on Waiting for you";
    links.append(" ", decide, ".");
  }
  return links;
}

// ─── start ───

async function start() {
  const main = document.getElementById("main");
  if (main) enhance(main);
  setInterval(tick, 1000);
  document.addEventListener("click", (event) => void copyFrom(event));

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && staleWhileHidden) {
      staleWhileHidden = false;
      scheduleRefresh(0);
    }
  });

  connectLive({
    status: document.getElementById("live-status"),
    onChange: () => scheduleRefresh(),
    onReconnect: () => scheduleRefresh(0),
    // A socket that keeps failing may mean the session ended: a refresh finds out (401 → sign-in).
    onDown: (failures) => {
      if (failures >= 3) scheduleRefresh(0);
    },
  });

  const container = document.getElementById("graph");
  if (document.body.dataset.page === "goal" && container) {
    const { mountGraph } = await import("./graph.js");
    graph = mountGraph(container, { more: taskLinks });
    graph.update(readGraphData());
  }
}

void start();
