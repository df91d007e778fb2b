/**
 * The owner's actions on tasks (docs/owner.md, docs/dashboard.md): deciding an owner task, and
 * retrying a failed task or every failed task of a goal.
 *
 *   POST /app/tasks/:id/decide   decision=approve|reject, note, from=waiting|task
 *   POST /app/tasks/:id/retry
 *   POST /app/goals/:id/retry
 *
 * Each is a form POST that must come from our own page (Origin) and carry the session's CSRF
 * token. A refused one changes nothing and answers the page it came from with the reason; a done
 * one redirects (303) to the page that shows the outcome, read back from the data, so that a
 * reload never repeats it.
 */
import type { RuntimeApi } from "../runtime/api";
import type { ErrorCode, Outcome } from "../runtime/kernel/errors";
import { LIMITS } from "../runtime/kernel/limits";
import { html, type Html } from "./html";
import { readForm, redirect } from "./http";
import type { Notice } from "./pages/task-parts";
import { csrfMatches, fromOwnPage, type Session } from "./session";

export type Action = { kind: "decide" | "retry-task"; taskId: number } | { kind: "retry-goal"; goalId: number };

/**
 * A note of LIMITS.text characters, percent-encoded: up to 9 bytes a character (three UTF-8
 * bytes, each %XX), and room for the other fields.
 */
const MAX_ACTION_BYTES = LIMITS.text * 9 + 16 * 1024;

export function actionAt(path: string): Action | null {
  const match = /^\/app\/(tasks|goals)\/([1-9]\d{0,15})\/(decide|retry)$/.exec(path);
  if (!match) return null;
  const id = Number(match[2]);
  if (match[1] === "goals") return match[3] === "retry" ? { kind: "retry-goal", goalId: id } : null;
  return { kind: match[3] === "decide" ? "decide" : "retry-task", taskId: id };
}

/** The page an action answers on: where it was sent from. */
export function pageOf(action: Action, from?: string): string {
  if (action.kind === "retry-goal") return `/app/goals/${action.goalId}`;
  if (action.kind === "retry-task" || from === "task") return `/app/tasks/${action.taskId}`;
  return "/app/waiting";
}

/** What a refused action answers, on the page it came from: the reason on top, and the HTTP status. */
export interface Refusal {
  notice: Notice;
  status: number;
}

/** Shows the page at `path` with the refusal on top (routes.ts). */
export type Answer = (path: string, refusal: Refusal) => Promise<Response>;

const STATUS_OF: Record<ErrorCode, number> = {
  invalid_argument: 400,
  not_found: 404,
  conflict: 409,
  failed_precondition: 409,
  resource_exhausted: 429,
  unavailable: 503,
};

const NOTHING_CHANGED = "Nothing changed.";

export async function runAction(request: Request, runtime: RuntimeApi, session: Session, action: Action, answer: Answer): Promise<Response> {
  const refuse = (path: string, message: Html | string, status: number) => answer(path, { notice: { ok: false, message }, status });
  if (!fromOwnPage(request)) return refuse(pageOf(action), `This form was not sent from the dashboard. ${NOTHING_CHANGED}`, 403);
  const form = await readForm(request, MAX_ACTION_BYTES);
  if (!form) return refuse(pageOf(action), `The form is too large. ${NOTHING_CHANGED}`, 413);
  const from = String(form.get("from") ?? "");
  const back = pageOf(action, from);
  if (!(await csrfMatches(session, String(form.get("csrf") ?? "")))) {
    return refuse(back, `The form is out of date. Reload the page and try again. ${NOTHING_CHANGED}`, 403);
  }
  if (action.kind === "retry-goal") return retryGoal(runtime, action.goalId, refuse);
  if (action.kind === "retry-task") {
    const outcome = await runtime.redriveFailed({ task_id: action.taskId });
    if (!outcome.ok) return refuse(back, refusal(outcome), STATUS_OF[outcome.error.code]);
    return redirect(`/app/tasks/${action.taskId}?retried=1`);
  }
  const decision = String(form.get("decision") ?? "");
  if (decision !== "approve" && decision !== "reject") return refuse(back, `Choose Approve or Reject. ${NOTHING_CHANGED}`, 400);
  // Browsers send a textarea's line breaks as CRLF; the note is stored as typed.
  const note = String(form.get("note") ?? "").replace(/\r\n?/g, "\n").trim();
  if (note.length > LIMITS.text) {
    return refuse(back, `The note is longer than ${LIMITS.text.toLocaleString("en-US")} characters. ${NOTHING_CHANGED}`, 413);
  }
  const outcome = await runtime.decideOwnerTask({ task_id: action.taskId, approve: decision === "approve", note });
  if (!outcome.ok) {
    const why = outcome.error.code === "failed_precondition" ? await whyNotDecidable(runtime, action.taskId) : null;
    return refuse(back, why ?? refusal(outcome), STATUS_OF[outcome.error.code]);
  }
  return redirect(from === "task" ? `/app/tasks/${action.taskId}?decided=1` : `/app/waiting?decided=${action.taskId}`);
}

async function retryGoal(runtime: RuntimeApi, goalId: number, refuse: (path: string, message: string, status: number) => Promise<Response>) {
  const goal = await runtime.getGoal(goalId);
  if (!goal.ok) return refuse("/app", `Goal ${goalId} does not exist. ${NOTHING_CHANGED}`, 404);
  const outcome = await runtime.redriveFailed({ goal_id: goalId });
  if (!outcome.ok) return refuse(`/app/goals/${goalId}`, refusal(outcome), STATUS_OF[outcome.error.code]);
  return redirect(`/app/goals/${goalId}?retried=${outcome.value.length}`);
}

const refusal = (outcome: Outcome<unknown> & { ok: false }) => `Refused: ${outcome.error.message}. ${NOTHING_CHANGED}`;

/** Why an owner task cannot be decided now, from what it is now: decided (perhaps in another tab), cancelled, or not ready. */
async function whyNotDecidable(runtime: RuntimeApi, taskId: number): Promise<Html | null> {
  const read = await runtime.getTask(taskId);
  if (!read.ok) return null;
  const task = read.value;
  const named = html`“<a href="/app/tasks/${task.id}">${task.title}</a>” (#${task.id})`;
  if (task.status === "completed" || task.status === "failed") {
    return html`${named} was ${task.status === "completed" ? "approved" : "rejected"} already, perhaps in another tab: your decision was not recorded. ${NOTHING_CHANGED}`;
  }
  if (task.status === "cancelled") return html`${named} was cancelled: there is nothing to decide. ${NOTHING_CHANGED}`;
  const waits = task.blocked_by.length ? `it waits for ${task.blocked_by.map((id) => `#${id}`).join(", ")}` : "its time has not come";
  return html`${named} is not ready for a decision yet: ${waits}. ${NOTHING_CHANGED}`;
}
