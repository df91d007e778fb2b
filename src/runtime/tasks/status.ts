/**
 * Moving a task along its lifecycle (docs/tasks.md). With a `lease_id` the move is fenced: it
 * happens only while that lease is the task's live lease. Any move ends the current lease (a task
 * set back to pending is claimable at once, a failed one is not). A move changes its dependents'
 * counters (readiness.ts), which may make them ready, or impossible (then they are skipped).
 * A reported failure is retried after a back-off when the task has a retry policy (retry.ts).
 * Owner tasks are not moved here: the owner decides them on the dashboard (owner.ts).
 */
import { refreshGoalStatus } from "../goals/goals";
import { conflict, failedPrecondition, invalid } from "../kernel/errors";
import { iso } from "../kernel/rows";
import { assertNotHeldByAnother } from "./acting";
import { recordEvent } from "./history";
import { assertLeaseHeld } from "./leases";
import { HOLD, LEASE_CLEARED, taskRow, toTasks, TRANSITIONS, type Task, type TaskRow, type TaskStatus } from "./model";
import { assertNotOwnerTask } from "./owner";
import { dependencyMoved, rejudgeTask } from "./readiness";
import { afterFailure, recordParked, scheduleRetry } from "./retry";
import { skipDoomed } from "./skip";

export interface StatusChange {
  task_id: number;
  status: TaskStatus;
  result?: string;
  error?: string;
  lease_id?: string;
  /** With status "failed": false parks the task at once, whatever its retry policy. */
  retryable?: boolean;
}

/**
 * Who moves a task: an agent through MCP (`agent`: the agent of a keyed call, who may not move
 * another agent's leased task without its lease), or the owner on the dashboard, who alone may
 * move owner tasks.
 */
export type Mover = { by: "agent"; agent?: string } | { by: "owner" };

export function updateTaskStatus(sql: SqlStorage, change: StatusChange, now: number, mover: Mover = { by: "agent" }): Task {
  const task = taskRow(sql, change.task_id);
  const to = change.status;
  // The lease first: a stale holder learns that it lost the task, whatever it tried to do.
  if (change.lease_id !== undefined) assertLeaseHeld(task, change.lease_id, now);
  else if (mover.by === "agent" && mover.agent !== undefined) assertNotHeldByAnother(task, mover.agent);
  if (mover.by === "agent") assertNotOwnerTask(task);
  if (change.retryable !== undefined && to !== "failed") throw invalid("retryable", 'applies only to status "failed"');
  if (!TRANSITIONS[task.status].includes(to)) {
    throw conflict(`task ${task.id} cannot move from ${task.status} to ${to}`);
  }
  if (task.status === "pending" && (to === "in_progress" || to === "completed")) assertMayStart(sql, task, now);
  const error = change.error ?? task.error;
  if (to === "failed") {
    const next = afterFailure(task, change.retryable ?? true, now);
    if (next.retry) {
      const retried = scheduleRetry(sql, task, error, next.notBefore, "reported failed", now);
      if (retried.goal_id !== null) refreshGoalStatus(sql, retried.goal_id, now);
      return toTasks(sql, [retried])[0];
    }
    move(sql, task, change, mover, now);
    recordParked(sql, task.id, next.parkedBecause, now);
  } else {
    move(sql, task, change, mover, now);
  }
  dependencyMoved(sql, task.id, task.status, to, now);
  if (to === "pending") rejudgeTask(sql, task.id, now);
  skipDoomed(sql, now);
  if (task.goal_id !== null) refreshGoalStatus(sql, task.goal_id, now);
  return toTasks(sql, [taskRow(sql, task.id)])[0];
}

function move(sql: SqlStorage, task: TaskRow, change: StatusChange, mover: Mover, now: number): void {
  const to = change.status;
  const attempt = to === "in_progress" ? task.attempt + 1 : task.attempt;
  sql.exec(
    `UPDATE tasks SET status = ?, result = ?, error = ?, updated_at = ?,
       started_at = ?, completed_at = ?, attempt = ?, assigned_to = ?, ${LEASE_CLEARED}
     WHERE id = ?`,
    to,
    change.result ?? task.result,
    change.error ?? task.error,
    now,
    to === "in_progress" ? now : task.started_at,
    to === "completed" ? now : task.completed_at,
    attempt,
    // Going back to the queue frees the task for anyone; other moves keep who worked on it.
    to === "pending" ? null : task.assigned_to,
    task.id,
  );
  recordEvent(
    sql,
    task.id,
    {
      kind: "status_changed",
      agent_id: task.assigned_to,
      lease_id: task.lease_id,
      attempt,
      status: to,
      detail: `${task.status} → ${to}${change.lease_id !== undefined ? " by the lease holder" : mover.by === "owner" ? " by the owner" : ""}`,
    },
    now,
  );
}

/** A pending task may be started or completed only once its rule holds and its time has come. */
function assertMayStart(sql: SqlStorage, task: TaskRow, now: number): void {
  if (task.hold === HOLD.waiting || task.hold === HOLD.never) {
    const [view] = toTasks(sql, [task]);
    const why = task.hold === HOLD.never ? "can never run (it is being skipped): see" : `waits (run_when ${task.run_when}) for`;
    throw failedPrecondition(`task ${task.id} ${why} task ${view.blocked_by.join(", ")}`);
  }
  if (task.not_before !== null && task.not_before > now) {
    throw failedPrecondition(`task ${task.id} may not start before ${iso(task.not_before)} (not_before)`);
  }
}

/**
 * The owner's Retry on the dashboard: sets failed tasks back to pending — a redrive, one more
 * attempt each, owner tasks included (a rejected decision is asked again). At most `limit` per
 * call, oldest first; returns the ids moved.
 */
export function redriveFailed(sql: SqlStorage, target: { task_id: number } | { goal_id: number }, now: number, limit: number): number[] {
  const ids =
    "task_id" in target
      ? [failedTask(sql, target.task_id)]
      : sql.exec<{ id: number }>(`SELECT id FROM tasks WHERE goal_id = ? AND status = 'failed' ORDER BY id LIMIT ?`, target.goal_id, limit).toArray().map((r) => r.id);
  for (const id of ids) updateTaskStatus(sql, { task_id: id, status: "pending" }, now, { by: "owner" });
  return ids;
}

/** A Retry is for a failed task only: an unfinished one would lose its holder, a finished one cannot move. */
function failedTask(sql: SqlStorage, taskId: number): number {
  const task = taskRow(sql, taskId);
  if (task.status !== "failed") throw failedPrecondition(`task ${task.id} is ${task.status}, not failed: there is nothing to retry`);
  return task.id;
}
