/**
 * One goal: its summary, its tasks as a dependency graph, and the same tasks as a table.
 *
 * The server sends the graph's data as a JSON data block; the page script lays it out with dagre
 * and draws it as SVG (assets/graph.js). The table is the same information without a drawing:
 * for screen readers, for search, and for a browser without scripts.
 */
import type { Goal } from "../../runtime/goals/goals";
import type { GraphNode, NodeState, TaskGraph } from "../../runtime/tasks/graph";
import { badge, html, icon, jsonData, progressBar, STATUS, time } from "../html";
import type { Page } from "./layout";
import { retryForm, roleText, stateBadge } from "./task-parts";

/** The legend: every state with the look it has in the graph (graph.js uses the same classes). */
const STATES: [NodeState, string][] = [
  ["ready", "pending, every dependency done: the next agent may take it"],
  ["blocked", "pending, waiting on a dependency"],
  ["scheduled", "pending, may not start before the time it names (not_before, or a retry's back-off)"],
  ["in_progress", "claimed by an agent under a lease"],
  ["completed", "done"],
  ["failed", "failed; may be retried"],
  ["cancelled", "will not be done"],
];

/** Also drawn by the goal board (../board.ts). */
export function legend() {
  return html`<ul class="legend" aria-label="What the node styles mean">${STATES.map(
    ([state, meaning]) =>
      html`<li><svg class="swatch node st-${state}" viewBox="0 0 28 18" aria-hidden="true" focusable="false"><rect class="box" x="1" y="1" width="26" height="16" rx="3"></rect><rect class="pat" x="1" y="1" width="26" height="16" rx="3"></rect></svg>${badge(state)}<span class="meaning">${meaning}</span></li>`,
  )}<li><svg class="swatch node owner st-ready" viewBox="0 0 28 18" aria-hidden="true" focusable="false"><rect class="box" x="1" y="1" width="26" height="16" rx="3"></rect><rect class="oring" x="3.5" y="3.5" width="21" height="11" rx="2"></rect></svg><span class="owner-mark">${icon(
    "owner",
  )}Owner's decision</span><span class="meaning">double outline: a decision for the owner, approved or rejected on the dashboard (Waiting for you); no agent can take it</span></li></ul>`;
}

/** The zoom buttons graph.js binds (data-zoom); also on the goal board. */
export function zoomTools() {
  return html`<div class="graph-tools" role="toolbar" aria-label="Zoom the graph" aria-controls="graph">
    <button type="button" data-zoom="out" aria-label="Zoom out">−</button>
    <button type="button" data-zoom="in" aria-label="Zoom in">+</button>
    <button type="button" data-zoom="fit">Fit</button>
    <button type="button" data-zoom="reset">100 %</button>
  </div>`;
}

function agentCell(node: GraphNode) {
  if (!node.assigned_to) return html`<span class="none">—</span>`;
  return html`${node.assigned_to}${node.lease_expires_at ? html`, lease until ${time(node.lease_expires_at)}` : ""}`;
}

function tableOf(graph: TaskGraph, dependencies: Map<number, number[]>) {
  const rows = graph.nodes.map(
    (node) => html`<tr>
  <td data-label="Id">#${node.id}</td>
  <th scope="row"><a href="/app/tasks/${node.id}">${node.title}</a></th>
  <td data-label="State">${stateBadge(node)}</td>
  <td data-label="Role">${roleText(node.role)}</td>
  <td data-label="Depends on">${(dependencies.get(node.id) ?? []).map((id) => `#${id}`).join(", ") || html`<span class="none">—</span>`}</td>
  <td data-label="Agent">${agentCell(node)}</td>
  <td data-label="Attempt">${node.attempt} of ${node.max_attempts}</td>
</tr>`,
  );
  return html`<details id="task-table"><summary>The tasks as a table</summary>
<div class="table-wrap"><table class="cards">
<caption>Tasks of this goal, by id</caption>
<thead><tr><th scope="col">Id</th><th scope="col">Task</th><th scope="col">State</th><th scope="col">Role</th><th scope="col">Depends on</th><th scope="col">Agent</th><th scope="col">Attempt</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>
</details>`;
}

export function goalPage(goal: Goal, graph: TaskGraph, csrf: string): Page {
  const dependencies = new Map<number, number[]>();
  for (const [from, to] of graph.edges) dependencies.set(to, [...(dependencies.get(to) ?? []), from]);
  for (const node of graph.nodes) {
    if (node.external_dependencies.length) dependencies.set(node.id, [...(dependencies.get(node.id) ?? []), ...node.external_dependencies]);
  }
  const c = goal.task_counts;
  const summary = [
    [c.completed, "done"],
    [c.in_progress, "in progress"],
    [c.pending, "pending"],
    [c.failed, "failed"],
    [c.cancelled, "cancelled"],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, what]) => `${n} ${what}`)
    .join(", ");
  const main = html`<p class="crumbs"><a href="/app">Goals</a> › #${goal.id}</p>
<h1>${goal.name}</h1>
<section id="goal-summary" class="summary" aria-label="Summary">
  <p>${badge(goal.status, goal.status === "active" ? "Active" : STATUS[goal.status]?.label)} ${progressBar(goal.progress, `Progress of ${goal.name}`)}</p>
  <p>${graph.total} ${graph.total === 1 ? "task" : "tasks"}${summary ? `: ${summary}` : ""}. Updated ${time(goal.updated_at)}.</p>
  ${goal.description ? html`<p class="description">${goal.description}</p>` : ""}
  ${
    c.failed > 0
      ? retryForm(`/app/goals/${goal.id}/retry`, csrf, "Retry all failed", `Sets the ${c.failed === 1 ? "failed task" : `${c.failed} failed tasks`} back to pending, one more attempt each.`)
      : ""
  }
</section>
<section class="graph-section" aria-labelledby="graph-heading">
  <h2 id="graph-heading">Task graph</h2>
  <p class="hint">Arrows point from a task to the tasks that depend on it. Press Tab to move through the tasks, Enter for details.${
    graph.truncated ? ` Only the first ${graph.nodes.length} of ${graph.total} tasks are drawn.` : ""
  }</p>
  ${legend()}
  ${zoomTools()}
  <div id="graph" class="graph" data-keep>${
    graph.nodes.length === 0
      ? html`<p class="empty">No tasks yet: decompose the goal (<code>decompose_goal</code>) or create tasks in it.</p>`
      : html`<p class="graph-wait">Drawing ${graph.nodes.length} tasks…</p>`
  }</div>
  <div id="task-detail" class="task-detail" aria-live="polite" data-keep><p class="hint">Select a task in the graph to see its details here.</p></div>
  <script type="application/json" id="graph-data">${jsonData({ goal_id: graph.goal_id, nodes: graph.nodes, edges: graph.edges })}</script>
</section>
${graph.nodes.length ? tableOf(graph, dependencies) : ""}`;
  return { title: goal.name, section: "goals", kind: "goal", main };
}
