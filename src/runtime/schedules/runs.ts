/**
 * What the alarm does for schedules (docs/schedules.md): at each due time, one run; and removing
 * finished runs beyond a schedule's keep_runs. Both are due times stored in the data
 * (`next_run_at`, `prune_at`, each under a partial index), handled in bounded batches; what is
 * left stays due and the alarm fires again at once.
 *
 * A run makes one task through the task domain's own `createTask`, so it is a task like any
 * other (its goal's status follows, waiting agents are woken), and marks it with the schedule's
 * id. Idempotent, as alarms are delivered at least once: a run moves `next_run_at` past now in
 * the same transaction, so a second delivery finds nothing due.
 */
import { goalStatus, refreshGoalStatus } from "../goals/goals";
import { idList, parseObject } from "../kernel/rows";
import type { TimedWork } from "../kernel/timed";
import { createTask, type NewTask } from "../tasks/queue";
import { SCHEDULE_LIMITS, type ScheduleRow } from "./model";
import { ruleOf } from "./schedules";
import { nextRunAfter } from "./timing";

export const scheduleTimedWork: TimedWork = {
  nextDue(sql) {
    const { run, prune } = sql
      .exec<{ run: number | null; prune: number | null }>(
        `SELECT (SELECT min(next_run_at) FROM schedules WHERE next_run_at IS NOT NULL) AS run,
                (SELECT min(prune_at) FROM schedules WHERE prune_at IS NOT NULL) AS prune`,
      )
      .one();
    if (run === null || prune === null) return run ?? prune;
    return Math.min(run, prune);
  },
  runDue(sql, now) {
    runDueSchedules(sql, now);
    pruneOldRuns(sql, now);
  },
};

function runDueSchedules(sql: SqlStorage, now: number): void {
  const due = sql
    .exec<ScheduleRow>(
      `SELECT * FROM schedules INDEXED BY schedules_due WHERE next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY next_run_at LIMIT ?`,
      now,
      SCHEDULE_LIMITS.runsPerAlarm,
    )
    .toArray();
  for (const schedule of due) run(sql, schedule, now);
}

/**
 * One due time of one schedule: a task, or a skip while the previous run is unfinished (overlap
 * "skip"). However late the alarm is, the next run is the first due time after now: after
 * downtime one late run is made, never one per missed due time.
 */
function run(sql: SqlStorage, schedule: ScheduleRow, now: number): void {
  // A cancelled goal takes no new tasks, ever: its schedules end.
  if (schedule.goal_id !== null && goalStatus(sql, schedule.goal_id) === "cancelled") {
    sql.exec(`UPDATE schedules SET status = 'ended', next_run_at = NULL, updated_at = ? WHERE seq = ?`, now, schedule.seq);
    return;
  }
  const next = nextRunAfter(ruleOf(schedule), now);
  const status = next === null ? "ended" : "active";
  if (schedule.overlap === "skip" && unfinished(sql, schedule.last_task_id)) {
    sql.exec(
      `UPDATE schedules SET skipped_runs = skipped_runs + 1, status = ?, next_run_at = ?, updated_at = ? WHERE seq = ?`,
      status,
      next,
      now,
      schedule.seq,
    );
    return;
  }
  const task = createTask(sql, taskOf(schedule), now);
  sql.exec(`UPDATE tasks SET schedule_id = ? WHERE id = ?`, schedule.id, task.id);
  sql.exec(
    `UPDATE schedules SET runs = runs + 1, last_run_at = ?, last_task_id = ?, status = ?, next_run_at = ?,
       prune_at = CASE WHEN runs + 1 > keep_runs THEN coalesce(prune_at, ?) ELSE prune_at END, updated_at = ?
     WHERE seq = ?`,
    now,
    task.id,
    status,
    next,
    now,
    now,
    schedule.seq,
  );
}

function taskOf(schedule: ScheduleRow): NewTask {
  return {
    title: schedule.title,
    description: schedule.description,
    ...(schedule.goal_id !== null ? { goal_id: schedule.goal_id } : {}),
    ...(schedule.role !== null ? { role: schedule.role } : {}),
    priority: schedule.priority,
    metadata: parseObject(schedule.metadata),
  };
}

/** Whether the schedule's previous run is still to be done or being done. */
function unfinished(sql: SqlStorage, taskId: number | null): boolean {
  if (taskId === null) return false;
  const row = sql.exec<{ status: string }>(`SELECT status FROM tasks WHERE id = ?`, taskId).toArray()[0];
  return row !== undefined && (row.status === "pending" || row.status === "in_progress");
}

/**
 * Removes finished runs (completed, failed, cancelled) older than each due schedule's newest
 * keep_runs finished ones, with their history and their own dependency edges, at most
 * `prunedPerAlarm` per alarm run. A finished run that another task depends on is kept: removing
 * it would change what its dependents wait for. The goals of removed runs are re-derived.
 */
function pruneOldRuns(sql: SqlStorage, now: number): void {
  const due = sql
    .exec<Pick<ScheduleRow, "seq" | "id" | "keep_runs">>(
      `SELECT seq, id, keep_runs FROM schedules INDEXED BY schedules_prune WHERE prune_at IS NOT NULL AND prune_at <= ? ORDER BY prune_at LIMIT ?`,
      now,
      SCHEDULE_LIMITS.runsPerAlarm,
    )
    .toArray();
  let budget: number = SCHEDULE_LIMITS.prunedPerAlarm;
  const removed: number[] = [];
  for (const schedule of due) {
    if (budget === 0) break;
    const old = removableRuns(sql, schedule.id, schedule.keep_runs, budget + 1);
    const batch = old.slice(0, budget);
    removed.push(...batch);
    budget -= batch.length;
    if (old.length <= batch.length) sql.exec(`UPDATE schedules SET prune_at = NULL WHERE seq = ?`, schedule.seq);
  }
  for (const goalId of removeTasks(sql, removed)) refreshGoalStatus(sql, goalId, now);
}

/**
 * Up to `limit` finished runs beyond the newest `keep` finished ones, newest first, that no task
 * depends on. The walk past the kept ones reads only the entries of a partial index.
 */
function removableRuns(sql: SqlStorage, scheduleId: string, keep: number, limit: number): number[] {
  return sql
    .exec<{ id: number }>(
      `SELECT id FROM (
         SELECT id FROM tasks INDEXED BY tasks_finished_of_schedule
         WHERE schedule_id = ? AND status IN ('completed', 'failed', 'cancelled')
         ORDER BY id DESC LIMIT -1 OFFSET ?
       ) AS old
       WHERE NOT EXISTS (SELECT 1 FROM task_deps WHERE depends_on = old.id)
       LIMIT ?`,
      scheduleId,
      keep,
      limit,
    )
    .toArray()
    .map((r) => r.id);
}

/**
 * Deletes finished tasks that nothing depends on, with what refers to them: their history and
 * the edges to their own dependencies; answers the goals they were in. Every table with a
 * foreign key to tasks must be cleared here (test/schedules.test.ts checks the schema for it).
 */
function removeTasks(sql: SqlStorage, taskIds: number[]): number[] {
  if (taskIds.length === 0) return [];
  const ids = idList(taskIds);
  sql.exec(`DELETE FROM task_events WHERE task_id IN (SELECT value FROM json_each(?))`, ids);
  sql.exec(`DELETE FROM task_deps WHERE task_id IN (SELECT value FROM json_each(?))`, ids);
  return sql
    .exec<{ goal_id: number | null }>(`DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?)) RETURNING goal_id`, ids)
    .toArray()
    .flatMap((r) => (r.goal_id === null ? [] : [r.goal_id]))
    .filter((goalId, i, all) => all.indexOf(goalId) === i);
}
