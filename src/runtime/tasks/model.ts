/**
 * What a task is: its statuses and legal moves, the stored row, and the object the product
 * speaks. A task is *ready* when it is `pending` and every task it depends on is `completed`;
 * `unmet_deps` counts the dependencies still open (docs/tasks.md).
 */
import { notFound } from "../kernel/errors";
import { idList, iso, parseObject, type JsonObject } from "../kernel/rows";

export const TASK_STATUSES = ["pending", "in_progress", "completed", "failed", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Legal status moves. `completed` and `cancelled` are final. */
export const TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  pending: ["in_progress", "cancelled", "completed"],
  in_progress: ["completed", "failed", "pending", "cancelled"],
  failed: ["pending", "cancelled"],
  completed: [],
  cancelled: [],
};

/** The SET clause that ends a task's lease; every move that ends one uses it. */
export const LEASE_CLEARED = "lease_id = NULL, lease_expires_at = NULL, lease_seconds = NULL";

export interface Task {
  id: number;
  goal_id: number | null;
  title: string;
  description: string;
  status: TaskStatus;
  priority: number;
  dependencies: number[];
  blocked_by: number[];
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
  result: string | null;
  error: string | null;
  metadata: JsonObject;
  assigned_to: string | null;
  attempt: number;
  max_attempts: number;
  lease_id: string | null;
  lease_expires_at: string | null;
  progress: string | null;
  /** The schedule that made it (docs/schedules.md), or null. */
  schedule_id: string | null;
}

export interface TaskRow extends Record<string, SqlStorageValue> {
  id: number;
  goal_id: number | null;
  title: string;
  description: string;
  status: TaskStatus;
  priority: number;
  unmet_deps: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  completed_at: number | null;
  result: string | null;
  error: string | null;
  metadata: string;
  assigned_to: string | null;
  attempt: number;
  max_attempts: number;
  lease_id: string | null;
  lease_expires_at: number | null;
  lease_seconds: number | null;
  progress: string | null;
  schedule_id: string | null;
}

interface DepRow extends Record<string, SqlStorageValue> {
  task_id: number;
  depends_on: number;
  status: TaskStatus;
}

/** Dependencies of many tasks in one query, with whether each is still unmet. */
function dependenciesOf(sql: SqlStorage, taskIds: number[]): Map<number, { dependencies: number[]; blocked_by: number[] }> {
  const byTask = new Map<number, { dependencies: number[]; blocked_by: number[] }>();
  for (const id of taskIds) byTask.set(id, { dependencies: [], blocked_by: [] });
  if (taskIds.length === 0) return byTask;
  const rows = sql.exec<DepRow>(
    `SELECT d.task_id, d.depends_on, t.status FROM task_deps d JOIN tasks t ON t.id = d.depends_on
     WHERE d.task_id IN (SELECT value FROM json_each(?)) ORDER BY d.task_id, d.depends_on`,
    idList(taskIds),
  );
  for (const row of rows) {
    const entry = byTask.get(row.task_id)!;
    entry.dependencies.push(row.depends_on);
    if (row.status !== "completed") entry.blocked_by.push(row.depends_on);
  }
  return byTask;
}

export function toTasks(sql: SqlStorage, rows: TaskRow[]): Task[] {
  const deps = dependenciesOf(sql, rows.map((r) => r.id));
  return rows.map((row) => ({
    id: row.id,
    goal_id: row.goal_id,
    title: row.title,
    description: row.description,
    status: row.status,
    priority: row.priority,
    ...deps.get(row.id)!,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
    result: row.result,
    error: row.error,
    metadata: parseObject(row.metadata),
    assigned_to: row.assigned_to,
    attempt: row.attempt,
    max_attempts: row.max_attempts,
    lease_id: row.lease_id,
    lease_expires_at: iso(row.lease_expires_at),
    progress: row.progress,
    schedule_id: row.schedule_id,
  }));
}

export function taskRow(sql: SqlStorage, taskId: number): TaskRow {
  const row = sql.exec<TaskRow>(`SELECT * FROM tasks WHERE id = ?`, taskId).toArray()[0];
  if (!row) throw notFound(`task ${taskId} does not exist`);
  return row;
}
