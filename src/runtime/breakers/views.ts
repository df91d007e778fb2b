/** What a breaker looks like from outside: its status, and the list of all of them. */
import type { Cursors } from "../kernel/cursor";
import { keysetRows, readPage, scopeOf, viewOf, type KeysetTable, type Page, type View, type Viewed } from "../kernel/page";
import { iso, prefixRange } from "../kernel/rows";
import {
  BREAKER_LIMITS,
  breakerRow,
  configOf,
  DEFAULT_CONFIG,
  failuresInWindow,
  gateOf,
  probesOf,
  type BreakerBrief,
  type BreakerList,
  type BreakerQuery,
  type BreakerRow,
  type BreakerState,
  type BreakerStatus,
  type FailureType,
} from "./model";

export function statusOf(sql: SqlStorage, row: BreakerRow, now: number): BreakerStatus {
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
export function untrackedStatus(agentId: string): BreakerStatus {
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

export function getBreakerStatus(sql: SqlStorage, agentId: string, now: number): BreakerStatus {
  const row = breakerRow(sql, agentId);
  return row ? statusOf(sql, row, now) : untrackedStatus(agentId);
}

/**
 * Breakers by agent_id, a page at a time, with the ids of the OPEN and HALF_OPEN ones (at most
 * `BREAKER_LIMITS.listedIds` of each, and how many there are). In the full view a failure message
 * or transition reason is cut to `BREAKER_LIMITS.listedText` characters, so a list stays small
 * enough for an agent's context; circuit_breaker_status shows them whole.
 */
export function listBreakers<V extends View = "full">(
  sql: SqlStorage,
  cursors: Cursors,
  query: BreakerQuery<V>,
  now: number,
): BreakerList<Viewed<V, BreakerBrief, BreakerStatus>> {
  const ids = (state: BreakerState) =>
    sql
      .exec<{ agent_id: string }>(`SELECT agent_id FROM breakers WHERE state = ? ORDER BY agent_id LIMIT ?`, state, BREAKER_LIMITS.listedIds)
      .toArray()
      .map((r) => r.agent_id);
  const countOf = (state: BreakerState) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM breakers WHERE state = ?`, state).one().n;
  const source: KeysetTable = { table: "breakers", key: "agent_id" };
  const brief = viewOf(query) === "brief";
  // A breaker row is small (no long text); the brief view skips the failure and transition logs.
  const page = readPage(cursors, scopeOf(source), query, (after: string | null, count) =>
    keysetRows<BreakerRow>(sql, source, "*", after, count).map((row) => ({
      key: row.agent_id,
      item: brief ? briefOf(sql, row, now) : listedStatus(sql, row, now),
    })),
  );
  return {
    // The view chose the shape above, so the items are of the view's type.
    ...(page as Page<Viewed<V, BreakerBrief, BreakerStatus>>),
    total_breakers: sql.exec<{ n: number }>(`SELECT count(*) AS n FROM breakers`).one().n,
    open_circuits: ids("OPEN"),
    open_count: countOf("OPEN"),
    half_open_circuits: ids("HALF_OPEN"),
    half_open_count: countOf("HALF_OPEN"),
  };
}

/** Up to `limit` agent ids with a breaker, starting with `prefix`, in order (a range read of the key). */
export function breakerIdsWithPrefix(sql: SqlStorage, prefix: string, limit: number): string[] {
  const [lo, hi] = prefixRange(prefix);
  return sql
    .exec<{ agent_id: string }>(`SELECT agent_id FROM breakers WHERE agent_id >= ? AND agent_id < ? ORDER BY agent_id LIMIT ?`, lo, hi, limit)
    .toArray()
    .map((r) => r.agent_id);
}

/** The status with failure messages and transition reasons cut short. */
function listedStatus(sql: SqlStorage, row: BreakerRow, now: number): BreakerStatus {
  const cut = (text: string) => (text.length > BREAKER_LIMITS.listedText ? `${text.slice(0, BREAKER_LIMITS.listedText)}…` : text);
  const status = statusOf(sql, row, now);
  return {
    ...status,
    recent_failures: status.recent_failures.map((f) => ({ ...f, message: cut(f.message) })),
    recent_transitions: status.recent_transitions.map((t) => ({ ...t, reason: cut(t.reason) })),
  };
}

/** May it execute, and if not, for how long: by the same gate as a hand-out; zeros left out. */
function briefOf(sql: SqlStorage, row: BreakerRow, now: number): BreakerBrief {
  const gate = gateOf(row, probesOf(sql, row.agent_id), now);
  const brief: BreakerBrief = { agent_id: row.agent_id, state: row.state, can_execute: gate.can_execute };
  const failures = failuresInWindow(sql, row, now);
  if (failures > 0) brief.failure_count = failures;
  if (gate.retry_after_seconds > 0) brief.retry_after_seconds = gate.retry_after_seconds;
  return brief;
}
