/**
 * Handing work to an agent through its breaker: the gate (may it execute now?) and the probes
 * that a HALF_OPEN breaker lets through, which live with the lease of the task they came with.
 */
import { applyFailure, settle } from "./machine";
import { breakerRow, CLOSED_GATE, gateOf, probesOf, type Gate } from "./model";

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
export function takeProbe(sql: SqlStorage, agentId: string, taskId: number, now: number, heldUntil: number): number {
  const row = breakerRow(sql, agentId)!;
  const expiresAt = Math.max(now + row.probe_timeout_seconds * 1000, heldUntil);
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
