/**
 * "Waiting for you": the owner tasks that are ready for a decision, oldest first, each with its
 * goal, its description and its inputs (what the tasks before it produced), and Approve / Reject
 * with a note (docs/owner.md).
 */
import type { TaskDetail } from "../../runtime/tasks/queue";
import { html, icon, time, type Html } from "../html";
import type { Page } from "./layout";
import { agentText, decisionForm, inputsList, taskLink } from "./task-parts";

/** How many decisions the page shows at once; the count in the navigation counts them all. */
export const WAITING_SHOWN = 100;

function goalLine(task: TaskDetail): Html {
  if (!task.goal) return html`<p class="goal-line"><span class="label">Goal:</span> <span class="none">none</span></p>`;
  return html`<p class="goal-line"><span class="label">Goal:</span> <a href="/app/goals/${task.goal.id}">${task.goal.name}</a> <span class="id">#${task.goal.id}</span></p>
${task.goal.description ? html`<details class="goal-description"><summary>What the goal is about</summary>${agentText(task.goal.description)}</details>` : ""}`;
}

function decision(task: TaskDetail, csrf: string): Html {
  const heading = `decision-${task.id}-title`;
  return html`<li class="decision" id="decision-${task.id}">
<article aria-labelledby="${heading}">
  <h2 id="${heading}">${icon("owner")}${taskLink(task)} <span class="id">#${task.id}</span></h2>
  ${goalLine(task)}
  <p class="hint">Asked ${time(task.created_at)}.</p>
  ${task.description ? agentText(task.description) : html`<p class="none">No description.</p>`}
  <h3>What it builds on</h3>
  ${inputsList(task.inputs)}
  ${decisionForm(task, csrf, "waiting")}
</article>
</li>`;
}

export function waitingPage(waiting: { count: number; tasks: TaskDetail[] }, csrf: string): Page {
  const { count, tasks } = waiting;
  const main = html`<h1>Waiting for you</h1>
<p class="hint">Decisions agents asked for: tasks with the role <code>owner</code>, ready because what they build on is done. No agent can take or finish one; the work that depends on it waits until you approve. Rejecting fails it: the tasks that handle a failure run, the rest wait (<em>Ask again</em> on the task's page puts it back here).</p>
${
  count === 0
    ? html`<p class="empty">Nothing waits for you.</p>`
    : html`<p class="summary">${count} ${count === 1 ? "decision waits" : "decisions wait"} for you${count > tasks.length ? `; the oldest ${tasks.length} are shown` : ""}, oldest first.</p>
<ol class="decisions">${tasks.map((task) => decision(task, csrf))}</ol>`
}`;
  return { title: "Waiting for you", section: "waiting", kind: "waiting", main };
}
