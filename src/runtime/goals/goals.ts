/**
 * Goals: a named piece of work whose tasks live in the queue. A goal's counts and progress are
 * derived from its tasks on every read, never stored, so they cannot drift.
 */
import type { Cursors } from "../kernel/cursor";
import { DomainError, failedPrecondition, notFound } from "../kernel/errors";
import { keysetRows, readPage, scopeOf, viewOf, type KeysetTable, type Page, type PageQuery, type View, type Viewed } from "../kernel/page";
import { idList, iso, parseObject, type JsonObject } from "../kernel/rows";
import { enqueueNotification } from "../notify/enqueue";
import { windowOf, type ListWindow } from "../kernel/window";

export const GOAL_STATUSES = ["active", "completed", "cancelled"] as const;
export type GoalStatus = (typeof GOAL_STATUSES)[number];

export interface TaskCounts {
  pending: number;
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface Goal {
  id: number;
  name: string;
  description: string;
  status: GoalStatus;
  metadata: JsonObject;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  task_counts: TaskCounts;
  progress: number;
}

/** A goal as a list shows it by default (docs/lists.md); `get_goal` has the counts. */
export interface GoalBrief {
  id: number;
  name: string;
  status: GoalStatus;
  progress: number;
}

export type GoalQuery<V extends View = View> = { status?: GoalStatus } & PageQuery<V>;

interface GoalRow extends Record<string, SqlStorageValue> {
  id: number;
  name: string;
  description: string;
  status: GoalStatus;
  metadata: string;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

const emptyCounts = (): TaskCounts => ({ pending: 0, in_progress: 0, completed: 0, failed: 0, cancelled: 0 });

/** Completed share of the tasks still meant to be done (cancelled ones are not). */
function progressOf(counts: TaskCounts): number {
  const total = counts.pending + counts.in_progress + counts.completed + counts.failed;
  return total === 0 ? 0 : Math.round((counts.completed / total) * 1000) / 1000;
}

function toGoal(row: GoalRow, counts: TaskCounts): Goal {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    metadata: parseObject(row.metadata),
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    completed_at: iso(row.completed_at),
    task_counts: counts,
    progress: progressOf(counts),
  };
}

export function createGoal(
  sql: SqlStorage,
  input: { name: string; description: string; metadata?: JsonObject },
  now: number,
): Goal {
  const row = sql
    .exec<GoalRow>(
      `INSERT INTO goals (name, description, status, metadata, created_at, updated_at)
       VALUES (?, ?, 'active', ?, ?, ?) RETURNING *`,
      input.name,
      input.description,
      JSON.stringify(input.metadata ?? {}),
      now,
      now,
    )
    .one();
  return toGoal(row, emptyCounts());
}

function goalRow(sql: SqlStorage, goalId: number): GoalRow {
  const row = sql.exec<GoalRow>(`SELECT * FROM goals WHERE id = ?`, goalId).toArray()[0];
  if (!row) throw notFound(`goal ${goalId} does not exist`);
  return row;
}

export function assertGoalExists(sql: SqlStorage, goalId: number): void {
  goalRow(sql, goalId);
}

/** The goal's status (one primary-key read); an unknown goal is `not_found`. */
export function goalStatus(sql: SqlStorage, goalId: number): GoalStatus {
  return goalRow(sql, goalId).status;
}

/** A cancelled goal takes no new tasks; a completed one does, and becomes active again. */
export function assertAcceptsTasks(goal: Pick<GoalRow, "id" | "status">): void {
  if (goal.status === "cancelled") throw failedPrecondition(`goal ${goal.id} is cancelled and takes no new tasks`);
}

export function assertGoalAcceptsTasks(sql: SqlStorage, goalId: number): void {
  assertAcceptsTasks(goalRow(sql, goalId));
}

function countsByGoal(sql: SqlStorage, goalIdsQuery: string, ...params: SqlStorageValue[]): Map<number, TaskCounts> {
  const counts = new Map<number, TaskCounts>();
  const rows = sql.exec<{ goal_id: number; status: keyof TaskCounts; n: number }>(
    `SELECT goal_id, status, count(*) AS n FROM tasks WHERE goal_id IN (${goalIdsQuery}) GROUP BY goal_id, status`,
    ...params,
  );
  for (const row of rows) {
    const entry = counts.get(row.goal_id) ?? emptyCounts();
    entry[row.status] = row.n;
    counts.set(row.goal_id, entry);
  }
  return counts;
}

export function getGoal(sql: SqlStorage, goalId: number): Goal {
  const row = goalRow(sql, goalId);
  return toGoal(row, countsByGoal(sql, "?", goalId).get(goalId) ?? emptyCounts());
}

/** Goals newest first, a page at a time; goals created during a walk are not in it. */
export function listGoals<V extends View = "full">(sql: SqlStorage, cursors: Cursors, query: GoalQuery<V>): Page<Viewed<V, GoalBrief, Goal>> {
  const source: KeysetTable = { table: "goals", key: "id", descending: true, filter: { status: query.status } };
  const countsOf = (rows: { id: number }[]) => countsByGoal(sql, "SELECT value FROM json_each(?)", idList(rows.map((r) => r.id)));
  const page =
    viewOf(query) === "brief"
      ? readPage(cursors, scopeOf(source), query, (after: number | null, count) => {
          const rows = keysetRows<Pick<GoalRow, "id" | "name" | "status">>(sql, source, "id, name, status", after, count);
          const counts = countsOf(rows);
          return rows.map(({ id, name, status }) => ({ key: id, item: { id, name, status, progress: progressOf(counts.get(id) ?? emptyCounts()) } }));
        })
      : readPage(cursors, scopeOf(source), query, (after: number | null, count) => {
          const rows = keysetRows<GoalRow>(sql, source, "*", after, count);
          const counts = countsOf(rows);
          return rows.map((row) => ({ key: row.id, item: toGoal(row, counts.get(row.id) ?? emptyCounts()) }));
        });
  // The view chose the reader above, so the items are of the view's type.
  return page as Page<Viewed<V, GoalBrief, Goal>>;
}

/** A goal as the owner's list of goals shows it: no description or metadata, which may be long. */
export type GoalLine = Omit<Goal, "description" | "metadata" | "created_at" | "completed_at">;

/** A window of goals, newest first, below `before` (null: the newest): what a row shows and nothing more. */
export function goalLines(sql: SqlStorage, before: number | null, limit: number): ListWindow<GoalLine> {
  return windowOf(sql, { table: "goals", key: "id" }, before, limit, (below, count) => {
    const rows = sql
      .exec<Pick<GoalRow, "id" | "name" | "status" | "updated_at">>(
        `SELECT id, name, status, updated_at FROM goals WHERE id < ? ORDER BY id DESC LIMIT ?`,
        below,
        count,
      )
      .toArray();
    const counts = countsByGoal(sql, "SELECT value FROM json_each(?)", idList(rows.map((r) => r.id)));
    return rows.map((row) => {
      const taskCounts = counts.get(row.id) ?? emptyCounts();
      const item = { id: row.id, name: row.name, status: row.status, updated_at: iso(row.updated_at)!, task_counts: taskCounts, progress: progressOf(taskCounts) };
      return { key: row.id, item };
    });
  });
}

/** Marks a goal cancelled (its tasks are the caller's business: see tasks/cancel.ts). */
export function markGoalCancelled(sql: SqlStorage, goalId: number, now: number): void {
  goalRow(sql, goalId);
  sql.exec(`UPDATE goals SET status = 'cancelled', completed_at = NULL, updated_at = ? WHERE id = ? AND status != 'cancelled'`, now, goalId);
}

/**
 * After a write to a goal's tasks: the goal was updated then (`updated_at` moves, never back), and
 * an active or completed goal's status is re-derived from its tasks: completed once it has
 * completed work and nothing left to do (every task completed, or cancelled), active again when a
 * new task arrives. A cancelled goal stays cancelled.
 */
export function refreshGoalStatus(sql: SqlStorage, goalId: number, now: number): void {
  const row = goalRow(sql, goalId);
  const updatedAt = Math.max(row.updated_at, now);
  if (row.status === "cancelled") {
    sql.exec(`UPDATE goals SET updated_at = ? WHERE id = ?`, updatedAt, goalId);
    return;
  }
  const counts = countsByGoal(sql, "?", goalId).get(goalId) ?? emptyCounts();
  const done = counts.completed > 0 && counts.pending + counts.in_progress + counts.failed === 0;
  const status: GoalStatus = done ? "completed" : "active";
  const completedAt = status === row.status ? row.completed_at : done ? now : null;
  sql.exec(`UPDATE goals SET status = ?, completed_at = ?, updated_at = ? WHERE id = ?`, status, completedAt, updatedAt, goalId);
  if (done && status !== row.status) {
    enqueueNotification(sql, "goal_completed", { goal_id: goalId, name: row.name, tasks_completed: counts.completed, tasks_cancelled: counts.cancelled }, now);
  }
}

export interface GoalEdit {
  goal_id: number;
  name?: string;
  description?: string;
  /** Replaces the goal's metadata object. */
  metadata?: JsonObject;
}

/**
 * Changes a goal's name, description or metadata, whatever its status; omitted fields keep their
 * value, and an edit that changes nothing writes nothing.
 */
export function updateGoal(sql: SqlStorage, edit: GoalEdit, now: number): Goal {
  const row = goalRow(sql, edit.goal_id);
  if (edit.name === undefined && edit.description === undefined && edit.metadata === undefined) {
    throw new DomainError("invalid_argument", "nothing to change: pass at least one of name, description, metadata");
  }
  const metadata = edit.metadata === undefined ? row.metadata : JSON.stringify(edit.metadata);
  const name = edit.name ?? row.name;
  const description = edit.description ?? row.description;
  if (name !== row.name || description !== row.description || metadata !== row.metadata) {
    sql.exec(`UPDATE goals SET name = ?, description = ?, metadata = ?, updated_at = ? WHERE id = ?`, name, description, metadata, now, row.id);
  }
  return getGoal(sql, row.id);
}

/** Active goals below `beforeId`, newest first: one page of the live goals (resources/list). */
export function activeGoalsPage(sql: SqlStorage, beforeId: number | null, limit: number): Pick<Goal, "id" | "name">[] {
  return sql
    .exec<Pick<GoalRow, "id" | "name">>(
      `SELECT id, name FROM goals WHERE status = 'active' AND id < ? ORDER BY id DESC LIMIT ?`,
      beforeId ?? Number.MAX_SAFE_INTEGER,
      limit,
    )
    .toArray();
}

/**
 * Up to `limit` goal ids whose decimal form starts with `prefix`, newest first. The ids with a
 * given prefix and number of digits form one range (prefix 12 and 4 digits: 1200..1299), so this
 * is a few primary-key range reads, longest (newest) first, and stops at `limit`.
 */
export function goalIdsWithPrefix(sql: SqlStorage, prefix: string, limit: number): number[] {
  if (!/^\d{0,15}$/.test(prefix) || prefix.startsWith("0")) return [];
  if (prefix === "") {
    return sql.exec<{ id: number }>(`SELECT id FROM goals ORDER BY id DESC LIMIT ?`, limit).toArray().map((r) => r.id);
  }
  const newest = sql.exec<{ id: number | null }>(`SELECT max(id) AS id FROM goals`).one().id;
  const ids: number[] = [];
  for (let digits = String(newest ?? 0).length; digits >= prefix.length && ids.length < limit; digits--) {
    const span = 10 ** (digits - prefix.length);
    const lo = Number(prefix) * span;
    for (const r of sql.exec<{ id: number }>(`SELECT id FROM goals WHERE id BETWEEN ? AND ? ORDER BY id DESC LIMIT ?`, lo, lo + span - 1, limit - ids.length)) {
      ids.push(r.id);
    }
  }
  return ids;
}
