/**
 * The task queue: creating tasks with their dependencies, reading them, and finding the next
 * ready one. `unmet_deps` is decremented when a dependency completes (status.ts), so the next
 * task is one indexed query however many blocked tasks rank above it.
 */
import { assertGoalAcceptsTasks, assertGoalExists, refreshGoalStatus } from "../goals/goals";
import { notFound } from "../kernel/errors";
import { LIMITS } from "../kernel/limits";
import { idList, prefixRange, type JsonObject } from "../kernel/rows";
import { taskEvents, type TaskEvent } from "./history";
import { taskRow, toTasks, type Task, type TaskRow, type TaskStatus } from "./model";

export interface NewTask {
  title: string;
  goal_id?: number;
  description?: string;
  priority?: number;
  dependencies?: number[];
  metadata?: JsonObject;
  max_attempts?: number;
}

/** What `get_task` shows: the task and its history, newest first. */
export interface TaskDetail extends Task {
  events: TaskEvent[];
}

export interface TaskFilter {
  goal_id?: number;
  status?: TaskStatus;
  limit: number;
}

export function getTask(sql: SqlStorage, taskId: number): TaskDetail {
  return { ...toTasks(sql, [taskRow(sql, taskId)])[0], events: taskEvents(sql, taskId) };
}

/** Inserts one task whose dependencies are existing task ids. */
export function createTask(sql: SqlStorage, input: NewTask, now: number): Task {
  const dependencies = [...new Set(input.dependencies ?? [])];
  if (input.goal_id !== undefined) assertGoalAcceptsTasks(sql, input.goal_id);
  const unmet = existingDependencies(sql, dependencies).filter((k) => k.status !== "completed").length;
  const row = insertTask(sql, input, unmet, now);
  addDependencies(sql, row.id, dependencies);
  if (input.goal_id !== undefined) refreshGoalStatus(sql, input.goal_id, now);
  return toTasks(sql, [row])[0];
}

/** The status of each of `dependencies` (distinct task ids); ids that are no task are `not_found`, all named. */
export function existingDependencies(sql: SqlStorage, dependencies: readonly number[]): { id: number; status: TaskStatus }[] {
  const known = sql
    .exec<{ id: number; status: TaskStatus }>(`SELECT id, status FROM tasks WHERE id IN (SELECT value FROM json_each(?))`, idList(dependencies))
    .toArray();
  if (known.length !== dependencies.length) {
    const found = new Set(known.map((k) => k.id));
    const missing = dependencies.filter((id) => !found.has(id));
    throw notFound(`dependencies: task ${missing.join(", ")} does not exist`);
  }
  return known;
}

/** Inserts a task row; its dependency edges are `addDependencies`' job, `unmetDeps` the caller's count. */
export function insertTask(sql: SqlStorage, input: NewTask, unmetDeps: number, now: number): TaskRow {
  return sql
    .exec<TaskRow>(
      `INSERT INTO tasks (goal_id, title, description, status, priority, unmet_deps, metadata, max_attempts, created_at, updated_at)
       VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?) RETURNING *`,
      input.goal_id ?? null,
      input.title,
      input.description ?? "",
      input.priority ?? LIMITS.priorityDefault,
      unmetDeps,
      JSON.stringify(input.metadata ?? {}),
      input.max_attempts ?? LIMITS.maxAttemptsDefault,
      now,
      now,
    )
    .one();
}

/** Records that `taskId` waits for each of `dependencies` (distinct, existing task ids). */
export function addDependencies(sql: SqlStorage, taskId: number, dependencies: readonly number[]): void {
  if (dependencies.length === 0) return;
  sql.exec(`INSERT INTO task_deps (task_id, depends_on) SELECT ?, value FROM json_each(?)`, taskId, idList(dependencies));
}

export function listTasks(sql: SqlStorage, filter: TaskFilter): Task[] {
  const clauses: string[] = [];
  const params: SqlStorageValue[] = [];
  if (filter.goal_id !== undefined) {
    assertGoalExists(sql, filter.goal_id);
    clauses.push("goal_id = ?");
    params.push(filter.goal_id);
  }
  if (filter.status) {
    clauses.push("status = ?");
    params.push(filter.status);
  }
  const where = clauses.length ? `WHERE ${clauses.join(" AND ")}` : "";
  const rows = sql.exec<TaskRow>(`SELECT * FROM tasks ${where} ORDER BY id LIMIT ?`, ...params, filter.limit).toArray();
  return toTasks(sql, rows);
}

/**
 * The ready task that would be handed out next: highest priority, oldest on ties. The partial
 * index holds only ready rows in exactly this order, so this reads one index entry whatever the
 * size of the queue; INDEXED BY pins it (the planner otherwise prefers the status index and
 * sorts every pending row).
 */
export function peekReady(sql: SqlStorage, goalId?: number): TaskRow | null {
  const rows =
    goalId === undefined
      ? sql.exec<TaskRow>(
          `SELECT * FROM tasks INDEXED BY tasks_ready WHERE status = 'pending' AND unmet_deps = 0 ORDER BY priority DESC, id LIMIT 1`,
        )
      : sql.exec<TaskRow>(
          `SELECT * FROM tasks INDEXED BY tasks_ready_by_goal
           WHERE goal_id = ? AND status = 'pending' AND unmet_deps = 0 ORDER BY priority DESC, id LIMIT 1`,
          goalId,
        );
  return rows.toArray()[0] ?? null;
}

/** Why nothing is ready: no pending work at all, or pending work waiting on dependencies. */
export function whyNothingReady(sql: SqlStorage, goalId?: number): "no_pending_tasks" | "all_pending_tasks_blocked" {
  const anyPending =
    goalId === undefined
      ? sql.exec<{ found: number }>(`SELECT EXISTS (SELECT 1 FROM tasks WHERE status = 'pending') AS found`).one().found
      : sql.exec<{ found: number }>(`SELECT EXISTS (SELECT 1 FROM tasks WHERE goal_id = ? AND status = 'pending') AS found`, goalId).one().found;
  return anyPending ? "all_pending_tasks_blocked" : "no_pending_tasks";
}

/**
 * Up to `limit` distinct agents that ever held a task, starting with `prefix`, in order: a loose
 * index scan (one seek per agent), so an agent with a thousand tasks costs no more than one with one.
 */
export function assigneesWithPrefix(sql: SqlStorage, prefix: string, limit: number): string[] {
  const [lo, hi] = prefixRange(prefix);
  return sql
    .exec<{ agent: string }>(
      `WITH RECURSIVE agents(agent) AS (
         SELECT min(assigned_to) FROM tasks WHERE assigned_to >= ?1 AND assigned_to < ?2
         UNION ALL
         SELECT (SELECT min(assigned_to) FROM tasks WHERE assigned_to > agents.agent AND assigned_to < ?2)
         FROM agents WHERE agents.agent IS NOT NULL
         LIMIT ?3 + 1
       )
       SELECT agent FROM agents WHERE agent IS NOT NULL LIMIT ?3`,
      lo,
      hi,
      limit,
    )
    .toArray()
    .map((r) => r.agent);
}
