/**
 * Notifications (docs/owner.md#notifications): the events an owner wants on a phone, what each
 * carries, and the bounds of the outbox they wait in until a receiver at NOTIFY_URL takes them.
 *
 * An event is `{type, occurred_at, data}`. `data` is small and flat: ids, names and a short
 * reason, never descriptions, results or metadata — whatever NOTIFY_URL points at learns only
 * what is needed to decide whether to look at the dashboard.
 */

export const NOTIFICATION_TYPES = ["owner_task_ready", "breaker_opened", "task_parked", "goal_completed", "pipeline_ended"] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** What each event carries. Every string is cut to `OUTBOX.textMax` characters. */
export interface NotificationData {
  /** An owner task (role "owner") became ready: a decision waits on the dashboard. */
  owner_task_ready: { task_id: number; title: string; goal_id: number | null; goal_name: string | null };
  /** A task failed and stays failed: no retry policy, its attempts used up, or `retryable: false`. */
  task_parked: {
    task_id: number;
    title: string;
    goal_id: number | null;
    attempt: number;
    max_attempts: number;
    error: string | null;
    agent_id: string | null;
  };
  /** Every task of the goal is completed or cancelled, at least one completed. */
  goal_completed: { goal_id: number; name: string; tasks_completed: number; tasks_cancelled: number };
  /** A breaker moved to OPEN from CLOSED (failures, or a trip by hand) or from HALF_OPEN (a probe failed). */
  breaker_opened: {
    agent_id: string;
    from_state: "CLOSED" | "HALF_OPEN";
    reason: string;
    trip_count: number;
    cooldown_until: string;
    fallback_agent: string;
  };
  /** A relay pipeline completed its last step, or failed (its budget or a step's retries used up). */
  pipeline_ended: {
    pipeline_id: string;
    name: string;
    status: "completed" | "failed";
    reason: "budget_exhausted" | "retries_exhausted" | null;
    total_steps: number;
    tokens_used: number;
    token_budget: number;
  };
}

/** The JSON body a receiver gets. */
export interface Notification<T extends NotificationType = NotificationType> {
  type: T;
  occurred_at: string;
  data: NotificationData[T];
}

export const OUTBOX = {
  /** Undelivered events kept; beyond it the oldest are dropped (counted, shown on the dashboard). */
  maxPending: 1_000,
  /** Every string in an event's data is cut to this many characters. */
  textMax: 500,
  /** Events sent by one alarm run, all at once. */
  batch: 20,
  /** How long one POST may take before it counts as failed. */
  timeoutMs: 10_000,
  /**
   * While a POST is in flight its event is due again at this distance: if the object restarts
   * mid-delivery, the alarm sends it once more then (at least once, never lost).
   */
  inFlightMs: 60_000,
  /** Retries: this delay after the first failed attempt, doubling up to the cap, ± 20 % jitter. */
  retryBaseMs: 10_000,
  retryMaxMs: 3_600_000,
  /** Attempts stop this long after the event occurred: the event is given up. */
  giveUpAfterMs: 86_400_000,
  /** Given-up events kept for the dashboard, newest first. */
  givenUpKept: 50,
} as const;

export type OutboxState = "pending" | "given_up";

export interface OutboxRow extends Record<string, SqlStorageValue> {
  id: number;
  message_id: string;
  type: NotificationType;
  occurred_at: number;
  data: string;
  state: OutboxState;
  attempts: number;
  next_attempt_at: number | null;
  last_attempt_at: number | null;
  last_error: string | null;
  given_up_at: number | null;
}
