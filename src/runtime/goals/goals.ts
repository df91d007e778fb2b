/**
 * Goals: a named piece of work whose tasks live in the queue. A goal's counts and progress are
 * derived from its tasks on every read, never stored, so they cannot drift.
 */
import { failedPrecondition, notFound } from "../kernel/errors";
import { iso, parseObject, type JsonObject } from "../kernel/rows";

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

export function listGoals(sql: SqlStorage, filter: { status?: GoalStatus; limit: number }): Goal[] {
  const where = filter.status ? `WHERE status = ?` : "";
  const params: SqlStorageValue[] = filter.status ? [filter.status] : [];
  const page = `SELECT id FROM goals ${where} ORDER BY id DESC LIMIT ?`;
  const rows = sql.exec<GoalRow>(`SELECT * FROM goals WHERE id IN (${page}) ORDER BY id DESC`, ...params, filter.limit).toArray();
  const counts = countsByGoal(sql, page, ...params, filter.limit);
  return rows.map((row) => toGoal(row, counts.get(row.id) ?? emptyCounts()));
}

/** Marks a goal cancelled (its tasks are the caller's business: see tasks/cancel.ts). */
export function markGoalCancelled(sql: SqlStorage, goalId: number, now: number): void {
  goalRow(sql, goalId);
  sql.exec(`UPDATE goals SET status = 'cancelled', completed_at = NULL, updated_at = ? WHERE id = ? AND status != 'cancelled'`, now, goalId);
}

/**
 * Re-derives an active or completed goal's status from its tasks: completed once it has completed
 * work and nothing left to do (every task completed, or cancelled), active again when a new task
 * arrives. A cancelled goal stays cancelled.
 */
export function refreshGoalStatus(sql: SqlStorage, goalId: number, now: number): void {
  const row = goalRow(sql, goalId);
  if (row.status === "cancelled") return;
  const counts = countsByGoal(sql, "?", goalId).get(goalId) ?? emptyCounts();
  const done = counts.completed > 0 && counts.pending + counts.in_progress + counts.failed === 0;
  const status: GoalStatus = done ? "completed" : "active";
  if (status === row.status) return;
  sql.exec(
    `UPDATE goals SET status = ?, completed_at = ?, updated_at = ? WHERE id = ?`,
    status,
    done ? now : null,
    now,
    goalId,
  );
}
