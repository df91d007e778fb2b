/**
 * The task queue: creating tasks with their dependencies, reading them, and finding the next
 * ready one. `unmet_deps` is decremented when a dependency completes (status.ts), so the next
 * task is one indexed query however many blocked tasks rank above it.
 */
import { assertGoalAcceptsTasks, assertGoalExists, refreshGoalStatus } from "../goals/goals";
import type { Cursors } from "../kernel/cursor";
import { notFound } from "../kernel/errors";
import { LIMITS } from "../kernel/limits";
import { keysetRows, readPage, scopeOf, viewOf, type KeysetTable, type Page, type PageQuery, type View, type Viewed } from "../kernel/page";
import { idList, prefixRange, type JsonObject } from "../kernel/rows";
import { taskEvents, type TaskEvent } from "./history";
import { taskRow, toTasks, type Task, type TaskRow, type TaskStatus } from "./model";

export interface NewTask {
  title: string;
  goal_id?: number;
  description?: string;
  priority?: number;
  /** Who may take it: agents naming this role; "owner": the owner, on the dashboard. */
  role?: string | null;
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
}

export type TaskQuery<V extends View = View> = TaskFilter & PageQuery<V>;

/** A task as a list shows it by default (docs/lists.md): empty values left out. */
export interface TaskBrief {
  id: number;
  title: string;
  status: TaskStatus;
  priority: number;
  /** Dependencies not yet completed; left out when none. */
  blocked_by?: number[];
  assigned_to?: string;
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

/** Tasks in creation order, a page at a time; new tasks join the end of a walk. */
export function listTasks<V extends View = "full">(sql: SqlStorage, cursors: Cursors, query: TaskQuery<V>): Page<Viewed<V, TaskBrief, Task>> {
  if (query.goal_id !== undefined) assertGoalExists(sql, query.goal_id);
  const source: KeysetTable = { table: "tasks", key: "id", filter: { goal_id: query.goal_id, status: query.status } };
  const page =
    viewOf(query) === "brief"
      ? readPage(cursors, scopeOf(source), query, (after: number | null, count) =>
          briefTasks(sql, keysetRows<BriefRow>(sql, source, BRIEF_COLUMNS, after, count)),
        )
      : readPage(cursors, scopeOf(source), query, (after: number | null, count) =>
          toTasks(sql, keysetRows<TaskRow>(sql, source, "*", after, count)).map((task) => ({ key: task.id, item: task })),
        );
  // The view chose the reader above, so the items are of the view's type.
  return page as Page<Viewed<V, TaskBrief, Task>>;
}

/** Only what the brief view shows, and `unmet_deps` to skip the dependency lookup of unblocked tasks. */
const BRIEF_COLUMNS = "id, title, status, priority, assigned_to, unmet_deps";
type BriefRow = Pick<TaskRow, "id" | "title" | "status" | "priority" | "assigned_to" | "unmet_deps">;

function briefTasks(sql: SqlStorage, rows: BriefRow[]): { key: number; item: TaskBrief }[] {
  const blocked = unmetDependencies(sql, rows.filter((r) => r.unmet_deps > 0).map((r) => r.id));
  return rows.map((row) => {
    const item: TaskBrief = { id: row.id, title: row.title, status: row.status, priority: row.priority };
    const blockedBy = blocked.get(row.id);
    if (blockedBy) item.blocked_by = blockedBy;
    if (row.assigned_to !== null) item.assigned_to = row.assigned_to;
    return { key: row.id, item };
  });
}

/** The dependencies not yet completed of each of `taskIds`, in one query. */
function unmetDependencies(sql: SqlStorage, taskIds: number[]): Map<number, number[]> {
  const byTask = new Map<number, number[]>();
  if (taskIds.length === 0) return byTask;
  const rows = sql.exec<{ task_id: number; depends_on: number }>(
    `SELECT d.task_id, d.depends_on FROM task_deps d JOIN tasks t ON t.id = d.depends_on
     WHERE d.task_id IN (SELECT value FROM json_each(?)) AND t.status != 'completed' ORDER BY d.task_id, d.depends_on`,
    idList(taskIds),
  );
  for (const row of rows) {
    const list = byTask.get(row.task_id) ?? [];
    list.push(row.depends_on);
    byTask.set(row.task_id, list);
  }
  return byTask;
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
