/**
 * The task queue: creating tasks with their dependencies, and reading them. A new task's
 * dependency counters and judgement are set as it is inserted (readiness.ts), so it joins the
 * ready queue (ready.ts) at once when it may run.
 */
import { assertGoalAcceptsTasks, assertGoalExists, refreshGoalStatus } from "../goals/goals";
import type { Cursors } from "../kernel/cursor";
import { failedPrecondition, invalid, notFound } from "../kernel/errors";
import { LIMITS } from "../kernel/limits";
import { keysetRows, readPage, scopeOf, viewOf, type KeysetTable, type Page, type PageQuery, type View, type Viewed } from "../kernel/page";
import { idList, prefixRange, type JsonObject } from "../kernel/rows";
import { taskEvents, type TaskEvent } from "./history";
import { goalContext, inputsOf, type GoalContext, type TaskInput } from "./inputs";
import {
  blockingDependencies,
  dependenciesOf,
  DEFAULT_RUN_WHEN,
  heldByDependencies,
  HOLD,
  taskRow,
  toTasks,
  type Dependency,
  type RunWhen,
  type Task,
  type TaskRow,
  type TaskStatus,
} from "./model";
import { countDependencies, rejudgeTask, ruleCanHold, type DependencyCounts } from "./readiness";

export interface NewTask {
  title: string;
  goal_id?: number;
  description?: string;
  priority?: number;
  /** Who may take it: agents naming this role; "owner": the owner, on the dashboard. */
  role?: string | null;
  run_when?: RunWhen;
  dependencies?: number[];
  /** Not ready before this time (ms since the epoch). */
  not_before?: number | null;
  metadata?: JsonObject;
  max_attempts?: number;
  retry_backoff_seconds?: number | null;
  retry_backoff_max_seconds?: number | null;
}

/** What `get_task` shows: the task, its history (newest first), its goal and its inputs. */
export interface TaskDetail extends Task {
  events: TaskEvent[];
  goal?: GoalContext;
  inputs: TaskInput[];
}

export interface TaskFilter {
  /** null: the tasks without a goal. */
  goal_id?: number | null;
  status?: TaskStatus;
  role?: string;
}

export type TaskQuery<V extends View = View> = TaskFilter & PageQuery<V>;

/** A task as a list shows it by default (docs/lists.md): empty values left out. */
export interface TaskBrief {
  id: number;
  title: string;
  status: TaskStatus;
  priority: number;
  role?: string;
  /** Dependencies that keep it from running; left out when none. */
  blocked_by?: number[];
  assigned_to?: string;
}

export function getTask(sql: SqlStorage, taskId: number): TaskDetail {
  const row = taskRow(sql, taskId);
  const goal = goalContext(sql, row.goal_id);
  return { ...toTasks(sql, [row])[0], events: taskEvents(sql, taskId), ...(goal ? { goal } : {}), inputs: inputsOf(sql, taskId) };
}

/** Inserts one task whose dependencies are existing task ids. */
export function createTask(sql: SqlStorage, input: NewTask, now: number): Task {
  const dependencies = [...new Set(input.dependencies ?? [])];
  const rule = input.run_when ?? DEFAULT_RUN_WHEN;
  assertRuleHasDependencies(rule, dependencies.length, "run_when");
  if (input.goal_id !== undefined) assertGoalAcceptsTasks(sql, input.goal_id);
  const known = existingDependencies(sql, dependencies);
  assertRuleCanHold(rule, known);
  const row = insertTask(sql, input, countDependencies(known), now);
  addDependencies(sql, row.id, dependencies);
  if (input.goal_id !== undefined) refreshGoalStatus(sql, input.goal_id, now);
  return toTasks(sql, [taskRow(sql, row.id)])[0];
}

/** Rules other than all_completed are judged over dependencies: a task needs one to use them. */
export function assertRuleHasDependencies(rule: RunWhen, dependencyCount: number, field: string): void {
  if (rule !== "all_completed" && dependencyCount === 0) throw invalid(field, `${rule} needs at least one dependency`);
}

/** A task whose rule could never hold is refused, not created to be skipped at once. */
export function assertRuleCanHold(rule: RunWhen, deps: readonly Dependency[]): void {
  if (ruleCanHold(rule, deps)) return;
  const settled = deps.filter((d) => d.status === "cancelled" || (rule === "any_failed" && d.status === "completed"));
  throw failedPrecondition(
    `run_when ${rule} can never hold: dependency ${settled.map((d) => `${d.id} is ${d.status}`).join(", ")}`,
  );
}

/** The status of each of `dependencies` (distinct task ids); ids that are no task are `not_found`, all named. */
export function existingDependencies(sql: SqlStorage, dependencies: readonly number[]): Dependency[] {
  const known = sql
    .exec<{ id: number; status: TaskStatus }>(`SELECT id, status FROM tasks WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`, idList(dependencies))
    .toArray();
  if (known.length !== dependencies.length) {
    const found = new Set(known.map((k) => k.id));
    const missing = dependencies.filter((id) => !found.has(id));
    throw notFound(`dependencies: task ${missing.join(", ")} does not exist`);
  }
  return known;
}

/**
 * Inserts a task row with the counters of its dependencies (`countDependencies`), and judges it.
 * Its dependency edges are `addDependencies`' job.
 */
export function insertTask(sql: SqlStorage, input: NewTask, counts: DependencyCounts, now: number): TaskRow {
  const id = sql
    .exec<{ id: number }>(
      // Judged "waiting" until rejudged below, so that its first judgement counts as a change.
      `INSERT INTO tasks (goal_id, title, description, status, priority, role, run_when, not_before, dep_count, unmet_deps, failed_deps,
         cancelled_deps, hold, metadata, max_attempts, retry_backoff_seconds, retry_backoff_max_seconds, created_at, updated_at)
       VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ${HOLD.waiting}, ?, ?, ?, ?, ?, ?) RETURNING id`,
      input.goal_id ?? null,
      input.title,
      input.description ?? "",
      input.priority ?? LIMITS.priorityDefault,
      input.role ?? null,
      input.run_when ?? DEFAULT_RUN_WHEN,
      input.not_before ?? null,
      counts.dep_count,
      counts.unmet_deps,
      counts.failed_deps,
      counts.cancelled_deps,
      JSON.stringify(input.metadata ?? {}),
      input.max_attempts ?? LIMITS.maxAttemptsDefault,
      input.retry_backoff_seconds ?? null,
      retryCap(input.retry_backoff_seconds ?? null, input.retry_backoff_max_seconds),
      now,
      now,
    )
    .one().id;
  rejudgeTask(sql, id, now);
  return taskRow(sql, id);
}

/** The back-off cap stored with a policy: the one given, or the default; none without a policy. */
export function retryCap(base: number | null, cap: number | null | undefined): number | null {
  if (base === null) return null;
  return cap ?? LIMITS.retryBackoffCapDefault;
}

/** Records that `taskId` waits for each of `dependencies` (distinct, existing task ids). */
export function addDependencies(sql: SqlStorage, taskId: number, dependencies: readonly number[]): void {
  if (dependencies.length === 0) return;
  sql.exec(`INSERT INTO task_deps (task_id, depends_on) SELECT ?, value FROM json_each(?)`, taskId, idList(dependencies));
}

/** Tasks in creation order, a page at a time; new tasks join the end of a walk. */
export function listTasks<V extends View = "full">(sql: SqlStorage, cursors: Cursors, query: TaskQuery<V>): Page<Viewed<V, TaskBrief, Task>> {
  if (query.goal_id !== undefined && query.goal_id !== null) assertGoalExists(sql, query.goal_id);
  const source: KeysetTable = { table: "tasks", key: "id", filter: { goal_id: query.goal_id, status: query.status, role: query.role } };
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

/** Only what the brief view shows, and what tells whether the dependencies need reading. */
const BRIEF_COLUMNS = "id, title, status, priority, role, assigned_to, run_when, hold";
type BriefRow = Pick<TaskRow, "id" | "title" | "status" | "priority" | "role" | "assigned_to" | "run_when" | "hold">;

function briefTasks(sql: SqlStorage, rows: BriefRow[]): { key: number; item: TaskBrief }[] {
  const held = rows.filter(heldByDependencies);
  const deps = dependenciesOf(
    sql,
    held.map((r) => r.id),
  );
  return rows.map((row) => {
    const item: TaskBrief = { id: row.id, title: row.title, status: row.status, priority: row.priority };
    if (row.role !== null) item.role = row.role;
    const blockedBy = blockingDependencies(row, deps.get(row.id) ?? []);
    if (blockedBy.length > 0) item.blocked_by = blockedBy;
    if (row.assigned_to !== null) item.assigned_to = row.assigned_to;
    return { key: row.id, item };
  });
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
