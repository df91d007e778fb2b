/**
 * The owner's dashboard (docs/dashboard.md): sign-in at `/`, pages under `/app`, the export download, the
 * import upload, the live socket, and the browser files under `/assets/`. The MCP endpoint and the
 * OAuth flow never reach this handler (src/index.ts routes only these paths here).
 *
 *   GET  /                  sign-in form (signed in: → /app)
 *   POST /login, /logout    start / end the session
 *   GET  /app               goals          GET /app/goals/:id    one goal's task graph
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
 * script's refresh after a change. Every POST must come from our own page (Origin) and carry the
 * session's CSRF token.
 */
import { OWNER_USER_ID } from "../auth/grant";
import { checkOwnerPassword, ownerPasswordProblem } from "../auth/owner-sign-in";
import { mcpEndpoint } from "../auth/resource";
import { runtimeOf as runtimeOfUser } from "../runtime/api";
import type { Outcome } from "../runtime/kernel/errors";
import { MAX_TRANSFER_BYTES } from "../runtime/transfer/tables";
import { issueAgentKey, keyRequestOf } from "./agent-keys";
import { serveAsset } from "./assets";
import { html } from "./html";
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
  if (path === "/app/keys" && method === "POST") return createKey(request, env, session);
  if (path === "/app/keys/revoke") return method === "POST" ? revokeKey(request, env, session) : redirect("/app/keys");
  const scheduleAction = /^\/app\/schedules\/(sc_[a-z2-7]{12})$/.exec(path);
  if (scheduleAction) return method === "POST" ? changeSchedule(request, env, session, scheduleAction[1]) : redirect("/app/schedules");
  if (path === "/wipe") return method === "POST" ? wipeAll(request, env, session) : redirect("/app/data");
  if (method !== "GET" && method !== "HEAD") return notAllowed("GET");
  return page(request, env, session, path);
}

async function page(request: Request, env: Cloudflare.Env, session: Session, path: string): Promise<Response> {
  const runtime = runtimeOf(env);
  const show = (built: Page, status = 200) =>
    request.headers.get(FRAGMENT_HEADER) === "main"
      ? htmlResponse(built.main, status, { "X-Dashboard-Title": encodeURIComponent(built.title) })
      : htmlResponse(layout(built, session.csrf), status);

  if (path === "/app" || path === "/app/") {
    return show(goalsPage(value(await runtime.goalsWindow(beforeParam(new URL(request.url)), PER_PAGE))));
  }
  const goal = /^\/app\/goals\/([1-9]\d{0,15})$/.exec(path);
  if (goal) {
    const id = Number(goal[1]);
    const found = await runtime.goalGraph(id);
    if (!found.ok) return show(missing("goals", `Goal ${id} does not exist.`), 404);
    return show(goalPage(found.value.goal, found.value.graph));
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
  const answer = dataAnswer(session);
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
  const outcome = await runtimeOf(env).importAll(text);
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
  return htmlResponse(layout(keysPage(keys, OWNER_USER_ID, session.csrf, form), session.csrf), status);
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
  return htmlResponse(layout(keyCreatedPage(issued.value, `${origin}${issued.value.record.endpoint}`), session.csrf));
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
    htmlResponse(layout(schedulesPage(value(await runtime.schedulesWithRuns(SCHEDULES_SHOWN, RUNS_SHOWN)), session.csrf, notice), session.csrf), status);
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
const dataAnswer = (session: Session) => (result: DataResult, status: number) =>
  htmlResponse(layout(dataPage(session.csrf, result), session.csrf), status);

/** Empties the owner's instance: a form from our own page, with the session's token and the typed confirmation. */
async function wipeAll(request: Request, env: Cloudflare.Env, session: Session): Promise<Response> {
  const answer = dataAnswer(session);
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
