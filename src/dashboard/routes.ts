/**
 * The owner's dashboard (docs/dashboard.md): sign-in at `/`, pages under `/app`, the export download, the
 * import upload, the live socket, and the browser files under `/assets/`. The MCP endpoint and the
 * OAuth flow never reach this handler (src/index.ts routes only these paths here).
 *
 *   GET  /                  sign-in form (signed in: → /app)
 *   POST /login, /logout    start / end the session
 *   GET  /app               goals          GET /app/goals/:id    one goal's task graph
 *   GET  /app/waiting       owner tasks ready for a decision (the count is in every page's navigation)
 *   GET  /app/tasks/:id     one task: state, texts, inputs, history     GET /app/tasks  tasks without a goal
 *   POST /app/tasks/:id/decide, /app/tasks/:id/retry, /app/goals/:id/retry   the owner's actions (actions.ts)
 *   GET  /app/schedules     schedules      POST /app/schedules/:id   pause or resume one
 *   GET  /app/relays        pipelines      GET /app/relays/:id   one pipeline, step by step
 *                           (lists: ?before=<key> for the older ones, a window of PER_PAGE at a time)
 *   GET  /app/breakers      breakers       GET /app/data         export & import
 *   GET  /app/notifications where notifications go, and how their delivery fares
 *   GET  /app/keys          agent keys     POST /app/keys        make one (shown once)
 *   POST /app/keys/revoke   revoke one
 *   GET  /export            the JSON download      POST /import   an upload into an empty instance
 *   POST /wipe              everything removed (typed confirmation), so that an import can be redone
 *   GET  /live              WebSocket: {"changed":true} whenever the owner's data changes
 *
 * Every page GET with `X-Dashboard-Fragment: main` answers only the inside of <main>: the page
 * script's refresh after a change, with the count of decisions waiting in `X-Dashboard-Waiting`.
 * Every POST must come from our own page (Origin) and carry the session's CSRF token.
 */
import { OWNER_USER_ID } from "../auth/grant";
import { checkOwnerPassword, ownerPasswordProblem } from "../auth/owner-sign-in";
import { mcpEndpoint } from "../auth/resource";
import { runtimeOf as runtimeOfUser, type RuntimeApi } from "../runtime/api";
import type { Outcome } from "../runtime/kernel/errors";
import { MAX_TRANSFER_BYTES } from "../runtime/transfer/tables";
import { actionAt, pageOf, runAction, type Refusal } from "./actions";
import { issueAgentKey, keyRequestOf } from "./agent-keys";
import { serveAsset } from "./assets";
import { html, type Html } from "./html";
import { htmlResponse, jsonResponse, readForm, redirect, withSecurityHeaders } from "./http";
import { breakersPage, BREAKERS_SHOWN } from "./pages/breakers";
import { dataPage, WIPE_CONFIRMATION, type DataResult } from "./pages/data";
import { goalPage } from "./pages/goal";
import { goalsPage } from "./pages/goals";
import { keyCreatedPage, keysPage, type KeyForm } from "./pages/keys";
import { layout, type Page } from "./pages/layout";
import { notificationsPage } from "./pages/notifications";
import { relayPage, relaysPage } from "./pages/relays";
import { RUNS_SHOWN, schedulesPage, SCHEDULES_SHOWN, type ScheduleNotice } from "./pages/schedules";
import { beforeParam, PER_PAGE } from "./pages/window";
import { messagePage, signInPage } from "./pages/sign-in";
import { taskPage } from "./pages/task";
import { isOwnerTask, noticeOf, type Notice } from "./pages/task-parts";
import { LOOSE_TASKS_ON_GOALS, LOOSE_TASKS_PER_PAGE, looseTasksPage } from "./pages/tasks";
import { waitingPage, WAITING_SHOWN } from "./pages/waiting";
import { createSession, csrfMatches, endSession, fromOwnPage, readSession, type Session } from "./session";

const EXACT = new Set(["/", "/login", "/logout", "/live", "/export", "/import", "/wipe"]);

/** The paths src/index.ts hands to this handler. */
export function isDashboardPath(pathname: string): boolean {
  return EXACT.has(pathname) || pathname === "/app" || pathname.startsWith("/app/") || pathname.startsWith("/assets/");
}

/** The sign-in form is a password and nothing else. */
const MAX_LOGIN_BYTES = 16 * 1024;
/** An owner's action is a CSRF token and a word or two. */
const MAX_ACTION_BYTES = 4 * 1024;
/** Room for the multipart framing and the CSRF field around the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;
const FRAGMENT_HEADER = "X-Dashboard-Fragment";
/** A list cursor is short; anything longer in a URL is not one of ours. */
const MAX_CURSOR_CHARS = 512;

const runtimeOf = (env: Cloudflare.Env) => runtimeOfUser(env, OWNER_USER_ID);

export async function handleDashboard(request: Request, env: Cloudflare.Env): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname;
  const method = request.method;

  if (path.startsWith("/assets/")) {
    if (method !== "GET" && method !== "HEAD") return notAllowed("GET, HEAD");
    return (await serveAsset(request, path.slice("/assets/".length))) ?? notFoundText();
  }
  if (path === "/login") return method === "POST" ? login(request, env) : notAllowed("POST");

  const session = await readSession(request, env);
  if (path === "/") {
    if (method !== "GET" && method !== "HEAD") return notAllowed("GET");
    if (session) return redirect("/app");
    const problem = ownerPasswordProblem(env);
    if (problem) return htmlResponse(messagePage("Sign-in is not set up", problem), 503);
    return htmlResponse(signInPage());
  }
  if (path === "/logout") return method === "POST" ? logout(request, env, session) : notAllowed("POST");

  if (!session) {
    // A page opens the sign-in form; anything a script asked for gets a plain 401.
    if (method === "GET" && path.startsWith("/app") && !request.headers.has(FRAGMENT_HEADER)) return redirect("/");
    return jsonResponse({ error: "not signed in" }, 401);
  }

  if (path === "/live") return live(request, env);
  if (path === "/export") return method === "GET" ? exportAll(env) : notAllowed("GET");
  // A reload of the import's answer page lands on the form, never re-sends the file.
  if (path === "/import") return method === "POST" ? importAll(request, env, session) : redirect("/app/data");
  const action = actionAt(path);
  // A reload of a refused action's answer lands on the page it came from.
  if (action) return method === "POST" ? runAction(request, runtimeOf(env), session, action, (at, refusal) => page(request, env, session, at, refusal)) : redirect(pageOf(action));
  if (path === "/app/keys" && method === "POST") return createKey(request, env, session);
  if (path === "/app/keys/revoke") return method === "POST" ? revokeKey(request, env, session) : redirect("/app/keys");
  const scheduleAction = /^\/app\/schedules\/(sc_[a-z2-7]{12})$/.exec(path);
  if (scheduleAction) return method === "POST" ? changeSchedule(request, env, session, scheduleAction[1]) : redirect("/app/schedules");
  if (path === "/wipe") return method === "POST" ? wipeAll(request, env, session) : redirect("/app/data");
  if (method !== "GET" && method !== "HEAD") return notAllowed("GET");
  return page(request, env, session, path);
}

/** The page at `path`; after a refused action (`refusal`), with its reason on top and its status. */
async function page(request: Request, env: Cloudflare.Env, session: Session, path: string, refusal?: Refusal): Promise<Response> {
  const runtime = runtimeOf(env);
  const query = new URL(request.url).searchParams;
  const show = (built: Page, status = 200, notice?: Notice) => framed(request, runtime, session, built, refusal?.status ?? status, refusal?.notice ?? notice);

  if (path === "/app" || path === "/app/") {
    const goals = value(await runtime.goalsWindow(beforeParam(new URL(request.url)), PER_PAGE));
    return show(goalsPage(goals, value(await runtime.listTasks({ goal_id: null, limit: LOOSE_TASKS_ON_GOALS }))));
  }
  if (path === "/app/waiting") {
    return show(waitingPage(value(await runtime.waitingForOwner(WAITING_SHOWN)), session.csrf), 200, await decidedNotice(runtime, Number(query.get("decided"))));
  }
  if (path === "/app/tasks") return looseTasks(runtime, query.get("cursor"), show);
  const task = /^\/app\/tasks\/([1-9]\d{0,15})$/.exec(path);
  if (task) {
    const id = Number(task[1]);
    const found = await runtime.getTask(id);
    if (!found.ok) return show(missing("goals", `Task ${id} does not exist.`), 404);
    const notice = query.has("decided") ? await decidedNotice(runtime, id) : query.has("retried") ? retriedNotice(found.value) : undefined;
    return show(taskPage(found.value, session.csrf), 200, notice);
  }
  const goal = /^\/app\/goals\/([1-9]\d{0,15})$/.exec(path);
  if (goal) {
    const id = Number(goal[1]);
    const found = await runtime.goalGraph(id);
    if (!found.ok) return show(missing("goals", `Goal ${id} does not exist.`), 404);
    return show(goalPage(found.value.goal, found.value.graph, session.csrf), 200, goalRetriedNotice(query.get("retried")));
  }
  if (path === "/app/schedules") return show(schedulesPage(value(await runtime.schedulesWithRuns(SCHEDULES_SHOWN, RUNS_SHOWN)), session.csrf));
  if (path === "/app/relays") return show(relaysPage(value(await runtime.pipelinesWindow(beforeParam(new URL(request.url)), PER_PAGE))));
  const relay = /^\/app\/relays\/(rp_[a-z2-7]{1,64})$/.exec(path);
  if (relay) {
    const status = await runtime.getRelayStatus(relay[1]);
    if (!status.ok) return show(missing("relays", `Pipeline ${relay[1]} does not exist.`), 404);
    return show(relayPage(status.value));
  }
  if (path === "/app/breakers") return show(breakersPage(value(await runtime.listBreakers({ limit: BREAKERS_SHOWN }))));
  if (path === "/app/data") return show(dataPage(session.csrf));
  if (path === "/app/notifications") return show(notificationsPage(value(await runtime.notificationStatus())));
  if (path === "/app/keys") return show(keysPage(value(await runtime.listAgentKeys()), OWNER_USER_ID, session.csrf));
  return show(missing("goals", "There is no such page."), 404);
}

/**
 * The whole page, or only the inside of <main> for the page script's refresh; either way with the
 * count of decisions waiting (the navigation's), and a notice on top when given.
 */
async function framed(request: Request, runtime: RuntimeApi, session: Session, page: Page, status: number, notice?: Notice): Promise<Response> {
  const waiting = value(await runtime.waitingForOwner(0)).count;
  const shown = notice ? { ...page, main: html`${noticeOf(notice)}${page.main}` } : page;
  return request.headers.get(FRAGMENT_HEADER) === "main"
    ? htmlResponse(shown.main, status, { "X-Dashboard-Title": encodeURIComponent(shown.title), "X-Dashboard-Waiting": String(waiting) })
    : htmlResponse(layout(shown, session.csrf, waiting), status);
}

/** A whole page (an action's answer), with the navigation's count of decisions waiting. */
async function whole(runtime: RuntimeApi, session: Session, page: Page, status: number): Promise<Response> {
  return htmlResponse(layout(page, session.csrf, value(await runtime.waitingForOwner(0)).count), status);
}

type Show = (built: Page, status?: number, notice?: Notice) => Promise<Response>;

async function looseTasks(runtime: RuntimeApi, cursor: string | null, show: Show): Promise<Response> {
  const stale = (message: string) => show(looseTasksPage({ items: [], next_cursor: null }, true), 400, { ok: false, message });
  if (cursor !== null && (cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS)) return stale("That is not a page of this list.");
  const list = await runtime.listTasks({ goal_id: null, limit: LOOSE_TASKS_PER_PAGE, ...(cursor === null ? {} : { cursor }) });
  // A cursor from before the instance's data was replaced, or edited by hand.
  if (!list.ok) return stale("That page of the list is no longer valid: start from the first page.");
  return show(looseTasksPage(list.value, cursor !== null));
}

// ─── what an action did, read back from the data (actions.ts redirects here) ───

/** After a decision: what the owner task is now, if it is one and decided. */
async function decidedNotice(runtime: RuntimeApi, taskId: number): Promise<Notice | undefined> {
  if (!Number.isSafeInteger(taskId) || taskId <= 0) return undefined;
  const read = await runtime.getTask(taskId);
  if (!read.ok || !isOwnerTask(read.value)) return undefined;
  const task = read.value;
  const named = html`“<a href="/app/tasks/${task.id}">${task.title}</a>” (#${task.id})`;
  if (task.status === "completed") return { ok: true, message: html`You approved ${named}. The tasks waiting for it go on, with your note among their inputs.` };
  if (task.status === "failed") {
    return { ok: true, message: html`You rejected ${named}. The tasks that handle a failure run; the others wait (Ask again on its page).` };
  }
  return undefined;
}

function retriedNotice(task: { status: string; attempt: number; max_attempts: number; role: string | null }): Notice | undefined {
  if (task.status === "failed") return undefined;
  const message: Html = isOwnerTask(task)
    ? html`Asked again: the decision waits for you once what it builds on is done.`
    : html`Retried: the task is back in the queue for attempt ${task.attempt + 1} (${task.max_attempts} planned).`;
  return { ok: true, message };
}

function goalRetriedNotice(retried: string | null): Notice | undefined {
  if (retried === null || !/^\d{1,4}$/.test(retried)) return undefined;
  const n = Number(retried);
  if (n === 0) return { ok: true, message: "No task of this goal was failed: nothing was retried." };
  return { ok: true, message: `${n} failed ${n === 1 ? "task is" : "tasks are"} back in the queue, one more attempt each.` };
}

function missing(section: Page["section"], message: string): Page {
  return { title: "Not found", section, kind: "missing", main: html`<h1>Not found</h1><p class="notice">${message}</p>` };
}

async function login(request: Request, env: Cloudflare.Env): Promise<Response> {
  // Checked before anything is counted: a cross-site form must not burn the owner's attempts.
  if (!fromOwnPage(request)) return htmlResponse(signInPage("This form was not sent from the sign-in page. Open the dashboard and try again."), 403);
  const form = await readForm(request, MAX_LOGIN_BYTES);
  if (!form) return htmlResponse(signInPage("The form is too large."), 413);
  const check = await checkOwnerPassword(request, env, String(form.get("password") ?? ""));
  if (!check.ok) {
    const headers: HeadersInit = check.retryAfterSeconds ? { "Retry-After": String(check.retryAfterSeconds) } : {};
    return htmlResponse(signInPage(check.message), check.status, headers);
  }
  const { cookie } = await createSession(request, env);
  return redirect("/app", { "Set-Cookie": cookie });
}

async function logout(request: Request, env: Cloudflare.Env, session: Session | null): Promise<Response> {
  if (!fromOwnPage(request)) return htmlResponse(messagePage("Not signed out", "This form was not sent from the dashboard."), 403);
  const form = await readForm(request, MAX_LOGIN_BYTES);
  if (session && !(await csrfMatches(session, form ? String(form.get("csrf") ?? "") : null))) {
    return htmlResponse(messagePage("Not signed out", "The form is out of date. Reload the dashboard and sign out again."), 403);
  }
  return redirect("/", { "Set-Cookie": await endSession(request, env, session) });
}

/** The live socket: checked here (session, origin), then handed to the owner's Runtime object. */
async function live(request: Request, env: Cloudflare.Env): Promise<Response> {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
    return new Response("Expected a WebSocket upgrade", { status: 426, headers: withSecurityHeaders(new Headers({ Upgrade: "websocket" })) });
  }
  // A cross-site page may open a WebSocket with the owner's cookies; only our own pages may.
  if (!fromOwnPage(request)) return jsonResponse({ error: "not from this dashboard" }, 403);
  // Only the upgrade goes on: the object never sees the cookie.
  return env.RUNTIME.getByName(OWNER_USER_ID).fetch(new Request("https://runtime.internal/live", { headers: { Upgrade: "websocket" } }));
}

async function exportAll(env: Cloudflare.Env): Promise<Response> {
  const outcome = await runtimeOf(env).exportAll();
  if (!outcome.ok) return jsonResponse({ error: `${outcome.error.code}: ${outcome.error.message}` }, 413);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const headers = withSecurityHeaders(new Headers());
  headers.set("Content-Type", "application/json; charset=utf-8");
  headers.set("Content-Disposition", `attachment; filename="agent-runtime-export-${stamp}Z.json"`);
  return new Response(outcome.value, { headers });
}

async function importAll(request: Request, env: Cloudflare.Env, session: Session): Promise<Response> {
  const runtime = runtimeOf(env);
  const answer = dataAnswer(runtime, session);
  if (!fromOwnPage(request)) return answer({ ok: false, message: "This form was not sent from the dashboard. Nothing was imported." }, 403);
  const limit = `${MAX_TRANSFER_BYTES / 2 ** 20} MiB`;
  const tooLarge = { ok: false, message: `The file is larger than ${limit}, the most an import takes. Nothing was imported.` };
  const form = await readForm(request, MAX_TRANSFER_BYTES + MULTIPART_OVERHEAD);
  if (!form) return answer(tooLarge, 413);
  if (!(await csrfMatches(session, String(form.get("csrf") ?? "")))) {
    return answer({ ok: false, message: "The form is out of date. Reload the page and choose the file again. Nothing was imported." }, 403);
  }
  const file = form.get("file");
  if (!(file instanceof File) || file.size === 0) return answer({ ok: false, message: "Choose an export file to import." }, 400);
  if (file.size > MAX_TRANSFER_BYTES) return answer(tooLarge, 413);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(await file.arrayBuffer());
  } catch {
    return answer({ ok: false, message: "The file is not UTF-8 text, so it is not an export. Nothing was imported." }, 400);
  }
  const outcome = await runtime.importAll(text);
  if (!outcome.ok) {
    const status = outcome.error.code === "failed_precondition" ? 409 : 400;
    return answer({ ok: false, message: `Refused, nothing was imported: ${outcome.error.message.replace(/^file: /, "the file ")}.` }, status);
  }
  const rows = outcome.value.rows;
  const total = Object.values(rows).reduce((a, b) => a + b, 0);
  const some = ["goals", "tasks", "pipelines", "breakers"].map((t) => `${rows[t] ?? 0} ${t}`).join(", ");
  return answer({ ok: true, message: `Imported ${total} rows: ${some}.` }, 200);
}

/** Forms of the keys page: a short form, sent from our own page with the session's CSRF token. */
const MAX_KEY_FORM_BYTES = 16 * 1024;

async function keyForm(request: Request, session: Session): Promise<FormData | string> {
  if (!fromOwnPage(request)) return "This form was not sent from the dashboard. Nothing was changed.";
  const form = await readForm(request, MAX_KEY_FORM_BYTES);
  if (!form) return "The form is too large. Nothing was changed.";
  if (!(await csrfMatches(session, String(form.get("csrf") ?? "")))) return "The form is out of date. Reload the page and try again. Nothing was changed.";
  return form;
}

/** The keys page again, with the form as it was sent and what went wrong. */
async function keysAgain(env: Cloudflare.Env, session: Session, form: KeyForm, status: number): Promise<Response> {
  const keys = value(await runtimeOf(env).listAgentKeys());
  return whole(runtimeOf(env), session, keysPage(keys, OWNER_USER_ID, session.csrf, form), status);
}

async function createKey(request: Request, env: Cloudflare.Env, session: Session): Promise<Response> {
  const form = await keyForm(request, session);
  if (typeof form === "string") return keysAgain(env, session, { message: form }, 403);
  const sent: KeyForm = {
    agent_id: String(form.get("agent_id") ?? ""),
    roles: String(form.get("roles") ?? ""),
    endpoint: String(form.get("endpoint") ?? ""),
    expires_in_days: String(form.get("expires_in_days") ?? ""),
  };
  const asked = keyRequestOf(form);
  if (!asked.ok) return keysAgain(env, session, { ...sent, message: asked.message }, 400);
  const issued = await issueAgentKey(env, OWNER_USER_ID, asked.request);
  if (!issued.ok) {
    const status = issued.error.code === "resource_exhausted" ? 409 : 400;
    return keysAgain(env, session, { ...sent, message: `Not made: ${issued.error.message}.` }, status);
  }
  // The snippets name the endpoint as clients must reach it: the URL its tokens are bound to.
  const served = mcpEndpoint(request.url, env.MCP_RESOURCE);
  const origin = served.kind === "served" ? new URL(served.resource).origin : new URL(request.url).origin;
  return whole(runtimeOf(env), session, keyCreatedPage(issued.value, `${origin}${issued.value.record.endpoint}`), 200);
}

async function revokeKey(request: Request, env: Cloudflare.Env, session: Session): Promise<Response> {
  const form = await keyForm(request, session);
  if (typeof form === "string") return keysAgain(env, session, { message: form }, 403);
  const revoked = await runtimeOf(env).revokeAgentKey(String(form.get("key_id") ?? ""));
  if (!revoked.ok) return keysAgain(env, session, { message: `Not revoked: ${revoked.error.message}.` }, 404);
  return redirect("/app/keys");
}

/**
 * Pause or Resume from the schedules page: from our own page, with the session's CSRF token, then
 * back to the page (303). A refusal (the schedule ended meanwhile) shows the page with the reason.
 */
async function changeSchedule(request: Request, env: Cloudflare.Env, session: Session, scheduleId: string): Promise<Response> {
  const runtime = runtimeOf(env);
  const answer = async (notice: ScheduleNotice, status: number) =>
    whole(runtime, session, schedulesPage(value(await runtime.schedulesWithRuns(SCHEDULES_SHOWN, RUNS_SHOWN)), session.csrf, notice), status);
  if (!fromOwnPage(request)) return answer({ ok: false, message: "This form was not sent from the dashboard. Nothing changed." }, 403);
  const form = await readForm(request, MAX_ACTION_BYTES);
  if (!form) return answer({ ok: false, message: "The form is too large. Nothing changed." }, 413);
  if (!(await csrfMatches(session, String(form.get("csrf") ?? "")))) {
    return answer({ ok: false, message: "The form is out of date. Reload the page and try again. Nothing changed." }, 403);
  }
  const status = form.get("status");
  if (status !== "paused" && status !== "active") return answer({ ok: false, message: "Pause or Resume, nothing else. Nothing changed." }, 400);
  const outcome = await runtime.updateSchedule({ schedule_id: scheduleId, status });
  if (!outcome.ok) {
    const code = outcome.error.code === "not_found" ? 404 : 409;
    return answer({ ok: false, message: `Refused, nothing changed: ${outcome.error.message}.` }, code);
  }
  return redirect(`/app/schedules#schedule-${scheduleId}`);
}

/** The Export & import page with the outcome of the action on it. */
const dataAnswer = (runtime: RuntimeApi, session: Session) => (result: DataResult, status: number) => whole(runtime, session, dataPage(session.csrf, result), status);

/** Empties the owner's instance: a form from our own page, with the session's token and the typed confirmation. */
async function wipeAll(request: Request, env: Cloudflare.Env, session: Session): Promise<Response> {
  const answer = dataAnswer(runtimeOf(env), session);
  if (!fromOwnPage(request)) return answer({ ok: false, message: "This form was not sent from the dashboard. Nothing was wiped." }, 403);
  const form = await readForm(request, MAX_LOGIN_BYTES);
  if (!form || !(await csrfMatches(session, String(form.get("csrf") ?? "")))) {
    return answer({ ok: false, message: "The form is out of date. Reload the page and try again. Nothing was wiped." }, 403);
  }
  if (String(form.get("confirm") ?? "").trim() !== WIPE_CONFIRMATION) {
    return answer({ ok: false, message: `Type ${WIPE_CONFIRMATION} to confirm the wipe. Nothing was wiped.` }, 400);
  }
  const outcome = await runtimeOf(env).wipeAll();
  if (!outcome.ok) return answer({ ok: false, message: `Not wiped: ${outcome.error.message}.` }, 500);
  const total = Object.values(outcome.value.rows).reduce((a, b) => a + b, 0);
  return answer({ ok: true, message: `Wiped: ${total} rows removed. This instance is empty; an import can go in now.` }, 200);
}

/** A read's value; a failed read of a list is a bug, not a user error. */
function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
  return outcome.value;
}

const notAllowed = (allow: string) => new Response("Method Not Allowed", { status: 405, headers: withSecurityHeaders(new Headers({ Allow: allow })) });
const notFoundText = () => new Response("Not Found", { status: 404, headers: withSecurityHeaders(new Headers()) });
