// @ts-check
/**
 * What the goal board draws, made from what its tool calls answer: the tasks of `list_tasks
 * {goal_id, view: "full"}` become the graph's data (graph.js), the same shape the dashboard's
 * server sends (src/runtime/tasks/graph.ts). Pure functions, no DOM: tested in Node.
 *
 * A task's fields are read one by one, so fields this file does not know are ignored; how a task
 * looks in the drawing (its state, the words under its title) is decided here, in `stateOf` and
 * `nodeOf`, and nowhere else in the board.
 */

/**
 * @typedef {import("./graph.js").GraphData} GraphData
 * @typedef {import("./graph.js").GraphNode} GraphNode
 * @typedef {import("./graph.js").NodeState} NodeState
 * @typedef {{ id: number, title: string, status: string, priority?: number, dependencies?: number[],
 *   blocked_by?: number[], assigned_to?: string | null, lease_expires_at?: string | null,
 *   attempt?: number, max_attempts?: number, updated_at: string, role?: string | null,
 *   run_when?: string, not_before?: string | null }} ListedTask
 */

/** @type {ReadonlySet<string>} */
const DRAWN_STATUSES = new Set(["in_progress", "completed", "failed", "cancelled"]);

/**
 * How a task is drawn: its status, with `pending` split into blocked (its rule does not hold yet:
 * `blocked_by`), scheduled (it waits only for its `not_before`, a start or a retry's back-off) and
 * ready. A status this board does not know is drawn as blocked: it is not work an agent can take,
 * and its word is still in the task's details.
 * @param {ListedTask} task
 * @param {number} now the time the answer is read at, in ms
 * @returns {NodeState}
 */
export function stateOf(task, now = Date.now()) {
  if (task.status === "pending") {
    if ((task.blocked_by ?? []).length > 0) return "blocked";
    return task.not_before && Date.parse(task.not_before) > now ? "scheduled" : "ready";
  }
  return DRAWN_STATUSES.has(task.status) ? /** @type {NodeState} */ (task.status) : "blocked";
}

/**
 * One node of the drawing. `inGoal`: the ids of the goal's tasks; a dependency outside them (in
 * another goal, or beyond the tasks drawn) gets no edge and is listed as external.
 * @param {ListedTask} task
 * @param {ReadonlySet<number>} inGoal
 * @param {number} now
 * @returns {GraphNode}
 */
export function nodeOf(task, inGoal, now) {
  return {
    id: task.id,
    title: task.title,
    state: stateOf(task, now),
    priority: task.priority ?? 0,
    role: task.role ?? null,
    run_when: task.run_when ?? "all_completed",
    not_before: task.not_before ?? null,
    blocked_by: [...(task.blocked_by ?? [])].sort((a, b) => a - b),
    external_dependencies: (task.dependencies ?? []).filter((id) => !inGoal.has(id)),
    assigned_to: task.assigned_to ?? null,
    lease_expires_at: task.lease_expires_at ?? null,
    attempt: task.attempt ?? 0,
    max_attempts: task.max_attempts ?? 0,
    updated_at: task.updated_at,
  };
}

/**
 * The goal's tasks as a graph: nodes in id order, one edge per dependency between two of them,
 * from the dependency to the task that waits for it, sorted as the server sorts them.
 * @param {number} goalId
 * @param {ListedTask[]} tasks
 * @param {number} now the time the answer is read at, in ms
 * @returns {GraphData}
 */
export function graphOf(goalId, tasks, now = Date.now()) {
  const sorted = [...tasks].sort((a, b) => a.id - b.id);
  const inGoal = new Set(sorted.map((task) => task.id));
  /** @type {[number, number][]} */
  const edges = [];
  for (const task of sorted) {
    for (const dependency of task.dependencies ?? []) if (inGoal.has(dependency)) edges.push([dependency, task.id]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { goal_id: goalId, nodes: sorted.map((task) => nodeOf(task, inGoal, now)), edges };
}
