/**
 * A goal's tasks as a dependency graph, for the owner's dashboard: one small node per task (what
 * a drawing needs, none of the long texts) and one edge per dependency between two of the goal's
 * tasks, from the dependency to its dependent. Two indexed queries however large the goal.
 */
import { notFound } from "../kernel/errors";
import { iso } from "../kernel/rows";
import { blockingDependencies, heldByDependencies, HOLD, type Dependency, type Hold, type RunWhen, type TaskStatus } from "./model";

/** More nodes than anyone can read in one drawing; the rest are counted, not drawn. */
export const GRAPH_MAX_NODES = 2_000;

/**
 * How a node is drawn: a task's status, with `pending` split into ready, blocked (its rule does
 * not hold) and scheduled (it waits only for its not_before).
 */
export type NodeState = "ready" | "blocked" | "scheduled" | "in_progress" | "completed" | "failed" | "cancelled";

export interface GraphNode {
  id: number;
  title: string;
  state: NodeState;
  priority: number;
  /** Who may take it; "owner": a decision for the owner (docs/owner.md). */
  role: string | null;
  run_when: RunWhen;
  not_before: string | null;
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
  status: TaskStatus;
  priority: number;
  role: string | null;
  run_when: RunWhen;
  not_before: number | null;
  hold: Hold;
  assigned_to: string | null;
  lease_expires_at: number | null;
  attempt: number;
  max_attempts: number;
  updated_at: number;
}

interface EdgeRow extends Record<string, SqlStorageValue> {
  task_id: number;
  depends_on: number;
  dep_status: TaskStatus;
  dep_goal: number | null;
}

function stateOf(row: NodeRow): NodeState {
  if (row.status !== "pending") return row.status;
  if (heldByDependencies(row)) return "blocked";
  return row.hold === HOLD.deferred ? "scheduled" : "ready";
}

export function taskGraph(sql: SqlStorage, goalId: number): TaskGraph {
  if (sql.exec(`SELECT 1 FROM goals WHERE id = ?`, goalId).toArray().length === 0) {
    throw notFound(`goal ${goalId} does not exist`);
  }
  const total = sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE goal_id = ?`, goalId).one().n;
  const rows = sql
    .exec<NodeRow>(
      `SELECT id, title, status, priority, role, run_when, not_before, hold, assigned_to, lease_expires_at, attempt, max_attempts, updated_at
       FROM tasks WHERE goal_id = ? ORDER BY id LIMIT ?`,
      goalId,
      GRAPH_MAX_NODES,
    )
    .toArray();
  const nodes = new Map<number, GraphNode>();
  const rowsById = new Map(rows.map((row) => [row.id, row]));
  const deps = new Map<number, Dependency[]>();
  for (const row of rows) {
    deps.set(row.id, []);
    nodes.set(row.id, {
      id: row.id,
      title: row.title,
      state: stateOf(row),
      priority: row.priority,
      role: row.role,
      run_when: row.run_when,
      not_before: iso(row.not_before),
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
  const edgeRows = sql.exec<EdgeRow>(
    `SELECT d.task_id, d.depends_on, t.status AS dep_status, t.goal_id AS dep_goal
     FROM task_deps d JOIN tasks t ON t.id = d.depends_on
     WHERE d.task_id IN (SELECT id FROM tasks WHERE goal_id = ? ORDER BY id LIMIT ?)
     ORDER BY d.depends_on, d.task_id`,
    goalId,
    GRAPH_MAX_NODES,
  );
  for (const dep of edgeRows) {
    const node = nodes.get(dep.task_id)!;
    deps.get(dep.task_id)!.push({ id: dep.depends_on, status: dep.dep_status });
    if (dep.dep_goal !== goalId) node.external_dependencies.push(dep.depends_on);
    else if (nodes.has(dep.depends_on)) edges.push([dep.depends_on, dep.task_id]);
  }
  for (const node of nodes.values()) {
    node.blocked_by = blockingDependencies(rowsById.get(node.id)!, [...deps.get(node.id)!].sort((a, b) => a.id - b.id));
  }
  return { goal_id: goalId, nodes: [...nodes.values()], edges, total, truncated: total > rows.length };
}
