/**
 * Leases: how a claimed task stays with its agent only while the agent is alive. A *claim* hands
 * a ready task to one agent under a lease (an id and an expiry); the Durable Object runs one
 * request at a time and the claim is a single UPDATE … RETURNING, so two agents can never claim
 * the same task. The holder extends the lease with heartbeats and finishes the task quoting the
 * lease id. When a lease runs out the task is released: back to `pending` for the next agent
 * (after a back-off when it has a retry policy), keeping its attempt count and the last progress
 * note, or `failed` once `max_attempts` claims have run out. An old lease id is refused from then on (fencing), so a holder that went silent
 * cannot overwrite the work of the next one. See docs/tasks.md.
 */
import { refreshGoalStatus } from "../goals/goals";
import { conflict } from "../kernel/errors";
import { LIMITS } from "../kernel/limits";
import { iso, randomToken } from "../kernel/rows";
import { recordEvent } from "./history";
import { HOLD, LEASE_CLEARED, OWNER_ROLE, taskRow, toTasks, type Task, type TaskRow } from "./model";
import { dependencyMoved, rejudgeTask } from "./readiness";
import { afterFailure, recordParked, scheduleRetry } from "./retry";

/**
 * The shortest lease a caller may ask for. `LEASE_MIN_SECONDS` (a testing aid, e.g. for an
 * end-to-end test that waits for a lease to run out) may lower it to 1..60 seconds; anything else
 * keeps the contract's 60.
 */
export function leaseMinSeconds(setting: string | undefined): number {
  const value = Number(setting);
  return Number.isInteger(value) && value >= 1 && value <= LIMITS.leaseMinSeconds ? value : LIMITS.leaseMinSeconds;
}

/** Hands `taskId` (ready, checked by the caller in the same transaction) to `agentId`. */
export function claimTask(sql: SqlStorage, taskId: number, agentId: string, leaseSeconds: number, now: number): Task {
  const row = sql
    .exec<TaskRow>(
      `UPDATE tasks SET status = 'in_progress', assigned_to = ?, attempt = attempt + 1, lease_id = ?,
         lease_expires_at = ?, lease_seconds = ?, started_at = ?, updated_at = ?
       WHERE id = ? AND status = 'pending' AND hold = ${HOLD.ready} AND role IS NOT '${OWNER_ROLE}' RETURNING *`,
      agentId,
      `ls_${randomToken(16)}`,
      now + leaseSeconds * 1000,
      leaseSeconds,
      now,
      now,
      taskId,
    )
    .toArray()[0];
  if (!row) throw conflict(`task ${taskId} is no longer ready`);
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
  if (reason !== null) throw conflict(`task ${task.id}: lease ${leaseId} is lost: ${reason}`);
}

export interface Heartbeat {
  task_id: number;
  lease_id: string;
  /** The lease then ends this many seconds from now; default: the length it was claimed for. */
  extend_seconds?: number;
  /** Replaces the task's progress note; omitted keeps it. */
  progress?: string;
}

export interface HeartbeatAnswer {
  task_id: number;
  lease_id: string;
  lease_expires_at: string;
  attempt: number;
  progress: string | null;
}

/** Extends a live lease and returns the task as it is now; a lost lease is a conflict and changes nothing. */
export function extendLease(sql: SqlStorage, heartbeat: Heartbeat, now: number): TaskRow {
  const task = taskRow(sql, heartbeat.task_id);
  assertLeaseHeld(task, heartbeat.lease_id, now);
  const seconds = heartbeat.extend_seconds ?? task.lease_seconds ?? LIMITS.leaseDefaultSeconds;
  const row = sql
    .exec<TaskRow>(
      `UPDATE tasks SET lease_expires_at = ?, progress = coalesce(?, progress), updated_at = ? WHERE id = ? RETURNING *`,
      now + seconds * 1000,
      heartbeat.progress ?? null,
      now,
      task.id,
    )
    .one();
  recordEvent(
    sql,
    task.id,
    {
      kind: "heartbeat",
      agent_id: row.assigned_to,
      lease_id: row.lease_id,
      attempt: row.attempt,
      status: row.status,
      detail: `lease extended by ${seconds} s, until ${iso(row.lease_expires_at)}`,
    },
    now,
  );
  return row;
}

export const heartbeatAnswer = (row: TaskRow): HeartbeatAnswer => ({
  task_id: row.id,
  lease_id: row.lease_id!,
  lease_expires_at: iso(row.lease_expires_at)!,
  attempt: row.attempt,
  progress: row.progress,
});

/** A task whose lease ran out, and who held it. */
export interface ReleasedLease {
  task_id: number;
  agent_id: string | null;
}

/**
 * Ends the leases whose expiry is at or before `now` and says which: at most `limit`, in hand-out
 * order (priority, then age), so that a bounded batch released before a hand-out never leaves a
 * more important task held than one it freed. Only in-progress tasks hold a lease; each goes back
 * to the queue (after its back-off when it has a retry policy: retry.ts), or, on its last
 * attempt, fails and is parked — which its dependents' counters hear about. Running it again
 * finds nothing left to do.
 */
export function releaseExpiredLeases(sql: SqlStorage, now: number, limit: number = LIMITS.expiriesPerRun): ReleasedLease[] {
  const expired = sql
    // INDEXED BY: the expired leases only; by status the planner would read every task in progress.
    .exec<TaskRow>(
      `SELECT * FROM tasks INDEXED BY tasks_lease_expiry
       WHERE lease_expires_at <= ? AND status = 'in_progress' ORDER BY priority DESC, id LIMIT ?`,
      now,
      limit,
    )
    .toArray();
  const goals = new Set<number>();
  for (const task of expired) {
    releaseOne(sql, task, now);
    if (task.goal_id !== null) goals.add(task.goal_id);
  }
  for (const goalId of goals) refreshGoalStatus(sql, goalId, now);
  return expired.map((task) => ({ task_id: task.id, agent_id: task.assigned_to }));
}

function releaseOne(sql: SqlStorage, task: TaskRow, now: number): void {
  const when = iso(task.lease_expires_at);
  const next = afterFailure(task, true, now);
  if (next.retry) {
    recordExpiry(sql, task, "pending", `lease expired at ${when} on attempt ${task.attempt} of ${task.max_attempts}`, now);
    scheduleRetry(sql, task, task.error, next.notBefore, "the lease expired", now);
  } else if (task.attempt < task.max_attempts) {
    // No retry policy: back to the queue at once, for anyone (attempt and progress stay, so the
    // next agent can resume).
    sql.exec(`UPDATE tasks SET status = 'pending', assigned_to = NULL, ${LEASE_CLEARED}, updated_at = ? WHERE id = ?`, now, task.id);
    recordExpiry(sql, task, "pending", `lease expired at ${when}; back in the queue after attempt ${task.attempt} of ${task.max_attempts}`, now);
    rejudgeTask(sql, task.id, now);
  } else {
    // The last attempt: failed, where who held it last stays in assigned_to as for any failure.
    const silent = `${task.assigned_to} sent no heartbeat and did not finish the task before ${when}`;
    sql.exec(
      `UPDATE tasks SET status = 'failed', error = ?, ${LEASE_CLEARED}, updated_at = ? WHERE id = ?`,
      `lease expired on attempt ${task.attempt} of ${task.max_attempts} (max_attempts reached): ${silent}`,
      now,
      task.id,
    );
    recordExpiry(sql, task, "failed", `lease expired at ${when} on the last attempt (${task.attempt} of ${task.max_attempts}); the task failed`, now);
    recordParked(sql, task.id, `its attempts are used up (${task.attempt} of ${task.max_attempts})`, now);
    dependencyMoved(sql, task.id, "in_progress", "failed", now);
  }
}

function recordExpiry(sql: SqlStorage, task: TaskRow, status: "pending" | "failed", detail: string, now: number): void {
  recordEvent(sql, task.id, { kind: "lease_expired", agent_id: task.assigned_to, lease_id: task.lease_id, attempt: task.attempt, status, detail }, now);
}

/** The earliest lease expiry (an index lookup), or null. */
export const nextLeaseExpiry = (sql: SqlStorage): number | null =>
  sql
    .exec<{ due: number }>(
      `SELECT lease_expires_at AS due FROM tasks INDEXED BY tasks_lease_expiry
       WHERE lease_expires_at IS NOT NULL AND status = 'in_progress' ORDER BY lease_expires_at LIMIT 1`,
    )
    .toArray()[0]?.due ?? null;
