/**
 * What crosses domains: handing work to an agent and what a lease's life means for the agent's
 * circuit breaker. A hand-out checks the goal, settles the queue's due work (leases that ran out,
 * tasks whose not_before came, tasks to skip), asks the agent's breaker (OPEN: nothing;
 * HALF_OPEN: the claim is a probe), then claims the next ready task the agent may take (its roles)
 * under a lease, with the inputs it needs. A probe lives as long as its task's lease: heartbeats
 * extend both, and a lease that runs out fails the probe. The task and breaker domains know
 * nothing of each other; this does.
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
import { goalContext, inputsOf, type GoalContext, type TaskInput } from "./tasks/inputs";
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
import { OWNER_ROLE, taskRow, toTasks, type Task } from "./tasks/model";
import { nextDeferral, releaseDeferred } from "./tasks/readiness";
import { peekReady, scopeOf, whyNothingReady, type WorkScope } from "./tasks/ready";
import { anyDoomed, skipDoomed } from "./tasks/skip";

export interface NextTaskRequest {
  goal_id?: number;
  agent_id?: string;
  lease_seconds?: number;
  /** The roles the caller takes besides tasks without a role (docs/tasks.md, "Roles"). */
  roles?: string[];
}

export interface NextTaskAnswer {
  task: Task | null;
  reason?: string;
  /** Set when the call claimed the task: quote it in heartbeat_task and update_task_status. */
  lease_id?: string;
  lease_expires_at?: string;
  /** With a claim: the task's goal and its dependencies' outcomes (tasks/inputs.ts). */
  goal?: GoalContext;
  inputs?: TaskInput[];
  /** When the agent's breaker refused: seconds until it may ask again, and who to route to. */
  retry_after_seconds?: number;
  fallback_agent?: string;
  /** When the claim is a HALF_OPEN probe: report success or failure before this time. */
  probe_expires_at?: string;
  /** With no_task_for_roles: ready tasks of the roles the caller did not name. */
  ready_by_role?: Record<string, number>;
  /** When nothing is ready: when a task the caller may take becomes ready by time alone. */
  next_ready_at?: string;
}

const GOAL_CANCELLED = "goal_cancelled";

/** The roles a caller names, checked: the owner's decisions go to no agent. */
export function callerScope(request: Pick<NextTaskRequest, "goal_id" | "roles">): WorkScope {
  if (request.roles?.includes(OWNER_ROLE)) {
    throw invalid("roles", `"${OWNER_ROLE}" tasks are the owner's decisions, made on the dashboard; no agent takes them`);
  }
  return scopeOf(request.goal_id, request.roles);
}

/** Without an agent: the task that would be handed out next. With one: claims it. */
export function handOut(sql: SqlStorage, request: NextTaskRequest, now: number): NextTaskAnswer {
  if (request.lease_seconds !== undefined && request.agent_id === undefined) {
    throw invalid("lease_seconds", "applies to a claim: pass agent_id too");
  }
  const scope = callerScope(request);
  // What fell due is due even when the alarm has not run yet: a lease past its expiry is over, a
  // task whose time came is ready, a task that can never run is skipped. Asking first costs three
  // index probes; settling when nothing is due would cost more than the hand-out itself.
  if (queueDue(sql, now)) settleDue(sql, now);
  // A cancelled goal takes no new tasks: nothing will ever be ready in it again.
  if (request.goal_id !== undefined && goalStatus(sql, request.goal_id) === "cancelled") return { task: null, reason: GOAL_CANCELLED };
  const gate = request.agent_id === undefined ? null : settledGate(sql, request.agent_id, now);
  if (gate && !gate.can_execute) {
    return { task: null, reason: gate.reason!, retry_after_seconds: gate.retry_after_seconds, fallback_agent: gate.fallback_agent };
  }
  const ready = peekReady(sql, scope);
  if (!ready) {
    const why = whyNothingReady(sql, scope);
    return {
      task: null,
      reason: why.reason,
      ...(why.ready_by_role ? { ready_by_role: why.ready_by_role } : {}),
      ...(why.next_ready_at === undefined ? {} : { next_ready_at: iso(why.next_ready_at)! }),
    };
  }
  if (request.agent_id === undefined) return { task: toTasks(sql, [taskRow(sql, ready.id)])[0] };
  const leaseSeconds = request.lease_seconds ?? LIMITS.leaseDefaultSeconds;
  const task = claimTask(sql, ready.id, request.agent_id, leaseSeconds, now);
  const goal = goalContext(sql, task.goal_id);
  const inputs = inputsOf(sql, task.id);
  const claim = {
    task,
    lease_id: task.lease_id!,
    lease_expires_at: task.lease_expires_at!,
    ...(goal ? { goal } : {}),
    ...(inputs.length ? { inputs } : {}),
  };
  if (gate?.state !== "HALF_OPEN") return claim;
  const probeDeadline = takeProbe(sql, request.agent_id, task.id, now, now + leaseSeconds * 1000);
  return { ...claim, probe_expires_at: iso(probeDeadline)! };
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
 * Whether a waiting hand-out for `scope` could now answer anything but "nothing yet": a ready
 * task it may take, or the goal cancelled. Index reads only, so that every write can ask before
 * trying the waiters one by one; due work is settled once before they are asked (`queueDue`).
 */
export function handOutMayServe(sql: SqlStorage, scope: WorkScope): boolean {
  if (peekReady(sql, scope) !== null) return true;
  return scope.goal_id !== undefined && goalStatus(sql, scope.goal_id) === "cancelled";
}

/** Whether the queue has due work to settle now (a lease ran out, a not_before came, a skip waits). */
export function queueDue(sql: SqlStorage, now: number): boolean {
  const due = queueDueAt(sql, now);
  return due !== null && due <= now;
}

/** Keeps a claimed task's lease alive, and with it the probe the claim may carry. */
export function heartbeat(sql: SqlStorage, request: Heartbeat, now: number): HeartbeatAnswer {
  const row = extendLease(sql, request, now);
  if (row.assigned_to !== null) extendProbe(sql, row.id, row.assigned_to, row.lease_expires_at!);
  return heartbeatAnswer(row);
}

/**
 * The queue's due work, in bounded batches: leases that ran out (a HALF_OPEN agent's probe ends
 * with its lease), tasks whose not_before came, tasks that can never run. True when it did any.
 */
export function settleDue(sql: SqlStorage, now: number): boolean {
  let any = false;
  for (const released of releaseExpiredLeases(sql, now)) {
    any = true;
    if (released.agent_id !== null) abandonProbe(sql, released.task_id, released.agent_id, now);
  }
  if (releaseDeferred(sql, now, LIMITS.expiriesPerRun).length > 0) any = true;
  if (skipDoomed(sql, now, LIMITS.expiriesPerRun) > 0) any = true;
  return any;
}

/** When the queue next has due work: the earliest lease expiry or not_before, or now for skips. */
function queueDueAt(sql: SqlStorage, now: number): number | null {
  const times = [nextLeaseExpiry(sql), nextDeferral(sql), anyDoomed(sql) ? now : null].filter((t): t is number => t !== null);
  return times.length ? Math.min(...times) : null;
}

const queueWork: TimedWork = { nextDue: queueDueAt, runDue: (sql, now) => void settleDue(sql, now) };

/** Everything the Runtime's one alarm is derived from. */
export const TIMED_WORK: readonly TimedWork[] = [breakerTimedWork, queueWork, scheduleTimedWork];

/** The relay's view of breakers: the gate of an agent type, read without changing anything. */
export function relayBreakers(sql: SqlStorage, now: number): BreakerLookup {
  return (agentType) => {
    const { reason: _reason, ...gate }: Gate = breakerGate(sql, agentType, now);
    return gate;
  };
}
