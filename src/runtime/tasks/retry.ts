/**
 * Retries with back-off (docs/tasks.md, "Retries"). A task with `retry_backoff_seconds` whose
 * attempt fails — reported by its holder, or its lease running out — while attempts are left goes
 * back to the queue, not before now + min(cap, base × 2^(attempt − 1)), spread by up to ±10 % so
 * that agents failing together do not come back together, and never past the cap. Its error is
 * kept for the next attempt to read. Otherwise the failure is final: the task is *parked* as
 * `failed` until someone sets it back to pending (a redrive) or cancels it.
 */
import { LIMITS } from "../kernel/limits";
import { iso } from "../kernel/rows";
import { enqueueNotification } from "../notify/enqueue";
import { recordEvent } from "./history";
import { LEASE_CLEARED, type TaskRow } from "./model";
import { rejudgeTask } from "./readiness";

/** What becomes of a failed attempt. */
export type AfterFailure = { retry: true; notBefore: number; delayMs: number } | { retry: false; parkedBecause: string };

/** The delay before the next attempt after `attempt` failed, in ms; `random` in [0, 1). */
export function backoffMs(base: number, cap: number, attempt: number, random: number): number {
  const raw = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  const spread = 1 + (random * 2 - 1) * LIMITS.retryJitter;
  return Math.round(Math.min(cap, raw * spread) * 1000);
}

/** Whether the failed attempt of `task` (its `attempt` just failed) is retried, and when. */
export function afterFailure(task: TaskRow, retryable: boolean, now: number, random: number = Math.random()): AfterFailure {
  if (task.retry_backoff_seconds === null) return { retry: false, parkedBecause: "it has no retry policy" };
  if (!retryable) return { retry: false, parkedBecause: "the failure was reported as not retryable" };
  if (task.attempt >= task.max_attempts) return { retry: false, parkedBecause: `its attempts are used up (${task.attempt} of ${task.max_attempts})` };
  const cap = task.retry_backoff_max_seconds ?? LIMITS.retryBackoffCapDefault;
  const delayMs = backoffMs(task.retry_backoff_seconds, cap, task.attempt, random);
  return { retry: true, notBefore: now + delayMs, delayMs };
}

/**
 * Puts `task` (in progress, its attempt failed) back in the queue, not before `notBefore`, with
 * `error` and a `retry_scheduled` event; `cause` says how the attempt failed.
 */
export function scheduleRetry(sql: SqlStorage, task: TaskRow, error: string | null, notBefore: number, cause: string, now: number): TaskRow {
  sql.exec(
    `UPDATE tasks SET status = 'pending', error = ?, assigned_to = NULL, ${LEASE_CLEARED}, not_before = ?, updated_at = ? WHERE id = ?`,
    error,
    notBefore,
    now,
    task.id,
  );
  const seconds = Math.round((notBefore - now) / 100) / 10;
  recordEvent(
    sql,
    task.id,
    {
      kind: "retry_scheduled",
      agent_id: task.assigned_to,
      lease_id: task.lease_id,
      attempt: task.attempt,
      status: "pending",
      detail: `${cause} on attempt ${task.attempt} of ${task.max_attempts}; retried not before ${iso(notBefore)} (in ${seconds} s)`,
    },
    now,
  );
  rejudgeTask(sql, task.id, now);
  return sql.exec<TaskRow>(`SELECT * FROM tasks WHERE id = ?`, task.id).one();
}

/** Records that `taskId` (now failed) stays failed, and why, and tells the owner. */
export function recordParked(sql: SqlStorage, taskId: number, why: string, now: number): void {
  const task = sql.exec<TaskRow>(`SELECT * FROM tasks WHERE id = ?`, taskId).one();
  recordEvent(
    sql,
    task.id,
    { kind: "parked", agent_id: task.assigned_to, lease_id: null, attempt: task.attempt, status: "failed", detail: `parked: ${why}` },
    now,
  );
  enqueueNotification(
    sql,
    "task_parked",
    {
      task_id: task.id,
      title: task.title,
      goal_id: task.goal_id,
      attempt: task.attempt,
      max_attempts: task.max_attempts,
      error: task.error,
      agent_id: task.assigned_to,
    },
    now,
  );
}
