/**
 * Tasks without a goal, in creation order, a page at a time (the list's cursor in the URL). The
 * goals page shows the first few of them; this page has them all.
 */
import type { Task } from "../../runtime/tasks/model";
import type { Page as ListPage } from "../../runtime/kernel/page";
import { html, type Html } from "../html";
import type { Page } from "./layout";
import { roleText, stateBadge, stateOf, taskLink } from "./task-parts";

/** Tasks per page of the list. */
export const LOOSE_TASKS_PER_PAGE = 50;
/** How many the goals page shows. */
export const LOOSE_TASKS_ON_GOALS = 10;

/** The tasks as a table (cards on a narrow screen). */
export function looseTaskTable(tasks: Task[], caption: string, now = Date.now()): Html {
  const rows = tasks.map((task) => {
    const state = stateOf(task, now);
    return html`<tr id="task-row-${task.id}">
  <th scope="row">${taskLink(task)} <span class="id">#${task.id}</span></th>
  <td data-label="State">${stateBadge({ state, role: task.role, not_before: task.not_before })}</td>
  <td data-label="Role">${roleText(task.role)}</td>
  <td data-label="Agent">${task.assigned_to ?? html`<span class="none">—</span>`}</td>
  <td data-label="Attempt">${task.attempt} of ${task.max_attempts}</td>
</tr>`;
  });
  return html`<div class="table-wrap"><table class="cards">
<caption>${caption}</caption>
<thead><tr><th scope="col">Task</th><th scope="col">State</th><th scope="col">Role</th><th scope="col">Agent</th><th scope="col">Attempt</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

export function looseTasksPage(list: ListPage<Task>, paged: boolean): Page {
  const next = list.next_cursor ? html`<a href="/app/tasks?cursor=${encodeURIComponent(list.next_cursor)}" rel="next">Next page</a>` : "";
  const first = paged ? html`<a href="/app/tasks">First page</a>` : "";
  const main = html`<p class="crumbs"><a href="/app">Goals</a> › Tasks without a goal</p>
<h1>Tasks without a goal</h1>
${
  list.items.length === 0
    ? html`<p class="empty">${paged ? "No more tasks without a goal." : "Every task belongs to a goal."}</p>`
    : looseTaskTable(list.items, `${paged ? "Further tasks" : "Tasks"} without a goal, oldest first (${list.items.length} on this page)`)
}
${next || first ? html`<nav class="pager" aria-label="Pages">${first} ${next}</nav>` : ""}`;
  return { title: "Tasks without a goal", section: "goals", kind: "tasks", main };
}
