/**
 * Pieces every page about tasks shares: a task's state in the graph's words (pending told apart as
 * ready, blocked or scheduled), the mark of an owner task, its inputs, and the owner's forms —
 * Approve / Reject with a note, and Retry. Owner tasks are told apart by an icon and words, never
 * by colour alone.
 */
import type { NodeState } from "../../runtime/tasks/graph";
import type { TaskInput } from "../../runtime/tasks/inputs";
import { OWNER_ROLE, type Task } from "../../runtime/tasks/model";
import { LIMITS } from "../../runtime/kernel/limits";
import { badge, html, icon, time, type Html } from "../html";

export const isOwnerTask = (task: { role: string | null }): boolean => task.role === OWNER_ROLE;

/** A task's state as the graph draws it: its status, with pending split into ready, blocked and scheduled. */
export function stateOf(task: Pick<Task, "status" | "blocked_by" | "not_before">, now = Date.now()): NodeState {
  if (task.status !== "pending") return task.status;
  if (task.blocked_by.length > 0) return "blocked";
  return task.not_before !== null && Date.parse(task.not_before) > now ? "scheduled" : "ready";
}

/** What a shown task needs for its state: an owner task's ready, done and failed say whose move it was. */
interface Shown {
  state: NodeState;
  role: string | null;
  not_before: string | null;
}

export function stateBadge(task: Shown): Html {
  if (isOwnerTask(task)) {
    if (task.state === "ready") return badge("waiting");
    if (task.state === "completed") return badge("completed", "Approved");
    if (task.state === "failed") return badge("failed", "Rejected");
  }
  const starts = task.state === "scheduled" && task.not_before ? html` <span class="starts">starts ${time(task.not_before)}</span>` : "";
  return html`${badge(task.state)}${starts}`;
}

/** The role in words: an owner task says it is the owner's decision, with an icon. */
export function roleText(role: string | null): Html {
  if (role === OWNER_ROLE) return html`<span class="owner-mark">${icon("owner")}Owner's decision</span>`;
  return role === null ? html`<span class="none">—</span>` : html`<span class="role">${role}</span>`;
}

export const taskLink = (task: { id: number; title: string }) => html`<a href="/app/tasks/${task.id}">${task.title}</a>`;

/** Texts written by agents, kept as written (line breaks and all) and never markup; an error stands out. */
export const agentText = (text: string, kind: "text" | "error" = "text") => html`<div class="agent-text${kind === "error" ? " error" : ""}">${text}</div>`;

/** Each direct dependency's outcome, as the agent taking the task gets it (cut texts say so). */
export function inputsList(inputs: TaskInput[]): Html {
  if (inputs.length === 0) return html`<p class="none">It depends on no task.</p>`;
  const items = inputs.map((input) => {
    const text = input.error ?? input.result;
    return html`<li class="input">
  <p class="input-head">${badge(input.status)} ${taskLink({ id: input.task_id, title: input.title })} <span class="id">#${input.task_id}</span></p>
  ${
    text === undefined
      ? html`<p class="none">No result.</p>`
      : html`<p class="label-line"><span class="label">${input.error !== undefined ? "Error" : "Result"}:</span></p>${agentText(text, input.error !== undefined ? "error" : "text")}`
  }
  ${input.truncated ? html`<p class="hint">Cut here; the whole text is on <a href="/app/tasks/${input.task_id}">its page</a>.</p>` : ""}
</li>`;
  });
  return html`<ol class="inputs">${items}</ol>`;
}

/** Where a decision form was sent from, and so where its answer shows. */
export type DecisionFrom = "waiting" | "task";

/** Approve or Reject, with a note: the result of an approval, the error of a rejection. */
export function decisionForm(task: { id: number; title: string }, csrf: string, from: DecisionFrom): Html {
  const note = `note-${task.id}`;
  return html`<form class="decide" method="post" action="/app/tasks/${task.id}/decide">
  <input type="hidden" name="csrf" value="${csrf}">
  <input type="hidden" name="from" value="${from}">
  <p><label for="${note}">Note for the agents <span class="hint">(optional)</span></label>
  <textarea id="${note}" name="note" rows="3" maxlength="${LIMITS.text}" aria-describedby="${note}-hint"></textarea>
  <span class="hint" id="${note}-hint">Approving makes it the task's result, rejecting its error: the tasks that wait for this decision get it among their inputs.</span></p>
  <p class="actions"><button type="submit" name="decision" value="approve" class="approve">${icon("done")}Approve</button>
  <button type="submit" name="decision" value="reject" class="reject">${icon("failed")}Reject</button></p>
</form>`;
}

/** The owner's Retry: a failed task, or every failed task of a goal, back to pending. */
export function retryForm(action: string, csrf: string, label: string, hint: string): Html {
  return html`<form class="retry" method="post" action="${action}">
  <input type="hidden" name="csrf" value="${csrf}">
  <button type="submit">${label}</button> <span class="hint">${hint}</span>
</form>`;
}

/** A message at the top of a page after an action: success as a status, a refusal as an alert. */
export interface Notice {
  ok: boolean;
  message: Html | string;
}

export function noticeOf(notice: Notice | undefined): Html | "" {
  if (!notice) return "";
  return html`<p class="${notice.ok ? "success" : "notice"}" role="${notice.ok ? "status" : "alert"}" id="action-result">${notice.message}</p>`;
}
