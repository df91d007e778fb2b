/**
 * What crosses domains: handing work to an agent and what a lease's life means for the agent's
 * circuit breaker. A hand-out checks the goal, releases leases that ran out, asks the agent's
 * breaker (OPEN: nothing; HALF_OPEN: the claim is a probe), then claims the next ready task under
 * a lease. A probe lives as long as its task's lease: heartbeats extend both, and a lease that
 * runs out fails the probe. The task and breaker domains know nothing of each other; this does.
 */
import { breakerTimedWork } from "./breakers/machine";
import type { Gate } from "./breakers/model";
import { abandonProbe, breakerGate, extendProbe, settledGate, takeProbe } from "./breakers/probes";
import { goalStatus } from "./goals/goals";
import { invalid } from "./kernel/errors";
import { LIMITS } from "./kernel/limits";
import { iso } from "./kernel/rows";
import type { TimedWork } from "./kernel/timed";
import type { BreakerLookup } from "./relay/model";
import { scheduleTimedWork } from "./schedules/runs";
import {
  claimTask,
  extendLease,
  heartbeatAnswer,
  nextLeaseExpiry,
  releaseExpiredLeases,
  type Heartbeat,
  type HeartbeatAnswer,
} from "./tasks/leases";
import type { Task } from "./tasks/model";
import { peekReady, whyNothingReady } from "./tasks/queue";
import { toTasks } from "./tasks/model";

export interface NextTaskRequest {
  goal_id?: number;
  agent_id?: string;
  lease_seconds?: number;
}

export interface NextTaskAnswer {
  task: Task | null;
  reason?: string;
  /** Set when the call claimed the task: quote it in heartbeat_task and update_task_status. */
  lease_id?: string;
  lease_expires_at?: string;
  /** When the agent's breaker refused: seconds until it may ask again, and who to route to. */
  retry_after_seconds?: number;
  fallback_agent?: string;
  /** When the claim is a HALF_OPEN probe: report success or failure before this time. */
  probe_expires_at?: string;
}

const GOAL_CANCELLED = "goal_cancelled";

/** Without an agent: the task that would be handed out next. With one: claims it. */
export function handOut(sql: SqlStorage, request: NextTaskRequest, now: number): NextTaskAnswer {
  if (request.lease_seconds !== undefined && request.agent_id === undefined) {
    throw invalid("lease_seconds", "applies to a claim: pass agent_id too");
  }
  // A lease past its expiry is over even when the alarm has not run yet: hand its task out.
  expireLeases(sql, now);
  // A cancelled goal takes no new tasks: nothing will ever be ready in it again.
  if (request.goal_id !== undefined && goalStatus(sql, request.goal_id) === "cancelled") return { task: null, reason: GOAL_CANCELLED };
  const gate = request.agent_id === undefined ? null : settledGate(sql, request.agent_id, now);
  if (gate && !gate.can_execute) {
    return { task: null, reason: gate.reason!, retry_after_seconds: gate.retry_after_seconds, fallback_agent: gate.fallback_agent };
  }
  const ready = peekReady(sql, request.goal_id);
  if (!ready) return { task: null, reason: whyNothingReady(sql, request.goal_id) };
  if (request.agent_id === undefined) return { task: toTasks(sql, [ready])[0] };
  const leaseSeconds = request.lease_seconds ?? LIMITS.leaseDefaultSeconds;
  const task = claimTask(sql, ready.id, request.agent_id, leaseSeconds, now);
  const lease = { lease_id: task.lease_id!, lease_expires_at: task.lease_expires_at! };
  if (gate?.state !== "HALF_OPEN") return { task, ...lease };
  const probeDeadline = takeProbe(sql, request.agent_id, task.id, now, now + leaseSeconds * 1000);
  return { task, ...lease, probe_expires_at: iso(probeDeadline)! };
}

/**
 * Whether a caller waiting for work should go on waiting after this answer: nothing was handed
 * out, and something may still become ready for it (a completion, a release, a new task, its
 * breaker letting it through). Only a cancelled goal is final: it takes no new tasks.
 */
export function nothingYet(answer: NextTaskAnswer): boolean {
  return answer.task === null && answer.reason !== GOAL_CANCELLED;
}

/**
 * Whether a waiting hand-out for `goalId` (or any goal) could now answer anything but "nothing
 * yet": a ready task in scope, an overdue lease to release, or the goal cancelled. Index reads
 * only, so that every write can ask before trying the waiters one by one.
 */
export function handOutMayServe(sql: SqlStorage, goalId: number | undefined, now: number): boolean {
  if (peekReady(sql, goalId) !== null) return true;
  const expiry = nextLeaseExpiry(sql);
  if (expiry !== null && expiry <= now) return true;
  return goalId !== undefined && goalStatus(sql, goalId) === "cancelled";
}

/** Keeps a claimed task's lease alive, and with it the probe the claim may carry. */
export function heartbeat(sql: SqlStorage, request: Heartbeat, now: number): HeartbeatAnswer {
  const row = extendLease(sql, request, now);
  if (row.assigned_to !== null) extendProbe(sql, row.id, row.assigned_to, row.lease_expires_at!);
  return heartbeatAnswer(row);
}

/** Releases a bounded batch of expired leases; a HALF_OPEN agent's probe ends with its lease. */
function expireLeases(sql: SqlStorage, now: number): void {
  for (const released of releaseExpiredLeases(sql, now)) {
    if (released.agent_id !== null) abandonProbe(sql, released.task_id, released.agent_id, now);
  }
}

const leaseExpiry: TimedWork = { nextDue: nextLeaseExpiry, runDue: expireLeases };

/** Everything the Runtime's one alarm is derived from. */
export const TIMED_WORK: readonly TimedWork[] = [breakerTimedWork, leaseExpiry, scheduleTimedWork];

/** The relay's view of breakers: the gate of an agent type, read without changing anything. */
export function relayBreakers(sql: SqlStorage, now: number): BreakerLookup {
  return (agentType) => {
    const { reason: _reason, ...gate }: Gate = breakerGate(sql, agentType, now);
    return gate;
  };
}
