/**
 * A goal's tasks as a dependency graph, for the owner's dashboard: one small node per task (what
 * a drawing needs, none of the long texts) and one edge per dependency between two of the goal's
 * tasks, from the dependency to its dependent. Two indexed queries however large the goal.
 */
import { notFound } from "../kernel/errors";
import { iso } from "../kernel/rows";

/** More nodes than anyone can read in one drawing; the rest are counted, not drawn. */
export const GRAPH_MAX_NODES = 2_000;

/** How a node is drawn: a task's status, with `pending` split into ready and blocked. */
export type NodeState = "ready" | "blocked" | "in_progress" | "completed" | "failed" | "cancelled";

export interface GraphNode {
  id: number;
  title: string;
  state: NodeState;
  priority: number;
  /** Unmet dependencies (ids), this goal's or another's. */
  blocked_by: number[];
  /** Dependencies in other goals (no edge is drawn for them). */
  external_dependencies: number[];
  assigned_to: string | null;
  lease_expires_at: string | null;
  attempt: number;
  max_attempts: number;
  updated_at: string;
}

export interface TaskGraph {
  goal_id: number;
  /** The goal's tasks, in id order; at most GRAPH_MAX_NODES. */
  nodes: GraphNode[];
  /** [dependency id, dependent id], sorted. */
  edges: [number, number][];
  /** How many tasks the goal has (more than nodes.length when truncated). */
  total: number;
  truncated: boolean;
}

interface NodeRow extends Record<string, SqlStorageValue> {
  id: number;
  title: string;
  status: string;
  priority: number;
  unmet_deps: number;
  assigned_to: string | null;
  lease_expires_at: number | null;
  attempt: number;
  max_attempts: number;
  updated_at: number;
}

interface EdgeRow extends Record<string, SqlStorageValue> {
  task_id: number;
  depends_on: number;
  dep_status: string;
  dep_goal: number | null;
}

function stateOf(row: NodeRow): NodeState {
  if (row.status === "pending") return row.unmet_deps === 0 ? "ready" : "blocked";
  return row.status as NodeState;
}

export function taskGraph(sql: SqlStorage, goalId: number): TaskGraph {
  if (sql.exec(`SELECT 1 FROM goals WHERE id = ?`, goalId).toArray().length === 0) {
    throw notFound(`goal ${goalId} does not exist`);
  }
  const total = sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE goal_id = ?`, goalId).one().n;
  const rows = sql
    .exec<NodeRow>(
      `SELECT id, title, status, priority, unmet_deps, assigned_to, lease_expires_at, attempt, max_attempts, updated_at
       FROM tasks WHERE goal_id = ? ORDER BY id LIMIT ?`,
      goalId,
      GRAPH_MAX_NODES,
    )
    .toArray();
  const nodes = new Map<number, GraphNode>();
  for (const row of rows) {
    nodes.set(row.id, {
      id: row.id,
      title: row.title,
      state: stateOf(row),
      priority: row.priority,
      blocked_by: [],
      external_dependencies: [],
      assigned_to: row.assigned_to,
      lease_expires_at: iso(row.lease_expires_at),
      attempt: row.attempt,
      max_attempts: row.max_attempts,
      updated_at: iso(row.updated_at)!,
    });
  }
  const edges: [number, number][] = [];
  const deps = sql.exec<EdgeRow>(
    `SELECT d.task_id, d.depends_on, t.status AS dep_status, t.goal_id AS dep_goal
     FROM task_deps d JOIN tasks t ON t.id = d.depends_on
     WHERE d.task_id IN (SELECT id FROM tasks WHERE goal_id = ? ORDER BY id LIMIT ?)
     ORDER BY d.depends_on, d.task_id`,
    goalId,
    GRAPH_MAX_NODES,
  );
  for (const dep of deps) {
    const node = nodes.get(dep.task_id)!;
    if (dep.dep_status !== "completed") node.blocked_by.push(dep.depends_on);
    if (dep.dep_goal !== goalId) node.external_dependencies.push(dep.depends_on);
    else if (nodes.has(dep.depends_on)) edges.push([dep.depends_on, dep.task_id]);
  }
  for (const node of nodes.values()) node.blocked_by.sort((a, b) => a - b);
  return { goal_id: goalId, nodes: [...nodes.values()], edges, total, truncated: total > rows.length };
}
