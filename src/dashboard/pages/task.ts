/**
 * One task, everything a person deciding or retrying needs to see: its state, role, rule and
 * schedule, attempts and retry policy, what it is (description), what came of it (result, error,
 * the holder's progress note), what it builds on (inputs), and its history. A ready owner task
 * carries Approve / Reject here too; a failed task carries Retry.
 */
import type { TaskEvent } from "../../runtime/tasks/history";
import type { RunWhen } from "../../runtime/tasks/model";
import type { TaskDetail } from "../../runtime/tasks/queue";
import { durationWords, html, time, type Html } from "../html";
import type { Page } from "./layout";
import { agentText, decisionForm, inputsList, isOwnerTask, retryForm, roleText, stateBadge, stateOf } from "./task-parts";

const RUN_WHEN: Record<RunWhen, string> = {
  all_completed: "when every dependency is completed",
  any_completed: "when one dependency is completed (alternatives: the first success wins)",
  any_failed: "when a dependency has failed (recovery)",
  all_finished: "when every dependency is finished, whatever the outcome (cleanup, reports)",
};

const EVENT: Record<TaskEvent["kind"], string> = {
  claimed: "Claimed",
  heartbeat: "Heartbeat",
  lease_expired: "Lease ran out",
  status_changed: "Status changed",
  edited: "Edited",
  skipped: "Skipped",
  retry_scheduled: "Retry scheduled",
  parked: "Parked",
  approved: "Approved",
  rejected: "Rejected",
};

const none = html`<span class="none">—</span>`;

function ids(list: number[]): Html {
  return list.length ? html`${list.map((id, i) => html`${i ? ", " : ""}<a href="/app/tasks/${id}">#${id}</a>`)}` : none;
}

/** A length of time without its zero tail: "10 min", not "10 min 0 s". */
const span = (seconds: number) => durationWords(seconds).replace(/ 0 (s|min)$/, "");

function retryPolicy(task: TaskDetail): string {
  if (task.retry_backoff_seconds === null) return "none: a reported failure stays failed until it is retried here";
  const cap = task.retry_backoff_max_seconds ?? task.retry_backoff_seconds;
  return `after a reported failure, again in ${span(task.retry_backoff_seconds)}, doubling up to ${span(cap)}, while attempts are left`;
}

function text(heading: string, id: string, value: string | null, empty: string, kind: "text" | "error" = "text"): Html {
  return html`<section aria-labelledby="${id}"><h2 id="${id}">${heading}</h2>${value ? agentText(value, kind) : html`<p class="none">${empty}</p>`}</section>`;
}

function history(events: TaskEvent[]): Html {
  if (events.length === 0) return html`<p class="none">Nothing has happened to it yet.</p>`;
  const rows = events.map(
    (e) => html`<tr>
  <td data-label="When">${time(e.at)}</td>
  <th scope="row">${EVENT[e.kind] ?? e.kind}${e.count > 1 ? ` ×${e.count}` : ""}</th>
  <td data-label="What">${e.detail}</td>
  <td data-label="Agent">${e.agent_id ?? none}</td>
  <td data-label="Attempt">${e.attempt}</td>
</tr>`,
  );
  return html`<div class="table-wrap"><table class="cards">
<caption>Newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">What</th><th scope="col">Agent</th><th scope="col">Attempt</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

function actions(task: TaskDetail, state: string, csrf: string): Html | "" {
  if (isOwnerTask(task) && state === "ready") {
    return html`<section class="decide-here" aria-labelledby="decide-heading"><h2 id="decide-heading">Your decision</h2>${decisionForm(task, csrf, "task")}</section>`;
  }
  if (task.status === "failed") {
    const owner = isOwnerTask(task);
    return retryForm(
      `/app/tasks/${task.id}/retry`,
      csrf,
      owner ? "Ask again" : "Retry",
      owner ? "Sets the decision back to waiting for you." : `Sets it back to pending for one more attempt (attempt ${task.attempt + 1}).`,
    );
  }
  return "";
}

export function taskPage(task: TaskDetail, csrf: string, now = Date.now()): Page {
  const state = stateOf(task, now);
  const crumbs = task.goal
    ? html`<a href="/app">Goals</a> › <a href="/app/goals/${task.goal.id}">${task.goal.name}</a> › #${task.id}`
    : html`<a href="/app/tasks">Tasks without a goal</a> › #${task.id}`;
  const metadata = Object.keys(task.metadata).length ? JSON.stringify(task.metadata, null, 2) : null;
  // No agent works on an owner task: attempts, retries and leases say nothing about it.
  const agentWork = !isOwnerTask(task);
  const main = html`<p class="crumbs">${crumbs}</p>
<h1>${task.title} <span class="id">#${task.id}</span></h1>
<section class="summary task-summary" aria-label="Summary">
  <p>${stateBadge({ state, role: task.role, not_before: task.not_before })}</p>
  <dl>
    <div><dt>Role</dt><dd>${roleText(task.role)}</dd></div>
    <div><dt>Runs</dt><dd>${task.dependencies.length ? RUN_WHEN[task.run_when] : "without waiting for other tasks (it depends on none)"}</dd></div>
    <div><dt>Not before</dt><dd>${task.not_before ? time(task.not_before) : none}</dd></div>
    ${
      agentWork
        ? html`<div><dt>Attempt</dt><dd>${task.attempt} of ${task.max_attempts}</dd></div>
    <div><dt>Retries</dt><dd>${retryPolicy(task)}</dd></div>
    <div><dt>Priority</dt><dd>${task.priority}</dd></div>`
        : ""
    }
    <div><dt>Depends on</dt><dd>${ids(task.dependencies)}</dd></div>
    <div><dt>Waiting for</dt><dd>${ids(task.blocked_by)}</dd></div>
    ${agentWork ? html`<div><dt>Agent</dt><dd>${task.assigned_to ?? none}${task.lease_expires_at ? html`, lease until ${time(task.lease_expires_at)}` : ""}</dd></div>` : ""}
    <div><dt>Created</dt><dd>${time(task.created_at)}</dd></div>
    ${agentWork ? html`<div><dt>Started</dt><dd>${time(task.started_at)}</dd></div>` : ""}
    <div><dt>Completed</dt><dd>${time(task.completed_at)}</dd></div>
    <div><dt>Updated</dt><dd>${time(task.updated_at)}</dd></div>
  </dl>
</section>
${actions(task, state, csrf)}
${text("Description", "description-heading", task.description, "No description.")}
${text("Result", "result-heading", task.result, "No result yet.")}
${text("Error", "error-heading", task.error, "No error.", "error")}
${agentWork ? text("Progress note", "progress-heading", task.progress, "No progress note.") : ""}
<section aria-labelledby="inputs-heading"><h2 id="inputs-heading">Inputs: what it builds on</h2>${inputsList(task.inputs)}</section>
${metadata ? html`<details id="task-metadata"><summary>Metadata</summary><pre class="agent-text">${metadata}</pre></details>` : ""}
<section aria-labelledby="history-heading"><h2 id="history-heading">History</h2>${history(task.events)}</section>`;
  return { title: `${task.title} (#${task.id})`, section: isOwnerTask(task) && state === "ready" ? "waiting" : "goals", kind: "task", main };
}
