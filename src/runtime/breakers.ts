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
 * At most `half_open_max_calls` probes are outstanding. A report while HALF_OPEN with no probe outstanding is itself a probe, taken and
 * resolved at once (an agent working outside the queue "takes" its probe by reporting).
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
import { iso } from "./rows";
import type { TimedWork } from "./timed";

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

/** SPEC §7 defaults; `probe_timeout_seconds` is ours. */
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
} as const;

export interface Probe {
  task_id: number | null;
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

export interface BreakerList {
  total_breakers: number;
  open_circuits: string[];
  half_open_circuits: string[];
  breakers: BreakerStatus[];
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

interface ProbeRow extends Record<string, SqlStorageValue> {
  id: number;
  task_id: number | null;
  taken_at: number;
  expires_at: number;
}

// --- rows ----------------------------------------------------------------------------------

export function breakerRow(sql: SqlStorage, agentId: string): BreakerRow | null {
  return sql.exec<BreakerRow>(`SELECT * FROM breakers WHERE agent_id = ?`, agentId).toArray()[0] ?? null;
}

/** The agent's breaker, created CLOSED with the defaults if it has none yet (writes only). */
function ensureBreaker(sql: SqlStorage, agentId: string, now: number): BreakerRow {
  const existing = breakerRow(sql, agentId);
  return existing ? settle(sql, existing, now) : createBreaker(sql, agentId, now);
}

/**
 * The breaker a success or failure report applies to. While HALF_OPEN the report resolves the
 * oldest outstanding probe first, even one whose deadline has just passed: a late report is that
 * probe's outcome, not a timeout followed by a second failure.
 */
function breakerForReport(sql: SqlStorage, agentId: string, now: number): BreakerRow {
  const existing = breakerRow(sql, agentId);
  if (!existing) return createBreaker(sql, agentId, now);
  const row = endCooldown(sql, existing, now);
  if (row.state === "HALF_OPEN") {
    sql.exec(`DELETE FROM breaker_probes WHERE id = (SELECT min(id) FROM breaker_probes WHERE agent_id = ?)`, agentId);
  }
  return settle(sql, row, now);
}

function createBreaker(sql: SqlStorage, agentId: string, now: number): BreakerRow {
  const d = DEFAULT_CONFIG;
  return sql
    .exec<BreakerRow>(
      `INSERT INTO breakers (agent_id, state, failure_threshold, window_seconds, cooldown_seconds, half_open_max_calls,
         success_threshold, probe_timeout_seconds, fallback_agent, failures_since, state_changed_at, created_at, updated_at)
       VALUES (?, 'CLOSED', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      agentId,
      d.failure_threshold,
      d.window_seconds,
      d.cooldown_seconds,
      d.half_open_max_calls,
      d.success_threshold,
      d.probe_timeout_seconds,
      d.fallback_agent,
      now,
      now,
      now,
      now,
    )
    .one();
}

const configOf = (row: BreakerRow): BreakerConfig => ({
  failure_threshold: row.failure_threshold,
  window_seconds: row.window_seconds,
  cooldown_seconds: row.cooldown_seconds,
  half_open_max_calls: row.half_open_max_calls,
  success_threshold: row.success_threshold,
  probe_timeout_seconds: row.probe_timeout_seconds,
  fallback_agent: row.fallback_agent,
});

function probesOf(sql: SqlStorage, agentId: string): ProbeRow[] {
  return sql.exec<ProbeRow>(`SELECT id, task_id, taken_at, expires_at FROM breaker_probes WHERE agent_id = ? ORDER BY id`, agentId).toArray();
}

/** Failures that count toward a trip: inside the window and since the breaker last closed. */
function failuresInWindow(sql: SqlStorage, row: BreakerRow, now: number): number {
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

function gateOf(row: BreakerRow, probes: ProbeRow[], now: number): Gate {
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

const CLOSED_GATE: Gate = {
  can_execute: true,
  state: "CLOSED",
  fallback_agent: DEFAULT_CONFIG.fallback_agent,
  retry_after_seconds: 0,
  reason: null,
};

function statusOf(sql: SqlStorage, row: BreakerRow, now: number): BreakerStatus {
  const probes = probesOf(sql, row.agent_id);
  const gate = gateOf(row, probes, now);
  const failures = sql
    .exec<{ failure_type: FailureType; message: string; at: number }>(
      `SELECT failure_type, message, at FROM breaker_failures WHERE agent_id = ? ORDER BY id DESC LIMIT ?`,
      row.agent_id,
      BREAKER_LIMITS.recent,
    )
    .toArray();
  const transitions = sql
    .exec<{ from_state: BreakerState; to_state: BreakerState; reason: string; at: number }>(
      `SELECT from_state, to_state, reason, at FROM breaker_events WHERE agent_id = ? ORDER BY id DESC LIMIT ?`,
      row.agent_id,
      BREAKER_LIMITS.recent,
    )
    .toArray();
  return {
    agent_id: row.agent_id,
    tracked: true,
    state: row.state,
    can_execute: gate.can_execute,
    failure_count: failuresInWindow(sql, row, now),
    success_count: row.success_count,
    total_failures: row.total_failures,
    total_successes: row.total_successes,
    trip_count: row.trip_count,
    last_failure_at: iso(row.last_failure_at),
    last_success_at: iso(row.last_success_at),
    state_changed_at: iso(row.state_changed_at),
    opened_at: iso(row.opened_at),
    cooldown_until: iso(row.cooldown_until),
    half_open_at: iso(row.half_open_at),
    retry_after_seconds: gate.retry_after_seconds,
    probes_in_flight: probes.length,
    probes: probes.map((p) => ({ task_id: p.task_id, taken_at: iso(p.taken_at)!, expires_at: iso(p.expires_at)! })),
    config: configOf(row),
    fallback_agent: row.fallback_agent,
    recent_failures: failures.map((f) => ({ type: f.failure_type, message: f.message, at: iso(f.at)! })),
    recent_transitions: transitions.map((t) => ({ from: t.from_state, to: t.to_state, reason: t.reason, at: iso(t.at)! })),
  };
}

/** An agent without a breaker: CLOSED under the defaults. Shown, never stored. */
function untrackedStatus(agentId: string): BreakerStatus {
  return {
    agent_id: agentId,
    tracked: false,
    state: "CLOSED",
    can_execute: true,
    failure_count: 0,
    success_count: 0,
    total_failures: 0,
    total_successes: 0,
    trip_count: 0,
    last_failure_at: null,
    last_success_at: null,
    state_changed_at: null,
    opened_at: null,
    cooldown_until: null,
    half_open_at: null,
    retry_after_seconds: 0,
    probes_in_flight: 0,
    probes: [],
    config: { ...DEFAULT_CONFIG },
    fallback_agent: DEFAULT_CONFIG.fallback_agent,
    recent_failures: [],
    recent_transitions: [],
  };
}

// --- transitions ---------------------------------------------------------------------------

/**
 * Moves a breaker to `to`, logs it, and returns the new row. Every state entry resets
 * `success_count` and drops outstanding probes; OPEN starts a fresh cooldown (a trip while
 * already OPEN restarts it); CLOSED starts a fresh failure window.
 */
function transition(sql: SqlStorage, row: BreakerRow, to: BreakerState, reason: string, now: number): BreakerRow {
  sql.exec(`DELETE FROM breaker_probes WHERE agent_id = ?`, row.agent_id);
  const next = sql
    .exec<BreakerRow>(
      `UPDATE breakers SET state = ?, success_count = 0, state_changed_at = ?, updated_at = ?,
         cooldown_until = ?, opened_at = ?, half_open_at = ?, trip_count = ?, failures_since = ?
       WHERE agent_id = ? RETURNING *`,
      to,
      now,
      now,
      to === "OPEN" ? now + row.cooldown_seconds * 1000 : null,
      to === "OPEN" ? now : row.opened_at,
      to === "HALF_OPEN" ? now : row.half_open_at,
      to === "OPEN" && row.state !== "OPEN" ? row.trip_count + 1 : row.trip_count,
      to === "CLOSED" ? now : row.failures_since,
      row.agent_id,
    )
    .one();
  sql.exec(
    `INSERT INTO breaker_events (agent_id, from_state, to_state, reason, at) VALUES (?, ?, ?, ?, ?)`,
    row.agent_id,
    row.state,
    to,
    reason,
    now,
  );
  keepNewest(sql, "breaker_events", row.agent_id, BREAKER_LIMITS.eventsKept);
  return next;
}

/** Deletes all but the newest `keep` rows of one breaker in a per-breaker log table. */
function keepNewest(sql: SqlStorage, table: "breaker_events" | "breaker_failures", agentId: string, keep: number): void {
  sql.exec(
    `DELETE FROM ${table} WHERE agent_id = ? AND id < (
       SELECT min(id) FROM (SELECT id FROM ${table} WHERE agent_id = ? ORDER BY id DESC LIMIT ?))`,
    agentId,
    agentId,
    keep,
  );
}

/** An OPEN breaker whose cooldown has ended becomes HALF_OPEN. */
function endCooldown(sql: SqlStorage, row: BreakerRow, now: number): BreakerRow {
  if (row.state === "OPEN" && row.cooldown_until !== null && row.cooldown_until <= now) {
    return transition(sql, row, "HALF_OPEN", "cooldown ended", now);
  }
  return row;
}

/**
 * Applies whatever fell due for one breaker by `now`: the end of its cooldown, then an expired
 * probe. The alarm calls this for every due breaker; writes call it first for the breaker they
 * touch, so a late alarm never makes a write act on a stale state.
 */
function settle(sql: SqlStorage, row: BreakerRow, now: number): BreakerRow {
  const current = endCooldown(sql, row, now);
  if (current.state !== "HALF_OPEN") {
    // Probes only exist while HALF_OPEN (every transition drops them); never leave one due.
    sql.exec(`DELETE FROM breaker_probes WHERE agent_id = ?`, current.agent_id);
    return current;
  }
  const expired = sql
    .exec<ProbeRow>(
      `SELECT id, task_id, taken_at, expires_at FROM breaker_probes WHERE agent_id = ? AND expires_at <= ? ORDER BY expires_at LIMIT 1`,
      current.agent_id,
      now,
    )
    .toArray()[0];
  if (!expired) return current;
  const what = expired.task_id === null ? "a probe" : `the probe for task ${expired.task_id}`;
  const message = `${what} reported neither success nor failure by its deadline, ${iso(expired.expires_at)}`;
  return applyFailure(sql, current, "timeout", message, now);
}

/** Records a failure and moves the breaker if it must (HALF_OPEN re-opens; CLOSED trips at the threshold). */
function applyFailure(sql: SqlStorage, row: BreakerRow, type: FailureType, message: string, now: number): BreakerRow {
  sql.exec(
    `INSERT INTO breaker_failures (agent_id, failure_type, message, at) VALUES (?, ?, ?, ?)`,
    row.agent_id,
    type,
    message.length > BREAKER_LIMITS.messageKept ? `${message.slice(0, BREAKER_LIMITS.messageKept)}…` : message,
    now,
  );
  // Enough of the newest failures to decide a trip exactly, and to show the recent ones.
  keepNewest(sql, "breaker_failures", row.agent_id, Math.max(row.failure_threshold, BREAKER_LIMITS.recent));
  const counted = sql
    .exec<BreakerRow>(
      `UPDATE breakers SET total_failures = total_failures + 1, last_failure_at = ?, updated_at = ? WHERE agent_id = ? RETURNING *`,
      now,
      now,
      row.agent_id,
    )
    .one();
  if (counted.state === "HALF_OPEN") return transition(sql, counted, "OPEN", `probe failed (${type})`, now);
  if (counted.state === "CLOSED") {
    const inWindow = failuresInWindow(sql, counted, now);
    if (inWindow >= counted.failure_threshold) {
      return transition(sql, counted, "OPEN", `${inWindow} failures within ${counted.window_seconds} s (last: ${type})`, now);
    }
  }
  // OPEN: the failure is counted, the cooldown is not extended.
  return counted;
}

// --- operations ----------------------------------------------------------------------------

export function getBreakerStatus(sql: SqlStorage, agentId: string, now: number): BreakerStatus {
  const row = breakerRow(sql, agentId);
  return row ? statusOf(sql, row, now) : untrackedStatus(agentId);
}

/**
 * Every breaker's id by state, and the first `limit` breakers' status by agent_id. In the list a
 * failure message or transition reason is cut to `BREAKER_LIMITS.listedText` characters, so a
 * list stays small enough for an agent's context; circuit_breaker_status shows them whole.
 */
export function listBreakers(sql: SqlStorage, limit: number, now: number): BreakerList {
  const ids = (state: BreakerState) =>
    sql.exec<{ agent_id: string }>(`SELECT agent_id FROM breakers WHERE state = ? ORDER BY agent_id`, state).toArray().map((r) => r.agent_id);
  const rows = sql.exec<BreakerRow>(`SELECT * FROM breakers ORDER BY agent_id LIMIT ?`, limit).toArray();
  const cut = (text: string) => (text.length > BREAKER_LIMITS.listedText ? `${text.slice(0, BREAKER_LIMITS.listedText)}…` : text);
  return {
    total_breakers: sql.exec<{ n: number }>(`SELECT count(*) AS n FROM breakers`).one().n,
    open_circuits: ids("OPEN"),
    half_open_circuits: ids("HALF_OPEN"),
    breakers: rows.map((row) => {
      const status = statusOf(sql, row, now);
      return {
        ...status,
        recent_failures: status.recent_failures.map((f) => ({ ...f, message: cut(f.message) })),
        recent_transitions: status.recent_transitions.map((t) => ({ ...t, reason: cut(t.reason) })),
      };
    }),
  };
}

export function recordFailure(
  sql: SqlStorage,
  agentId: string,
  failure: { failure_type: FailureType; error_message: string },
  now: number,
): { old_state: BreakerState; new_state: BreakerState; tripped: boolean; breaker: BreakerStatus } {
  const before = breakerForReport(sql, agentId, now);
  const row = applyFailure(sql, before, failure.failure_type, failure.error_message, now);
  return {
    old_state: before.state,
    new_state: row.state,
    tripped: row.state === "OPEN" && before.state !== "OPEN",
    breaker: statusOf(sql, row, now),
  };
}

export function recordSuccess(
  sql: SqlStorage,
  agentId: string,
  now: number,
): { old_state: BreakerState; new_state: BreakerState; recovered: boolean; breaker: BreakerStatus } {
  const before = breakerForReport(sql, agentId, now);
  let row = sql
    .exec<BreakerRow>(
      `UPDATE breakers SET total_successes = total_successes + 1, success_count = success_count + 1,
         last_success_at = ?, updated_at = ? WHERE agent_id = ? RETURNING *`,
      now,
      now,
      agentId,
    )
    .one();
  if (row.state === "HALF_OPEN" && row.success_count >= row.success_threshold) {
    row = transition(sql, row, "CLOSED", `${row.success_count} successful probes`, now);
  }
  return {
    old_state: before.state,
    new_state: row.state,
    recovered: before.state !== "CLOSED" && row.state === "CLOSED",
    breaker: statusOf(sql, row, now),
  };
}

/** Opens the breaker now for a full cooldown (restarting it when already OPEN). */
export function tripBreaker(sql: SqlStorage, agentId: string, reason: string | undefined, now: number): StateChange {
  const before = ensureBreaker(sql, agentId, now);
  const row = transition(sql, before, "OPEN", reason ? `manual trip: ${reason}` : "manual trip", now);
  return { agent_id: agentId, old_state: before.state, new_state: row.state, changed: before.state !== row.state, breaker: statusOf(sql, row, now) };
}

/** Closes the breaker with a fresh failure window; history and totals are kept. No-op without one. */
export function resetBreaker(sql: SqlStorage, agentId: string, now: number): StateChange {
  const existing = breakerRow(sql, agentId);
  if (!existing) return { agent_id: agentId, old_state: "CLOSED", new_state: "CLOSED", changed: false, breaker: untrackedStatus(agentId) };
  // Closing drops any probe, so an overdue one is not counted as a failure first.
  const before = endCooldown(sql, existing, now);
  const row = transition(sql, before, "CLOSED", "manual reset", now);
  return { agent_id: agentId, old_state: before.state, new_state: "CLOSED", changed: before.state !== "CLOSED", breaker: statusOf(sql, row, now) };
}

/**
 * Changes only the given settings. They apply from the next event: a running cooldown keeps its
 * end, a running probe its deadline.
 */
export function configureBreaker(sql: SqlStorage, agentId: string, patch: Partial<BreakerConfig>, now: number): BreakerConfig {
  const row = ensureBreaker(sql, agentId, now);
  const next = { ...configOf(row), ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
  const updated = sql
    .exec<BreakerRow>(
      `UPDATE breakers SET failure_threshold = ?, window_seconds = ?, cooldown_seconds = ?, half_open_max_calls = ?,
         success_threshold = ?, probe_timeout_seconds = ?, fallback_agent = ?, updated_at = ?
       WHERE agent_id = ? RETURNING *`,
      next.failure_threshold,
      next.window_seconds,
      next.cooldown_seconds,
      next.half_open_max_calls,
      next.success_threshold,
      next.probe_timeout_seconds,
      next.fallback_agent,
      now,
      agentId,
    )
    .one();
  return configOf(updated);
}

// --- hand-out --------------------------------------------------------------------------------

/**
 * May work be handed to `agentId` now? A read: it creates nothing and changes nothing (an agent
 * without a breaker is CLOSED). For the relay, which names the fallback agent on a baton whose
 * agent type is not allowed to execute.
 */
export function breakerGate(sql: SqlStorage, agentId: string, now: number): Gate {
  const row = breakerRow(sql, agentId);
  return row ? gateOf(row, probesOf(sql, agentId), now) : CLOSED_GATE;
}

/** `breakerGate` inside a write: first applies what fell due for this breaker. */
export function settledGate(sql: SqlStorage, agentId: string, now: number): Gate {
  const row = breakerRow(sql, agentId);
  if (!row) return CLOSED_GATE;
  const settled = settle(sql, row, now);
  return gateOf(settled, probesOf(sql, agentId), now);
}

/**
 * Records that a task handed to a HALF_OPEN agent is a probe; returns its deadline (ms). A probe
 * handed out with a claim lives at least as long as the claim's lease (`heldUntil`), and
 * heartbeats extend both (`extendProbe`): an agent that is visibly working is not timed out.
 */
export function takeProbe(sql: SqlStorage, agentId: string, taskId: number | null, now: number, heldUntil: number | null = null): number {
  const row = breakerRow(sql, agentId)!;
  const expiresAt = Math.max(now + row.probe_timeout_seconds * 1000, heldUntil ?? 0);
  sql.exec(`INSERT INTO breaker_probes (agent_id, task_id, taken_at, expires_at) VALUES (?, ?, ?, ?)`, agentId, taskId, now, expiresAt);
  return expiresAt;
}

/** The probe of a task whose lease a heartbeat just extended lives on until `until`. */
export function extendProbe(sql: SqlStorage, taskId: number, agentId: string, until: number): void {
  sql.exec(`UPDATE breaker_probes SET expires_at = max(expires_at, ?) WHERE task_id = ? AND agent_id = ?`, until, taskId, agentId);
}

/**
 * The lease of a probe's task ran out: the agent went silent, so the probe has failed. Counted at
 * once, which re-opens the breaker, instead of holding a probe slot until the probe's deadline.
 */
export function abandonProbe(sql: SqlStorage, taskId: number, agentId: string, now: number): void {
  const probe = sql
    .exec<{ id: number }>(`SELECT id FROM breaker_probes WHERE task_id = ? AND agent_id = ? ORDER BY id LIMIT 1`, taskId, agentId)
    .toArray()[0];
  const row = probe ? breakerRow(sql, agentId) : null;
  if (!probe || !row) return;
  sql.exec(`DELETE FROM breaker_probes WHERE id = ?`, probe.id);
  applyFailure(sql, row, "timeout", `the probe for task ${taskId} was abandoned: its lease ran out without a report`, now);
}

// --- time ------------------------------------------------------------------------------------

export const breakerTimedWork: TimedWork = {
  name: "breakers",
  nextDue(sql) {
    return sql
      .exec<{ due: number | null }>(
        `SELECT min(due) AS due FROM (
           SELECT min(cooldown_until) AS due FROM breakers WHERE cooldown_until IS NOT NULL
           UNION ALL SELECT min(expires_at) FROM breaker_probes)`,
      )
      .one().due;
  },
  runDue(sql, now) {
    const due = sql
      .exec<{ agent_id: string }>(
        `SELECT agent_id FROM breakers WHERE cooldown_until <= ?
         UNION SELECT agent_id FROM breaker_probes WHERE expires_at <= ?`,
        now,
        now,
      )
      .toArray();
    for (const { agent_id } of due) {
      const row = breakerRow(sql, agent_id);
      if (row) settle(sql, row, now);
      else sql.exec(`DELETE FROM breaker_probes WHERE agent_id = ?`, agent_id);
    }
  },
};
