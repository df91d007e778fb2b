/**
 * What a task is: its statuses and legal moves, the rules for when it may run, the stored row,
 * and the object the product speaks. A task is *ready* when it is `pending`, its rule holds, its
 * `not_before` has passed and it is not the owner's (docs/tasks.md); readiness is judged from
 * counters kept on the row (readiness.ts), never by walking the graph on the hot path.
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

/**
 * When a task may run, judged over its direct dependencies: every one completed (the default),
 * at least one completed (alternatives), at least one failed (recovery), or every one finished
 * whatever the outcome (cleanup, reports).
 */
export const RUN_WHEN = ["all_completed", "any_completed", "any_failed", "all_finished"] as const;
export type RunWhen = (typeof RUN_WHEN)[number];
export const DEFAULT_RUN_WHEN: RunWhen = "all_completed";

/** The role of the owner's decisions (docs/owner.md): never handed to an agent. */
export const OWNER_ROLE = "owner";

/**
 * How far a task is from being ready, stored so that the ready queue is a partial index
 * (readiness.ts): its rule holds and its time has come; its rule does not hold yet; its rule
 * holds but `not_before` is ahead; its rule can never hold any more (it will be skipped).
 */
export const HOLD = { ready: 0, waiting: 1, deferred: 2, never: 3 } as const;
export type Hold = (typeof HOLD)[keyof typeof HOLD];

/** Whether a task's rule keeps it from running (rather than nothing, or only its not_before). */
export const heldByDependencies = (task: Pick<TaskRow, "hold">): boolean => task.hold === HOLD.waiting || task.hold === HOLD.never;

/** The SET clause that ends a task's lease; every move that ends one uses it. */
export const LEASE_CLEARED = "lease_id = NULL, lease_expires_at = NULL, lease_seconds = NULL";

export interface Task {
  id: number;
  goal_id: number | null;
  title: string;
  description: string;
  status: TaskStatus;
  priority: number;
  role: string | null;
  run_when: RunWhen;
  dependencies: number[];
  blocked_by: number[];
  not_before: string | null;
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
  retry_backoff_seconds: number | null;
  retry_backoff_max_seconds: number | null;
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
  role: string | null;
  run_when: RunWhen;
  not_before: number | null;
  /** Dependencies in all, and by outcome: not completed, failed, cancelled (readiness.ts). */
  dep_count: number;
  unmet_deps: number;
  failed_deps: number;
  cancelled_deps: number;
  hold: Hold;
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
  retry_backoff_seconds: number | null;
  retry_backoff_max_seconds: number | null;
  lease_id: string | null;
  lease_expires_at: number | null;
  lease_seconds: number | null;
  progress: string | null;
  schedule_id: string | null;
}

export interface Dependency {
  id: number;
  status: TaskStatus;
}

/**
 * The dependencies that keep a task from running, by its rule: none while the rule holds; while
 * it waits, those whose next move could still decide it (all_completed: every one not completed,
 * a failed one included, since it may be retried); when the rule can never hold, those that
 * settled it.
 */
export function blockingDependencies(task: Pick<TaskRow, "run_when" | "hold">, deps: readonly Dependency[]): number[] {
  if (!heldByDependencies(task)) return [];
  const unfinished = (d: Dependency) => d.status === "pending" || d.status === "in_progress";
  if (task.hold === HOLD.never) {
    return deps.filter((d) => (task.run_when === "all_completed" ? d.status === "cancelled" : true)).map((d) => d.id);
  }
  switch (task.run_when) {
    case "all_completed":
      return deps.filter((d) => d.status !== "completed").map((d) => d.id);
    case "any_completed":
      return deps.filter((d) => unfinished(d) || d.status === "failed").map((d) => d.id);
    case "any_failed":
    case "all_finished":
      return deps.filter(unfinished).map((d) => d.id);
  }
}

interface DepRow extends Record<string, SqlStorageValue> {
  task_id: number;
  depends_on: number;
  status: TaskStatus;
}

/** The direct dependencies of many tasks in one query, in id order. */
export function dependenciesOf(sql: SqlStorage, taskIds: readonly number[]): Map<number, Dependency[]> {
  const byTask = new Map<number, Dependency[]>();
  for (const id of taskIds) byTask.set(id, []);
  if (taskIds.length === 0) return byTask;
  const rows = sql.exec<DepRow>(
    `SELECT d.task_id, d.depends_on, t.status FROM task_deps d JOIN tasks t ON t.id = d.depends_on
     WHERE d.task_id IN (SELECT value FROM json_each(?)) ORDER BY d.task_id, d.depends_on`,
    idList(taskIds),
  );
  for (const row of rows) byTask.get(row.task_id)!.push({ id: row.depends_on, status: row.status });
  return byTask;
}

export function toTasks(sql: SqlStorage, rows: TaskRow[]): Task[] {
  const deps = dependenciesOf(
    sql,
    rows.map((r) => r.id),
  );
  return rows.map((row) => {
    const own = deps.get(row.id)!;
    return {
      id: row.id,
      goal_id: row.goal_id,
      title: row.title,
      description: row.description,
      status: row.status,
      priority: row.priority,
      role: row.role,
      run_when: row.run_when,
      dependencies: own.map((d) => d.id),
      blocked_by: blockingDependencies(row, own),
      not_before: iso(row.not_before),
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
      retry_backoff_seconds: row.retry_backoff_seconds,
      retry_backoff_max_seconds: row.retry_backoff_max_seconds,
      lease_id: row.lease_id,
      lease_expires_at: iso(row.lease_expires_at),
      progress: row.progress,
      schedule_id: row.schedule_id,
    };
  });
}

export function taskRow(sql: SqlStorage, taskId: number): TaskRow {
  const row = sql.exec<TaskRow>(`SELECT * FROM tasks WHERE id = ?`, taskId).toArray()[0];
  if (!row) throw notFound(`task ${taskId} does not exist`);
  return row;
}
