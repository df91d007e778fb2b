/**
 * The task queue. A task is *ready* when it is `pending` and every task it depends on is
 * `completed`; `unmet_deps` counts the dependencies still open and is decremented when one
 * completes, so the next task is one indexed query however many blocked tasks rank above it.
 *
 * A *claim* hands a ready task to one agent: it becomes `in_progress`, `assigned_to` the agent,
 * under a *lease* (an id and an expiry). The Durable Object runs one request at a time and the
 * claim is a single UPDATE … RETURNING, so two agents can never claim the same task. The holder
 * keeps the lease alive with heartbeats and finishes the task quoting the lease id; a lease that
 * runs out puts the task back in the queue (leases.ts), and its old id is refused from then on
 * (fencing), so a holder that went silent cannot overwrite the work of the next one.
 */
import { conflict, failedPrecondition, notFound } from "./errors";
import { assertGoalAcceptsTasks, assertGoalExists, refreshGoalStatus } from "./goals";
import { recordEvent, taskEvents, type TaskEvent } from "./history";
import { LIMITS } from "./limits";
import { idList, iso, parseObject, randomToken, type JsonObject } from "./rows";

export const TASK_STATUSES = ["pending", "in_progress", "completed", "failed", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Legal status moves (SPEC §5). `completed` and `cancelled` are final. */
const TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  pending: ["in_progress", "cancelled", "completed"],
  in_progress: ["completed", "failed", "pending", "cancelled"],
  failed: ["pending", "cancelled"],
  completed: [],
  cancelled: [],
};

export const DEFAULT_LEASE_SECONDS = LIMITS.leaseDefaultSeconds;

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
}

/** What `get_task` shows: the task and its history, newest first. */
export interface TaskDetail extends Task {
  events: TaskEvent[];
}

export interface NewTask {
  title: string;
  goal_id?: number;
  description?: string;
  priority?: number;
  dependencies?: number[];
  metadata?: JsonObject;
  max_attempts?: number;
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
  }));
}

export function taskRow(sql: SqlStorage, taskId: number): TaskRow {
  const row = sql.exec<TaskRow>(`SELECT * FROM tasks WHERE id = ?`, taskId).toArray()[0];
  if (!row) throw notFound(`task ${taskId} does not exist`, "task_id");
  return row;
}

export function getTask(sql: SqlStorage, taskId: number): TaskDetail {
  return { ...toTasks(sql, [taskRow(sql, taskId)])[0], events: taskEvents(sql, taskId) };
}

/** Inserts one task whose dependencies are existing task ids. */
export function createTask(sql: SqlStorage, input: NewTask, now: number): Task {
  const dependencies = [...new Set(input.dependencies ?? [])];
  if (input.goal_id !== undefined) assertGoalAcceptsTasks(sql, input.goal_id);
  const known = sql
    .exec<{ id: number; status: TaskStatus }>(`SELECT id, status FROM tasks WHERE id IN (SELECT value FROM json_each(?))`, idList(dependencies))
    .toArray();
  if (known.length !== dependencies.length) {
    const found = new Set(known.map((k) => k.id));
    const missing = dependencies.filter((id) => !found.has(id));
    throw notFound(`dependencies: task ${missing.join(", ")} does not exist`, "dependencies");
  }
  const unmet = known.filter((k) => k.status !== "completed").length;
  const row = insertTask(sql, input, unmet, now);
  for (const dep of dependencies) sql.exec(`INSERT INTO task_deps (task_id, depends_on) VALUES (?, ?)`, row.id, dep);
  if (input.goal_id !== undefined) refreshGoalStatus(sql, input.goal_id, now);
  return toTasks(sql, [row])[0];
}

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

export interface TaskFilter {
  goal_id?: number;
  status?: TaskStatus;
  limit: number;
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

/** Hands `taskId` (ready, checked by the caller in the same transaction) to `agentId`. */
export function claimTask(sql: SqlStorage, taskId: number, agentId: string, leaseSeconds: number, now: number): Task {
  const row = sql
    .exec<TaskRow>(
      `UPDATE tasks SET status = 'in_progress', assigned_to = ?, attempt = attempt + 1, lease_id = ?,
         lease_expires_at = ?, lease_seconds = ?, started_at = ?, updated_at = ?
       WHERE id = ? AND status = 'pending' AND unmet_deps = 0 RETURNING *`,
      agentId,
      `ls_${randomToken(16)}`,
      now + leaseSeconds * 1000,
      leaseSeconds,
      now,
      now,
      taskId,
    )
    .toArray()[0];
  if (!row) throw conflict(`task ${taskId} is no longer ready`, "task_id");
  recordEvent(
    sql,
    row.id,
    {
      kind: "claimed",
      agent_id: agentId,
      lease_id: row.lease_id,
      attempt: row.attempt,
      status: row.status,
      detail: `claimed by ${agentId} for ${leaseSeconds} s (attempt ${row.attempt} of ${row.max_attempts}), lease until ${iso(row.lease_expires_at)}`,
    },
    now,
  );
  return toTasks(sql, [row])[0];
}

/**
 * Why `leaseId` no longer lets its holder act on the task, or null while it does. A lease is over
 * once it is not the task's current lease, and also once its expiry has passed even if the alarm
 * has not released the task yet: what a holder may do never depends on when the alarm runs.
 */
export function leaseLost(task: TaskRow, leaseId: string, now: number): string | null {
  if (task.lease_id === leaseId) {
    return task.lease_expires_at !== null && task.lease_expires_at <= now ? `the lease expired at ${iso(task.lease_expires_at)}` : null;
  }
  switch (task.status) {
    case "in_progress":
      return task.lease_id === null
        ? "the task was started by hand and has no lease"
        : `the task was claimed again, by ${task.assigned_to} (attempt ${task.attempt})`;
    case "pending":
      return "the lease ended (it expired or the task was put back by hand) and the task is back in the queue";
    default:
      return `the task is ${task.status}`;
  }
}

export function assertLeaseHeld(task: TaskRow, leaseId: string, now: number): void {
  const reason = leaseLost(task, leaseId, now);
  if (reason !== null) throw conflict(`task ${task.id}: lease ${leaseId} is lost: ${reason}`, "lease_id");
}

export interface StatusChange {
  task_id: number;
  status: TaskStatus;
  result?: string;
  error?: string;
  lease_id?: string;
}

/**
 * Moves a task along the transition table; see SPEC §5 and docs/tasks.md. With a `lease_id` the
 * move is fenced: it happens only while that lease is the task's live lease. Any move ends the
 * current lease (a task set back to pending is claimable at once, a failed one is not).
 */
export function updateTaskStatus(sql: SqlStorage, change: StatusChange, now: number): Task {
  const task = taskRow(sql, change.task_id);
  const to = change.status;
  // The lease first: a stale holder learns that it lost the task, whatever it tried to do.
  if (change.lease_id !== undefined) assertLeaseHeld(task, change.lease_id, now);
  if (!TRANSITIONS[task.status].includes(to)) {
    throw conflict(`task ${task.id} cannot move from ${task.status} to ${to}`, "status");
  }
  if ((to === "in_progress" || to === "completed") && task.unmet_deps > 0) {
    const blockedBy = toTasks(sql, [task])[0].blocked_by;
    throw failedPrecondition(`task ${task.id} depends on unfinished task ${blockedBy.join(", ")}`, "status");
  }
  const row = sql
    .exec<TaskRow>(
      `UPDATE tasks SET status = ?, result = ?, error = ?, updated_at = ?,
         started_at = ?, completed_at = ?, attempt = ?,
         assigned_to = ?, lease_id = NULL, lease_expires_at = NULL, lease_seconds = NULL
       WHERE id = ? RETURNING *`,
      to,
      change.result ?? task.result,
      change.error ?? task.error,
      now,
      to === "in_progress" ? now : task.started_at,
      to === "completed" ? now : task.completed_at,
      to === "in_progress" ? task.attempt + 1 : task.attempt,
      // Going back to the queue frees the task for anyone; other moves keep who worked on it.
      to === "pending" ? null : task.assigned_to,
      task.id,
    )
    .one();
  recordEvent(
    sql,
    task.id,
    {
      kind: "status_changed",
      agent_id: task.assigned_to,
      lease_id: task.lease_id,
      attempt: row.attempt,
      status: to,
      detail: `${task.status} → ${to}${change.lease_id === undefined ? "" : " by the lease holder"}`,
    },
    now,
  );
  if (to === "completed") {
    sql.exec(`UPDATE tasks SET unmet_deps = unmet_deps - 1 WHERE id IN (SELECT task_id FROM task_deps WHERE depends_on = ?)`, task.id);
  }
  if (row.goal_id !== null) refreshGoalStatus(sql, row.goal_id, now);
  return toTasks(sql, [row])[0];
}
