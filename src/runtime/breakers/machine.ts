/**
 * The breaker's state machine (docs/breakers.md): transitions, what falls due with time, and the
 * operations that report to it or move it by hand. Every entry into a state resets
 * `success_count` and drops outstanding probes.
 */
import type { TimedWork } from "../kernel/timed";
import { LIMITS } from "../kernel/limits";
import { iso, keepNewest } from "../kernel/rows";
import { enqueueNotification } from "../notify/enqueue";
import {
  BREAKER_LIMITS,
  breakerRow,
  configOf,
  DEFAULT_CONFIG,
  failuresInWindow,
  type BreakerConfig,
  type BreakerRow,
  type BreakerState,
  type BreakerStatus,
  type FailureType,
  type ProbeRow,
  type StateChange,
} from "./model";
import { statusOf, untrackedStatus } from "./views";

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
  keepNewest(sql, { table: "breaker_events", owner: "agent_id" }, row.agent_id, BREAKER_LIMITS.eventsKept);
  // Every way into OPEN passes here (failures, a trip by hand, a failed probe); a trip of a breaker
  // already OPEN only restarts its cooldown and is not an opening.
  if (to === "OPEN" && row.state !== "OPEN") {
    enqueueNotification(
      sql,
      "breaker_opened",
      {
        agent_id: row.agent_id,
        from_state: row.state,
        reason,
        trip_count: next.trip_count,
        cooldown_until: iso(next.cooldown_until)!,
        fallback_agent: next.fallback_agent,
      },
      now,
    );
  }
  return next;
}

/** An OPEN breaker whose cooldown has ended becomes HALF_OPEN. */
function endCooldown(sql: SqlStorage, row: BreakerRow, now: number): BreakerRow {
  if (row.state === "OPEN" && row.cooldown_until !== null && row.cooldown_until <= now) {
    return transition(sql, row, "HALF_OPEN", "cooldown ended", now);
  }
  return row;
}

/**
 * Only an OPEN breaker has a cooldown. One left on another state (no transition leaves it, but
 * the row may come from elsewhere) would keep the alarm due for ever, since nothing else clears it.
 */
function clearStrayCooldown(sql: SqlStorage, row: BreakerRow): BreakerRow {
  if (row.state === "OPEN" || row.cooldown_until === null) return row;
  return sql.exec<BreakerRow>(`UPDATE breakers SET cooldown_until = NULL WHERE agent_id = ? RETURNING *`, row.agent_id).one();
}

/**
 * Applies whatever fell due for one breaker by `now`: the end of its cooldown, then an expired
 * probe. The alarm calls this for every due breaker; writes call it first for the breaker they
 * touch, so a late alarm never makes a write act on a stale state.
 */
export function settle(sql: SqlStorage, row: BreakerRow, now: number): BreakerRow {
  const current = clearStrayCooldown(sql, endCooldown(sql, row, now));
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
  const message = `the probe for task ${expired.task_id} reported neither success nor failure by its deadline, ${iso(expired.expires_at)}`;
  return applyFailure(sql, current, "timeout", message, now);
}

/** Records a failure and moves the breaker if it must (HALF_OPEN re-opens; CLOSED trips at the threshold). */
export function applyFailure(sql: SqlStorage, row: BreakerRow, type: FailureType, message: string, now: number): BreakerRow {
  sql.exec(
    `INSERT INTO breaker_failures (agent_id, failure_type, message, at) VALUES (?, ?, ?, ?)`,
    row.agent_id,
    type,
    message.length > BREAKER_LIMITS.messageKept ? `${message.slice(0, BREAKER_LIMITS.messageKept)}…` : message,
    now,
  );
  // Enough of the newest failures to decide a trip exactly, and to show the recent ones.
  keepNewest(sql, { table: "breaker_failures", owner: "agent_id" }, row.agent_id, Math.max(row.failure_threshold, BREAKER_LIMITS.recent));
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

/** What a success or failure report answers: the move it caused, and whether it tripped or recovered the breaker. */
export type Report<Flag extends "tripped" | "recovered"> = {
  old_state: BreakerState;
  new_state: BreakerState;
  breaker: BreakerStatus;
} & Record<Flag, boolean>;

export function recordFailure(
  sql: SqlStorage,
  agentId: string,
  failure: { failure_type: FailureType; error_message: string },
  now: number,
): Report<"tripped"> {
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
): Report<"recovered"> {
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

// --- time ------------------------------------------------------------------------------------

export const breakerTimedWork: TimedWork = {
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
         UNION SELECT agent_id FROM breaker_probes WHERE expires_at <= ? LIMIT ?`,
        now,
        now,
        LIMITS.expiriesPerRun,
      )
      .toArray();
    for (const { agent_id } of due) {
      const row = breakerRow(sql, agent_id);
      if (row) settle(sql, row, now);
      else sql.exec(`DELETE FROM breaker_probes WHERE agent_id = ?`, agent_id);
    }
  },
};
