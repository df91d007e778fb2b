/**
 * A task's history: what happened to it and who did it — claims, heartbeats, lease expiries,
 * status changes, edits, skips, retries and the owner's decisions — shown newest first by
 * `get_task`. Storage stays bounded however long a task runs: consecutive heartbeats under one lease are merged into one event (its `count` grows and
 * its time moves on), and only the newest `LIMITS.taskEvents` events of a task are kept.
 */
import { LIMITS } from "../kernel/limits";
import { iso, keepNewest } from "../kernel/rows";
import type { TaskStatus } from "./model";

export const EVENT_KINDS = [
  "claimed",
  "heartbeat",
  "lease_expired",
  "status_changed",
  "edited",
  /** Cancelled because its rule can never hold (docs/tasks.md, "Skipping"). */
  "skipped",
  /** Failed, and back in the queue after a back-off (docs/tasks.md, "Retries"). */
  "retry_scheduled",
  /** Failed for good: no retry policy, attempts used up, or reported not retryable. */
  "parked",
  /** The owner's decision on the dashboard (docs/owner.md). */
  "approved",
  "rejected",
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface TaskEvent {
  at: string;
  kind: EventKind;
  /** The agent holding the task when it happened (null when nobody did). */
  agent_id: string | null;
  lease_id: string | null;
  attempt: number;
  /** The task's status right after the event. */
  status: TaskStatus;
  detail: string;
  /** How many consecutive events this one stands for (heartbeats of one lease are merged). */
  count: number;
}

/** What a caller records; the time and the merge count are the history's. */
export type NewEvent = Omit<TaskEvent, "at" | "count">;

type EventRow = Omit<TaskEvent, "at"> & { at: number } & Record<string, SqlStorageValue>;

export function recordEvent(sql: SqlStorage, taskId: number, event: NewEvent, now: number): void {
  if (event.kind === "heartbeat") {
    const merged = sql
      .exec(
        `UPDATE task_events SET at = ?, detail = ?, count = count + 1
         WHERE id = (SELECT max(id) FROM task_events WHERE task_id = ?) AND kind = 'heartbeat' AND lease_id = ?
         RETURNING id`,
        now,
        event.detail,
        taskId,
        event.lease_id,
      )
      .toArray();
    if (merged.length > 0) return;
  }
  sql.exec(
    `INSERT INTO task_events (task_id, at, kind, agent_id, lease_id, attempt, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    taskId,
    now,
    event.kind,
    event.agent_id,
    event.lease_id,
    event.attempt,
    event.status,
    event.detail,
  );
  keepNewest(sql, { table: "task_events", owner: "task_id" }, taskId, LIMITS.taskEvents);
}

/** The task's events, newest first. */
export function taskEvents(sql: SqlStorage, taskId: number): TaskEvent[] {
  return sql
    .exec<EventRow>(
      `SELECT at, kind, agent_id, lease_id, attempt, status, detail, count FROM task_events
       WHERE task_id = ? ORDER BY id DESC LIMIT ?`,
      taskId,
      LIMITS.taskEvents,
    )
    .toArray()
    .map((row) => ({ ...row, at: iso(row.at)! }));
}
