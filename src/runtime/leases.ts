/**
 * Leases: how a claimed task stays with its agent only while the agent is alive. A claim
 * (tasks.ts) gives the task a lease id and an expiry; the holder extends it with heartbeats
 * (`heartbeatTask`) and finishes the task quoting the lease id. When a lease runs out, the
 * alarm releases the task (`leaseExpiry`): back to `pending` for the next agent, keeping its
 * attempt count and the last progress note, or `failed` once `max_attempts` claims have run out.
 * See docs/tasks.md.
 */
import { abandonProbe, extendProbe } from "./breakers";
import { refreshGoalStatus } from "./goals";
import { recordEvent } from "./history";
import { LIMITS } from "./limits";
import { iso } from "./rows";
import { assertLeaseHeld, taskRow, type TaskRow } from "./tasks";
import type { TimedWork } from "./timed";

/**
 * The shortest lease a caller may ask for. `LEASE_MIN_SECONDS` (a testing aid, e.g. for an
 * end-to-end test that waits for a lease to run out) may lower it to 1..60 seconds; anything else
 * keeps the contract's 60.
 */
export function leaseMinSeconds(setting: string | undefined): number {
  const value = Number(setting);
  return Number.isInteger(value) && value >= 1 && value <= LIMITS.leaseMinSeconds ? value : LIMITS.leaseMinSeconds;
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

/** Extends a live lease; a lost one (see `leaseLost`) is a conflict and changes nothing. */
export function heartbeatTask(sql: SqlStorage, heartbeat: Heartbeat, now: number): HeartbeatAnswer {
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
  if (row.assigned_to !== null) extendProbe(sql, task.id, row.assigned_to, row.lease_expires_at!);
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
  return {
    task_id: row.id,
    lease_id: heartbeat.lease_id,
    lease_expires_at: iso(row.lease_expires_at)!,
    attempt: row.attempt,
    progress: row.progress,
  };
}

/**
 * Ends every lease whose expiry is at or before `now` (at most `limit`, earliest first; `null`: all of them) and
 * returns how many. Only in-progress tasks hold a lease, so each one either goes back to the
 * queue or, on its last attempt, fails. Dependents are untouched: they wait for a completion.
 * Running it again finds nothing left to do.
 */
export function releaseExpiredLeases(sql: SqlStorage, now: number, limit: number | null = LIMITS.expiriesPerRun): number {
  const expired = sql
    .exec<TaskRow>(`SELECT * FROM tasks WHERE lease_expires_at <= ? ORDER BY lease_expires_at, id LIMIT ?`, now, limit ?? -1)
    .toArray();
  const goals = new Set<number>();
  for (const task of expired) {
    const lastAttempt = task.attempt >= task.max_attempts;
    const when = iso(task.lease_expires_at);
    if (lastAttempt) {
      // Who held it last stays in assigned_to, as for any other failure.
      sql.exec(
        `UPDATE tasks SET status = 'failed', error = ?, lease_id = NULL, lease_expires_at = NULL, lease_seconds = NULL, updated_at = ?
         WHERE id = ?`,
        `lease expired on attempt ${task.attempt} of ${task.max_attempts} (max_attempts reached): ` +
          `${task.assigned_to} sent no heartbeat and did not finish the task before ${when}`,
        now,
        task.id,
      );
    } else {
      // Back to the queue for anyone; attempt and progress stay so the next agent can resume.
      sql.exec(
        `UPDATE tasks SET status = 'pending', assigned_to = NULL, lease_id = NULL, lease_expires_at = NULL, lease_seconds = NULL,
           updated_at = ?
         WHERE id = ?`,
        now,
        task.id,
      );
    }
    recordEvent(
      sql,
      task.id,
      {
        kind: "lease_expired",
        agent_id: task.assigned_to,
        lease_id: task.lease_id,
        attempt: task.attempt,
        status: lastAttempt ? "failed" : "pending",
        detail: lastAttempt
          ? `lease expired at ${when} on the last attempt (${task.attempt} of ${task.max_attempts}); the task failed`
          : `lease expired at ${when}; back in the queue after attempt ${task.attempt} of ${task.max_attempts}`,
      },
      now,
    );
    // A HALF_OPEN agent's probe ends with its lease: the agent went silent, the probe failed.
    if (task.assigned_to !== null) abandonProbe(sql, task.id, task.assigned_to, now);
    if (task.goal_id !== null) goals.add(task.goal_id);
  }
  for (const goalId of goals) refreshGoalStatus(sql, goalId, now);
  return expired.length;
}

/** The alarm's share of leases: due at the earliest expiry (an index lookup). */
export const leaseExpiry: TimedWork = {
  name: "lease_expiry",
  nextDue: (sql) =>
    sql.exec<{ due: number | null }>(`SELECT min(lease_expires_at) AS due FROM tasks WHERE lease_expires_at IS NOT NULL`).one().due,
  runDue: (sql, now) => {
    releaseExpiredLeases(sql, now);
  },
};
