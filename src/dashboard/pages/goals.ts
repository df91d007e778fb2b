/**
 * Goals, newest first: status, progress, and how many tasks are in each state — read without
 * their descriptions or metadata, a window at a time, saying which part of how many it shows;
 * then the first tasks without a goal.
 */
import type { GoalLine } from "../../runtime/goals/goals";
import type { Page as ListPage } from "../../runtime/kernel/page";
import type { ListWindow } from "../../runtime/kernel/window";
import type { Task } from "../../runtime/tasks/model";
import { badge, html, progressBar, time } from "../html";
import type { Page } from "./layout";
import { looseTaskTable } from "./tasks";
import { windowCaption, windowLinks } from "./window";

function counts(goal: GoalLine) {
  const c = goal.task_counts;
  const total = c.pending + c.in_progress + c.completed + c.failed + c.cancelled;
  const parts: [number, string][] = [
    [c.completed, "done"],
    [c.in_progress, "in progress"],
    [c.pending, "pending"],
    [c.failed, "failed"],
    [c.cancelled, "cancelled"],
  ];
  const shown = parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
  return html`<span class="counts">${total} ${total === 1 ? "task" : "tasks"}${shown.length ? `: ${shown.join(", ")}` : ""}</span>`;
}

function looseTasks(loose: ListPage<Task>) {
  if (loose.items.length === 0) return "";
  return html`<section aria-labelledby="loose-heading">
<h2 id="loose-heading">Tasks without a goal</h2>
${looseTaskTable(loose.items, loose.next_cursor ? `The oldest ${loose.items.length}` : `${loose.items.length} ${loose.items.length === 1 ? "task" : "tasks"}, oldest first`)}
${loose.next_cursor ? html`<p><a href="/app/tasks">All tasks without a goal</a></p>` : ""}
</section>`;
}

export function goalsPage(window: ListWindow<GoalLine>, loose: ListPage<Task>): Page {
  const goals = window.items;
  const rows = goals.map(
    (goal) => html`<tr id="goal-${goal.id}">
  <th scope="row"><a href="/app/goals/${goal.id}">${goal.name}</a> <span class="id">#${goal.id}</span></th>
  <td data-label="Status">${badge(goal.status)}</td>
  <td data-label="Progress">${progressBar(goal.progress, `Progress of ${goal.name}`)}</td>
  <td data-label="Tasks">${counts(goal)}</td>
  <td data-label="Updated">${time(goal.updated_at)}</td>
</tr>`,
  );
  const main = html`<h1>Goals</h1>
${
  window.total === 0
    ? html`<p class="empty">No goals yet. Agents create them with <code>create_goal</code>; they appear here as soon as they exist.</p>`
    : html`<div class="table-wrap">
<table class="cards">
<caption>${windowCaption(window, "goal", "goals")}</caption>
<thead><tr><th scope="col">Goal</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Tasks</th><th scope="col">Updated</th></tr></thead>
<tbody>${rows}</tbody>
</table>
</div>
${windowLinks(window, "/app", "goals")}`
}
${looseTasks(loose)}`;
  return { title: "Goals", section: "goals", kind: "goals", main };
}
