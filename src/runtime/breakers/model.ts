/**
 * Circuit breakers: one per `agent_id`, so that an agent that keeps failing stops getting work
 * for a while, is tried again carefully, and its work meanwhile goes to a fallback agent.
 *
 *   CLOSED ──(failure_threshold failures within window_seconds, or trip)──▶ OPEN
 *   OPEN ──(cooldown_until reached: the alarm)──▶ HALF_OPEN
 *   HALF_OPEN ──(success_threshold successes)──▶ CLOSED
 *   HALF_OPEN ──(any failure, or a probe that expired unreported)──▶ OPEN (a fresh cooldown)
 *   any ──(reset)──▶ CLOSED
 *
 * A *probe* is one call let through while HALF_OPEN. `get_next_task` with the agent's id hands
 * out a probe together with the task; a probe is resolved by the agent's next
 * `record_success`/`record_failure`, and one still unresolved at its deadline (at least
 * `probe_timeout_seconds`, and as long as its task's lease: see `takeProbe`) counts as a failure.
 * At most `half_open_max_calls` probes are outstanding. A report while HALF_OPEN with no probe
 * outstanding is itself a probe, taken and resolved at once (an agent working outside the queue "takes" its probe by reporting).
 *
 * Time is data: an OPEN breaker's `cooldown_until` and every probe's `expires_at` are indexed due
 * times that the Runtime's single alarm is derived from (`breakerTimedWork`). Task completions do
 * not touch breakers: only the record_* calls, trip/reset and probe deadlines change one, so a
 * breaker says exactly what the agent reported.
 *
 * Storage per breaker is bounded: the last `max(failure_threshold, 10)` failures (enough to
 * decide a trip exactly; messages kept up to 2,000 chars), the last 50 transitions, at most
 * `half_open_max_calls` probes.
 */
import type { Page, PageQuery, View } from "../kernel/page";

export const BREAKER_STATES = ["CLOSED", "OPEN", "HALF_OPEN"] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

export const FAILURE_TYPES = ["timeout", "exception", "quality_failure", "resource_exhausted", "rate_limited", "invalid_output"] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

export interface BreakerConfig {
  failure_threshold: number;
  window_seconds: number;
  cooldown_seconds: number;
  half_open_max_calls: number;
  success_threshold: number;
  probe_timeout_seconds: number;
  fallback_agent: string;
}

/** The defaults of docs/breakers.md; `probe_timeout_seconds` is ours. */
export const DEFAULT_CONFIG: BreakerConfig = {
  failure_threshold: 5,
  window_seconds: 60,
  cooldown_seconds: 300,
  half_open_max_calls: 3,
  success_threshold: 2,
  probe_timeout_seconds: 60,
  fallback_agent: "generalist",
};

/** Allowed ranges (inclusive, whole numbers) of the numeric settings. */
export const CONFIG_RANGES = {
  failure_threshold: [1, 100],
  window_seconds: [1, 86_400],
  cooldown_seconds: [1, 86_400],
  half_open_max_calls: [1, 100],
  success_threshold: [1, 100],
  probe_timeout_seconds: [1, 86_400],
} as const satisfies Record<Exclude<keyof BreakerConfig, "fallback_agent">, readonly [number, number]>;

export const BREAKER_LIMITS = {
  /** A manual trip's reason. */
  reason: 1_000,
  /** Of each failure message, this much is kept (the call may send up to LIMITS.text). */
  messageKept: 2_000,
  /** Failures and transitions shown in a status. */
  recent: 10,
  /** Transitions kept per breaker. */
  eventsKept: 50,
  /** Characters of each failure message and transition reason shown by `listBreakers`. */
  listedText: 200,
  /** Ids of OPEN (and of HALF_OPEN) breakers named by `listBreakers`. */
  listedIds: 100,
} as const;

export interface Probe {
  task_id: number;
  taken_at: string;
  expires_at: string;
}

export interface BreakerStatus {
  agent_id: string;
  /** false: nothing was ever recorded or configured for this agent; it is CLOSED with defaults. */
  tracked: boolean;
  state: BreakerState;
  can_execute: boolean;
  failure_count: number;
  success_count: number;
  total_failures: number;
  total_successes: number;
  trip_count: number;
  last_failure_at: string | null;
  last_success_at: string | null;
  state_changed_at: string | null;
  opened_at: string | null;
  cooldown_until: string | null;
  half_open_at: string | null;
  retry_after_seconds: number;
  probes_in_flight: number;
  probes: Probe[];
  config: BreakerConfig;
  fallback_agent: string;
  recent_failures: { type: FailureType; message: string; at: string }[];
  recent_transitions: { from: BreakerState; to: BreakerState; reason: string; at: string }[];
}

export type BreakerQuery<V extends View = View> = PageQuery<V>;

/** A breaker as a list shows it by default (docs/lists.md): zeros left out. */
export interface BreakerBrief {
  agent_id: string;
  state: BreakerState;
  can_execute: boolean;
  /** Failures inside the window; left out when none. */
  failure_count?: number;
  /** Left out when it can execute. */
  retry_after_seconds?: number;
}

/** A page of breakers by agent_id, and the OPEN and HALF_OPEN ones among all of them. */
export interface BreakerList<T = BreakerStatus> extends Page<T> {
  total_breakers: number;
  /** At most `BREAKER_LIMITS.listedIds`, by agent_id; `open_count` counts them all. */
  open_circuits: string[];
  open_count: number;
  half_open_circuits: string[];
  half_open_count: number;
}

export interface StateChange {
  agent_id: string;
  old_state: BreakerState;
  new_state: BreakerState;
  changed: boolean;
  breaker: BreakerStatus;
}

/** What a caller about to hand work to an agent needs to know. */
export interface Gate {
  can_execute: boolean;
  state: BreakerState;
  fallback_agent: string;
  /** 0 when it can execute; else seconds until the cooldown ends or the earliest probe expires. */
  retry_after_seconds: number;
  /** Why it cannot execute, or null. */
  reason: "circuit_open" | "circuit_half_open_probes_taken" | null;
}

export interface BreakerRow extends BreakerConfig, Record<string, SqlStorageValue> {
  agent_id: string;
  state: BreakerState;
  success_count: number;
  total_failures: number;
  total_successes: number;
  trip_count: number;
  failures_since: number;
  last_failure_at: number | null;
  last_success_at: number | null;
  state_changed_at: number;
  opened_at: number | null;
  half_open_at: number | null;
  cooldown_until: number | null;
  created_at: number;
  updated_at: number;
}

export interface ProbeRow extends Record<string, SqlStorageValue> {
  id: number;
  task_id: number;
  taken_at: number;
  expires_at: number;
}

// --- rows ----------------------------------------------------------------------------------

export function breakerRow(sql: SqlStorage, agentId: string): BreakerRow | null {
  return sql.exec<BreakerRow>(`SELECT * FROM breakers WHERE agent_id = ?`, agentId).toArray()[0] ?? null;
}

export const configOf = (row: BreakerRow): BreakerConfig => ({
  failure_threshold: row.failure_threshold,
  window_seconds: row.window_seconds,
  cooldown_seconds: row.cooldown_seconds,
  half_open_max_calls: row.half_open_max_calls,
  success_threshold: row.success_threshold,
  probe_timeout_seconds: row.probe_timeout_seconds,
  fallback_agent: row.fallback_agent,
});

export function probesOf(sql: SqlStorage, agentId: string): ProbeRow[] {
  return sql.exec<ProbeRow>(`SELECT id, task_id, taken_at, expires_at FROM breaker_probes WHERE agent_id = ? ORDER BY id`, agentId).toArray();
}

/** Failures that count toward a trip: inside the window and since the breaker last closed. */
export function failuresInWindow(sql: SqlStorage, row: BreakerRow, now: number): number {
  return sql
    .exec<{ n: number }>(
      `SELECT count(*) AS n FROM breaker_failures WHERE agent_id = ? AND at > ? AND at >= ?`,
      row.agent_id,
      now - row.window_seconds * 1000,
      row.failures_since,
    )
    .one().n;
}

const secondsUntil = (due: number, now: number) => Math.max(0, Math.ceil((due - now) / 1000));

export function gateOf(row: BreakerRow, probes: ProbeRow[], now: number): Gate {
  const base = { state: row.state, fallback_agent: row.fallback_agent };
  if (row.state === "OPEN") {
    return { ...base, can_execute: false, reason: "circuit_open", retry_after_seconds: secondsUntil(row.cooldown_until ?? now, now) };
  }
  if (row.state === "HALF_OPEN" && probes.length >= row.half_open_max_calls) {
    const earliest = Math.min(...probes.map((p) => p.expires_at));
    return { ...base, can_execute: false, reason: "circuit_half_open_probes_taken", retry_after_seconds: secondsUntil(earliest, now) };
  }
  return { ...base, can_execute: true, reason: null, retry_after_seconds: 0 };
}

export const CLOSED_GATE: Gate = {
  can_execute: true,
  state: "CLOSED",
  fallback_agent: DEFAULT_CONFIG.fallback_agent,
  retry_after_seconds: 0,
  reason: null,
};

