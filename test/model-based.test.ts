/**
 * Model-based tests (docs/testing.md): random sequences of operations, run against the real Runtime
 * Durable Object and checked after every step against a small reference model written from the
 * contract (SPEC §5, §7), not from the code.
 *
 *   - The queue: create, claim, heartbeat, complete / fail / requeue with and without the lease,
 *     moves by hand, cancel_goal, and time passing (leases moved into the past with SQL, then the
 *     alarm run by runDurableObjectAlarm, or an agent asking for work before it). After each step:
 *     every task as the model says, never two live leases on one task, the ready set and the next
 *     task as the model's, goal status, counts and progress as the model's, and a refused call —
 *     a fenced-out agent's stale lease above all — changed nothing.
 *   - The circuit breaker: failures, successes, trips, resets, configuration, probes handed out
 *     with claims, and time (the breaker domain takes `now`, so the clock is the test's), checked
 *     against a state machine written from docs/breakers.md.
 *
 * Runs are bounded (numRuns) so the file takes seconds. A failure prints fast-check's seed and
 * path; to replay it, put them in REPLAY below.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import { breakerTimedWork, configureBreaker, recordFailure, recordSuccess, resetBreaker, tripBreaker } from "../src/runtime/breakers/machine";
import { DEFAULT_CONFIG, type BreakerConfig, type BreakerRow, type BreakerState } from "../src/runtime/breakers/model";
import { breakerGate } from "../src/runtime/breakers/probes";
import { handOut, TIMED_WORK } from "../src/runtime/dispatch";
import type { Outcome } from "../src/runtime/kernel/errors";
import { runDue } from "../src/runtime/kernel/timed";
import { TASK_STATUSES, TRANSITIONS, type TaskStatus } from "../src/runtime/tasks/model";
import { insertTask } from "../src/runtime/tasks/queue";
import { NO_DEPENDENCIES } from "../src/runtime/tasks/readiness";
import { freshRuntime, stubOf, withSql } from "./helpers/runtime";

/** Set to the `{ seed, path }` a failure printed to replay exactly that run. */
const REPLAY = undefined as { seed: number; path: string } | undefined;

/**
 * Bounded runs; shrinking a failure is cut off after a minute, so the seed and the smallest
 * counterexample found so far are always printed before the test's own timeout.
 */
const settings = <T>(numRuns: number): fc.Parameters<T> =>
  REPLAY ? { seed: REPLAY.seed, path: REPLAY.path, endOnFailure: true } : { numRuns, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true };

const pick = <T>(list: readonly T[], n: number): T | undefined => (list.length === 0 ? undefined : list[n % list.length]);

/** What a call is expected to answer: success, or the error code. */
type Expected = "ok" | "conflict" | "failed_precondition";

function expectOutcome<T>(outcome: Outcome<T>, expected: Expected, what: string): T | undefined {
  if (expected === "ok") {
    expect(outcome, what).toMatchObject({ ok: true });
    return outcome.ok ? outcome.value : undefined;
  }
  expect(outcome, what).toMatchObject({ ok: false, error: { code: expected } });
  return undefined;
}

// --- the queue ---------------------------------------------------------------------------------

interface ModelTask {
  id: number;
  goal: number | null;
  status: TaskStatus;
  priority: number;
  deps: number[];
  attempt: number;
  maxAttempts: number;
  assigned: string | null;
  lease: string | null;
}

/** The queue as the contract describes it: nothing here reads the Runtime's code. */
class QueueModel {
  readonly tasks = new Map<number, ModelTask>();
  readonly goals = new Map<number, { cancelled: boolean }>();
  /** Every lease ever handed out, live or not: agents keep quoting old ones. */
  readonly leases: { task: number; lease: string }[] = [];

  blocked(t: ModelTask): boolean {
    return t.deps.some((d) => this.tasks.get(d)!.status !== "completed");
  }

  ready(goal?: number): ModelTask[] {
    return [...this.tasks.values()]
      .filter((t) => t.status === "pending" && !this.blocked(t) && (goal === undefined || t.goal === goal))
      .sort((a, b) => b.priority - a.priority || a.id - b.id);
  }

  whyNothing(goal?: number): string {
    // A cancelled goal takes no new tasks: nothing will be ready in it again.
    if (goal !== undefined && this.goals.get(goal)?.cancelled) return "goal_cancelled";
    const pending = [...this.tasks.values()].some((t) => t.status === "pending" && (goal === undefined || t.goal === goal));
    return pending ? "all_pending_tasks_blocked" : "no_pending_tasks";
  }

  live(): ModelTask[] {
    return [...this.tasks.values()].filter((t) => t.lease !== null);
  }

  /** A manual or fenced status move: what update_task_status answers, applied when it succeeds. */
  move(t: ModelTask, to: TaskStatus, lease?: string): Expected {
    if (lease !== undefined && t.lease !== lease) return "conflict";
    if (!TRANSITIONS[t.status].includes(to)) return "conflict";
    if ((to === "in_progress" || to === "completed") && this.blocked(t)) return "failed_precondition";
    if (to === "in_progress") t.attempt++;
    if (to === "pending") t.assigned = null;
    t.status = to;
    t.lease = null;
    return "ok";
  }

  /** A lease ran out: back to the queue, or failed on its last attempt. */
  release(t: ModelTask): void {
    t.status = t.attempt >= t.maxAttempts ? "failed" : "pending";
    if (t.status === "pending") t.assigned = null;
    t.lease = null;
  }

  goalView(id: number) {
    const counts = { pending: 0, in_progress: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const t of this.tasks.values()) if (t.goal === id) counts[t.status]++;
    const open = counts.pending + counts.in_progress + counts.failed;
    const total = open + counts.completed;
    const status = this.goals.get(id)!.cancelled ? "cancelled" : counts.completed > 0 && open === 0 ? "completed" : "active";
    return { status, task_counts: counts, progress: total === 0 ? 0 : Math.round((counts.completed / total) * 1000) / 1000 };
  }
}

const AGENTS = ["agent-0", "agent-1", "agent-2"];

const createAction = fc.record({
  kind: fc.constant("create" as const),
  goal: fc.option(fc.nat(), { nil: undefined }),
  priority: fc.integer({ min: 1, max: 10 }),
  // Half of the tasks depend on nothing, so that there is work to claim.
  deps: fc.oneof(fc.constant<number[]>([]), fc.array(fc.nat(), { minLength: 1, maxLength: 3 })),
  maxAttempts: fc.integer({ min: 1, max: 3 }),
});

const queueAction = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("goal" as const) }) },
  { weight: 5, arbitrary: createAction },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("claim" as const), agent: fc.nat(), goal: fc.option(fc.nat(), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("heartbeat" as const), lease: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("finish" as const),
      lease: fc.nat(),
      status: fc.constantFrom<TaskStatus>("completed", "failed", "pending", "cancelled"),
      fenced: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("move" as const), task: fc.nat(), status: fc.constantFrom(...TASK_STATUSES) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cancel_goal" as const), goal: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("time_passes" as const),
      expire: fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
      then: fc.constantFrom("alarm" as const, "claim" as const),
      agent: fc.nat(),
    }),
  },
);
type QueueAction = typeof queueAction extends fc.Arbitrary<infer A> ? A : never;

/** Every row a call could touch, to prove a refused one changed nothing. */
const queueTables = (runtime: RuntimeApi) =>
  withSql(runtime, (sql) => ({
    goals: sql.exec("SELECT * FROM goals ORDER BY id").toArray(),
    tasks: sql.exec("SELECT * FROM tasks ORDER BY id").toArray(),
    deps: sql.exec("SELECT * FROM task_deps ORDER BY task_id, depends_on").toArray(),
    events: sql.exec("SELECT * FROM task_events ORDER BY id").toArray(),
  }));

/** Claims for `agent` as get_next_task does, in the model; returns what the answer must be. */
function modelClaim(m: QueueModel, goal: number | undefined): ModelTask | null {
  return m.ready(goal)[0] ?? null;
}

async function queueStep(runtime: RuntimeApi, m: QueueModel, action: QueueAction): Promise<void> {
  const what = JSON.stringify(action);
  switch (action.kind) {
    case "goal": {
      const goal = expectOutcome(await runtime.createGoal({ name: "g", description: "" }), "ok", what)!;
      m.goals.set(goal.id, { cancelled: false });
      return;
    }
    case "create": {
      const goal = action.goal === undefined ? undefined : pick([...m.goals.keys()], action.goal);
      const ids = [...m.tasks.keys()];
      const deps = [...new Set(action.deps.flatMap((n) => (ids.length ? [ids[n % ids.length]] : [])))];
      const expected: Expected = goal !== undefined && m.goals.get(goal)!.cancelled ? "failed_precondition" : "ok";
      const before = expected === "ok" ? null : await queueTables(runtime);
      const created = expectOutcome(
        await runtime.createTask({ title: "t", goal_id: goal, priority: action.priority, dependencies: deps, max_attempts: action.maxAttempts }),
        expected,
        what,
      );
      if (before) expect(await queueTables(runtime), `${what} changed nothing`).toEqual(before);
      if (created) {
        m.tasks.set(created.id, {
          id: created.id,
          goal: goal ?? null,
          status: "pending",
          priority: action.priority,
          deps,
          attempt: 0,
          maxAttempts: action.maxAttempts,
          assigned: null,
          lease: null,
        });
      }
      return;
    }
    case "claim":
    case "time_passes": {
      const agent = AGENTS[action.agent % AGENTS.length];
      let goal: number | undefined;
      if (action.kind === "claim") {
        goal = action.goal === undefined ? undefined : pick([...m.goals.keys()], action.goal);
      } else {
        const live = m.live();
        const expiring = live.filter((_, i) => action.expire[i % action.expire.length]);
        if (expiring.length === 0) return;
        await withSql(runtime, (sql) =>
          sql.exec(`UPDATE tasks SET lease_expires_at = ? WHERE id IN (SELECT value FROM json_each(?))`, Date.now() - 1, JSON.stringify(expiring.map((t) => t.id))),
        );
        for (const t of expiring) m.release(t);
        if (action.then === "alarm") {
          // The stored alarm is still set for a lease's original end: run it now.
          expect(await runDurableObjectAlarm(stubOf(runtime)), "an alarm was set").toBe(true);
          return;
        }
        // Otherwise an agent asks for work before the alarm has run: it releases them first.
      }
      const expected = modelClaim(m, goal);
      const answer = expectOutcome(await runtime.nextTask({ agent_id: agent, goal_id: goal }), "ok", what)!;
      if (!expected) {
        expect(answer, what).toEqual({ task: null, reason: m.whyNothing(goal) });
        return;
      }
      expect(answer.task?.id, `${what}: the next ready task`).toBe(expected.id);
      expect(answer.lease_id).toMatch(/^ls_/);
      expected.status = "in_progress";
      expected.attempt++;
      expected.assigned = agent;
      expected.lease = answer.lease_id!;
      m.leases.push({ task: expected.id, lease: answer.lease_id! });
      return;
    }
    case "heartbeat": {
      const held = pick(m.leases, action.lease);
      if (!held) return;
      const task = m.tasks.get(held.task)!;
      const expected: Expected = task.lease === held.lease ? "ok" : "conflict";
      const before = expected === "ok" ? null : await queueTables(runtime);
      expectOutcome(await runtime.heartbeatTask({ task_id: held.task, lease_id: held.lease, progress: "working" }), expected, what);
      // A fenced-out agent's heartbeat changes nothing.
      if (before) expect(await queueTables(runtime), `${what} changed nothing`).toEqual(before);
      return;
    }
    case "finish":
    case "move": {
      let taskId: number | undefined;
      let lease: string | undefined;
      if (action.kind === "finish") {
        const held = pick(m.leases, action.lease);
        if (!held) return;
        taskId = held.task;
        lease = action.fenced ? held.lease : undefined;
      } else {
        taskId = pick([...m.tasks.keys()], action.task);
        if (taskId === undefined) return;
      }
      const task = m.tasks.get(taskId)!;
      const before = await queueTables(runtime);
      const shadow = { ...task };
      const expected = m.move(shadow, action.status, lease);
      expectOutcome(await runtime.updateTaskStatus({ task_id: taskId, status: action.status, lease_id: lease }), expected, what);
      if (expected === "ok") Object.assign(task, shadow);
      // A refused move, a stale lease's above all, changes nothing.
      else expect(await queueTables(runtime), `${what} changed nothing`).toEqual(before);
      return;
    }
    case "cancel_goal": {
      const goal = pick([...m.goals.keys()], action.goal);
      if (goal === undefined) return;
      expectOutcome(await runtime.cancelGoal(goal, "changed plans"), "ok", what);
      m.goals.get(goal)!.cancelled = true;
      for (const t of m.tasks.values()) {
        if (t.goal === goal && (t.status === "pending" || t.status === "in_progress" || t.status === "failed")) {
          t.status = "cancelled";
          t.lease = null;
        }
      }
      return;
    }
  }
}

async function checkQueue(runtime: RuntimeApi, m: QueueModel, after: string): Promise<void> {
  const rows = await withSql(runtime, (sql) =>
    sql
      .exec<{ id: number; status: TaskStatus; unmet_deps: number; assigned_to: string | null; attempt: number; lease_id: string | null; lease_expires_at: number | null }>(
        `SELECT id, status, unmet_deps, assigned_to, attempt, lease_id, lease_expires_at FROM tasks ORDER BY id`,
      )
      .toArray(),
  );
  expect(rows.map((r) => r.id), after).toEqual([...m.tasks.keys()].sort((a, b) => a - b));
  for (const row of rows) {
    const t = m.tasks.get(row.id)!;
    expect({ status: row.status, assigned_to: row.assigned_to, attempt: row.attempt, lease_id: row.lease_id }, `${after}: task ${row.id}`).toEqual({
      status: t.status,
      assigned_to: t.assigned,
      attempt: t.attempt,
      lease_id: t.lease,
    });
    // A lease lives on an in-progress task only, with its expiry, and the dependency count is exact.
    expect(row.lease_id === null || row.status === "in_progress", after).toBe(true);
    expect(row.lease_id === null, after).toBe(row.lease_expires_at === null);
    expect(row.unmet_deps, `${after}: unmet_deps of ${row.id}`).toBe(t.deps.filter((d) => m.tasks.get(d)!.status !== "completed").length);
  }
  // Never two live leases on one task, nor one lease on two tasks.
  const leases = rows.flatMap((r) => (r.lease_id ? [r.lease_id] : []));
  expect(new Set(leases).size, after).toBe(leases.length);
  // The ready set and the next task are the model's.
  const ready = rows.filter((r) => r.status === "pending" && r.unmet_deps === 0).map((r) => r.id);
  expect(ready.sort((a, b) => a - b), `${after}: ready set`).toEqual(m.ready().map((t) => t.id).sort((a, b) => a - b));
  const peek = await runtime.nextTask({});
  expect(peek.ok ? peek.value.task?.id : peek.error, `${after}: next task`).toBe(m.ready()[0]?.id);
  // Goals: status, counts and progress are the model's.
  const goals = await runtime.listGoals({ limit: 500 });
  for (const goal of goals.ok ? goals.value.items : []) {
    expect({ status: goal.status, task_counts: goal.task_counts, progress: goal.progress }, `${after}: goal ${goal.id}`).toEqual(m.goalView(goal.id));
  }
  expect(goals.ok && goals.value.items.length, after).toBe(m.goals.size);
}

describe("the queue against its reference model", () => {
  it("keeps tasks, leases, the ready set and goals as the model says through random operations and time", { timeout: 180_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(createAction, { minLength: 2, maxLength: 6 }),
        fc.array(queueAction, { minLength: 10, maxLength: 40, size: "max" }),
        async (creates, rest) => {
          const runtime = freshRuntime("model-queue");
          const m = new QueueModel();
          // A goal and a few tasks first, so that most runs have work to claim.
          const actions: QueueAction[] = [{ kind: "goal" }, ...creates, ...rest];
          for (const [i, action] of actions.entries()) {
            await queueStep(runtime, m, action);
            await checkQueue(runtime, m, `after step ${i} ${JSON.stringify(action)}`);
          }
        },
      ),
      settings(25),
    );
  });
});

// --- the circuit breaker -----------------------------------------------------------------------

interface ModelProbe {
  id: number;
  task: number;
  expiresAt: number;
}

interface ModelBreaker {
  state: BreakerState;
  config: BreakerConfig;
  /** Times of the stored failures, oldest first (the newest max(failure_threshold, 10) are kept). */
  failures: number[];
  failuresSince: number;
  successCount: number;
  totalFailures: number;
  totalSuccesses: number;
  tripCount: number;
  cooldownUntil: number | null;
  probes: ModelProbe[];
}

interface ModelClaim {
  id: number;
  status: "pending" | "in_progress" | "failed";
  attempt: number;
  holder: string | null;
  leaseEnd: number | null;
}

const LEASE_SECONDS = 60;
const BREAKER_AGENTS = ["x", "y"];

/** The breaker state machine of docs/breakers.md, and the claims that carry its probes. */
class BreakerModel {
  readonly breakers = new Map<string, ModelBreaker>();
  readonly tasks: ModelClaim[] = [];
  private probeIds = 0;

  constructor(taskIds: number[]) {
    for (const id of taskIds) this.tasks.push({ id, status: "pending", attempt: 0, holder: null, leaseEnd: null });
  }

  private create(agent: string, now: number): ModelBreaker {
    const b: ModelBreaker = {
      state: "CLOSED",
      config: { ...DEFAULT_CONFIG },
      failures: [],
      failuresSince: now,
      successCount: 0,
      totalFailures: 0,
      totalSuccesses: 0,
      tripCount: 0,
      cooldownUntil: null,
      probes: [],
    };
    this.breakers.set(agent, b);
    return b;
  }

  private enter(b: ModelBreaker, to: BreakerState, now: number): void {
    // Every state entry drops the probes and the success count; OPEN starts a cooldown, CLOSED a fresh window.
    if (to === "OPEN" && b.state !== "OPEN") b.tripCount++;
    b.probes = [];
    b.successCount = 0;
    b.cooldownUntil = to === "OPEN" ? now + b.config.cooldown_seconds * 1000 : null;
    if (to === "CLOSED") b.failuresSince = now;
    b.state = to;
  }

  private endCooldown(b: ModelBreaker, now: number): void {
    if (b.state === "OPEN" && b.cooldownUntil !== null && b.cooldownUntil <= now) this.enter(b, "HALF_OPEN", now);
  }

  /** What fell due: the cooldown's end, then a probe past its deadline (a failure). */
  private settle(b: ModelBreaker, now: number): void {
    this.endCooldown(b, now);
    if (b.state !== "HALF_OPEN") {
      b.probes = [];
      return;
    }
    if (b.probes.some((p) => p.expiresAt <= now)) this.failure(b, now);
  }

  inWindow(b: ModelBreaker, now: number): number {
    return b.failures.filter((at) => at > now - b.config.window_seconds * 1000 && at >= b.failuresSince).length;
  }

  private failure(b: ModelBreaker, now: number): void {
    b.failures.push(now);
    b.failures = b.failures.slice(-Math.max(b.config.failure_threshold, 10));
    b.totalFailures++;
    if (b.state === "HALF_OPEN") this.enter(b, "OPEN", now);
    else if (b.state === "CLOSED" && this.inWindow(b, now) >= b.config.failure_threshold) this.enter(b, "OPEN", now);
  }

  /** A report resolves the oldest outstanding probe first, however late. */
  private forReport(agent: string, now: number): ModelBreaker {
    const b = this.breakers.get(agent);
    if (!b) return this.create(agent, now);
    this.endCooldown(b, now);
    if (b.state === "HALF_OPEN") b.probes.shift();
    this.settle(b, now);
    return b;
  }

  private ensure(agent: string, now: number): ModelBreaker {
    const b = this.breakers.get(agent);
    if (!b) return this.create(agent, now);
    this.settle(b, now);
    return b;
  }

  recordFailure(agent: string, now: number): void {
    this.failure(this.forReport(agent, now), now);
  }

  recordSuccess(agent: string, now: number): void {
    const b = this.forReport(agent, now);
    b.totalSuccesses++;
    b.successCount++;
    if (b.state === "HALF_OPEN" && b.successCount >= b.config.success_threshold) this.enter(b, "CLOSED", now);
  }

  trip(agent: string, now: number): void {
    this.enter(this.ensure(agent, now), "OPEN", now);
  }

  reset(agent: string, now: number): void {
    const b = this.breakers.get(agent);
    if (!b) return;
    this.endCooldown(b, now);
    this.enter(b, "CLOSED", now);
  }

  configure(agent: string, patch: Partial<BreakerConfig>, now: number): void {
    const b = this.ensure(agent, now);
    b.config = { ...b.config, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
  }

  gate(agent: string, now: number): { can_execute: boolean; reason: string | null } {
    const b = this.breakers.get(agent);
    if (!b || b.state === "CLOSED") return { can_execute: true, reason: null };
    if (b.state === "OPEN") return { can_execute: false, reason: "circuit_open" };
    return b.probes.length >= b.config.half_open_max_calls ? { can_execute: false, reason: "circuit_half_open_probes_taken" } : { can_execute: true, reason: null };
  }

  /** Leases that ran out, in hand-out order (one priority here, so by id): requeued or failed, their probes failed. */
  private expireLeases(now: number): void {
    for (const t of this.tasks) {
      if (t.leaseEnd === null || t.leaseEnd > now) continue;
      const holder = t.holder!;
      t.status = t.attempt >= 3 ? "failed" : "pending";
      if (t.status === "pending") t.holder = null;
      t.leaseEnd = null;
      const b = this.breakers.get(holder);
      const probe = b?.probes.find((p) => p.task === t.id);
      if (b && probe) {
        b.probes = b.probes.filter((p) => p !== probe);
        this.failure(b, now);
      }
    }
  }

  /** get_next_task with agent_id: the claimed task and, while HALF_OPEN, its probe deadline. */
  claim(agent: string, now: number): { task: number | null; reason?: string; probe_expires_at?: number } {
    this.expireLeases(now);
    const b = this.breakers.get(agent);
    if (b) this.settle(b, now);
    const gate = this.gate(agent, now);
    if (!gate.can_execute) return { task: null, reason: gate.reason! };
    const t = this.tasks.find((task) => task.status === "pending");
    if (!t) return { task: null, reason: "no_pending_tasks" };
    t.status = "in_progress";
    t.attempt++;
    t.holder = agent;
    t.leaseEnd = now + LEASE_SECONDS * 1000;
    if (b?.state !== "HALF_OPEN") return { task: t.id };
    const expiresAt = Math.max(now + b.config.probe_timeout_seconds * 1000, t.leaseEnd);
    b.probes.push({ id: ++this.probeIds, task: t.id, expiresAt });
    return { task: t.id, probe_expires_at: expiresAt };
  }

  /** The alarm at `now`: due breakers settle, then leases that ran out are released. */
  alarm(now: number): void {
    for (const b of this.breakers.values()) {
      const due = (b.state === "OPEN" && b.cooldownUntil !== null && b.cooldownUntil <= now) || b.probes.some((p) => p.expiresAt <= now);
      if (due) this.settle(b, now);
    }
    this.expireLeases(now);
  }

  nextDue(): number | null {
    const due = [...this.breakers.values()].flatMap((b) => [...(b.cooldownUntil === null ? [] : [b.cooldownUntil]), ...b.probes.map((p) => p.expiresAt)]);
    return due.length ? Math.min(...due) : null;
  }
}

const configPatch = fc.record(
  {
    failure_threshold: fc.integer({ min: 1, max: 6 }),
    window_seconds: fc.integer({ min: 1, max: 120 }),
    cooldown_seconds: fc.integer({ min: 1, max: 120 }),
    half_open_max_calls: fc.integer({ min: 1, max: 3 }),
    success_threshold: fc.integer({ min: 1, max: 3 }),
    probe_timeout_seconds: fc.integer({ min: 1, max: 120 }),
  },
  { requiredKeys: [] },
);

const breakerAction = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("failure" as const), agent: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("success" as const), agent: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("trip" as const), agent: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reset" as const), agent: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("configure" as const), agent: fc.nat(), patch: configPatch }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("claim" as const), agent: fc.nat() }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("time" as const),
      // Around the defaults' boundaries (window 60 s, cooldown 300 s, lease 60 s), and anything up to 7 minutes.
      ms: fc.oneof(fc.constantFrom(1, 999, 1000, 59_999, 60_000, 60_001, 299_999, 300_000, 300_001), fc.integer({ min: 0, max: 420_000 })),
    }),
  },
);

describe("the circuit breaker against its reference model", () => {
  it("moves through CLOSED, OPEN and HALF_OPEN as the model says, with probes, claims and time", { timeout: 180_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(breakerAction, { minLength: 10, maxLength: 60, size: "max" }), async (actions) => {
        const runtime = freshRuntime("model-breaker");
        await runInDurableObject(stubOf(runtime), (_instance, state) => {
          const sql = state.storage.sql;
          const write = <T>(run: () => T): T => state.storage.transactionSync(run);
          let now = Date.parse("2026-01-05T09:00:00.000Z");
          const taskIds = write(() => Array.from({ length: 60 }, () => insertTask(sql, { title: "work" }, NO_DEPENDENCIES, now).id));
          const m = new BreakerModel(taskIds);
          for (const [i, action] of actions.entries()) {
            const after = `after step ${i} ${JSON.stringify(action)}`;
            if (action.kind === "time") {
              now += action.ms;
              write(() => runDue(TIMED_WORK, sql, now));
              m.alarm(now);
            } else {
              const agent = BREAKER_AGENTS[action.agent % BREAKER_AGENTS.length];
              switch (action.kind) {
                case "failure":
                  write(() => recordFailure(sql, agent, { failure_type: "exception", error_message: "boom" }, now));
                  m.recordFailure(agent, now);
                  break;
                case "success":
                  write(() => recordSuccess(sql, agent, now));
                  m.recordSuccess(agent, now);
                  break;
                case "trip":
                  write(() => tripBreaker(sql, agent, "test", now));
                  m.trip(agent, now);
                  break;
                case "reset":
                  write(() => resetBreaker(sql, agent, now));
                  m.reset(agent, now);
                  break;
                case "configure":
                  write(() => configureBreaker(sql, agent, action.patch, now));
                  m.configure(agent, action.patch, now);
                  break;
                case "claim": {
                  const answer = write(() => handOut(sql, { agent_id: agent, lease_seconds: LEASE_SECONDS }, now));
                  const expected = m.claim(agent, now);
                  expect(
                    { task: answer.task?.id ?? null, reason: answer.reason, probe_expires_at: answer.probe_expires_at },
                    after,
                  ).toEqual({
                    task: expected.task,
                    reason: expected.reason,
                    probe_expires_at: expected.probe_expires_at === undefined ? undefined : new Date(expected.probe_expires_at).toISOString(),
                  });
                  break;
                }
              }
            }
            checkBreakers(sql, m, now, after);
          }
        });
      }),
      settings(60),
    );
  });
});

function checkBreakers(sql: SqlStorage, m: BreakerModel, now: number, after: string): void {
  for (const agent of BREAKER_AGENTS) {
    const row = sql.exec<BreakerRow>(`SELECT * FROM breakers WHERE agent_id = ?`, agent).toArray()[0];
    const b = m.breakers.get(agent);
    expect(row === undefined, `${after}: breaker ${agent} exists`).toBe(b === undefined);
    const gate = breakerGate(sql, agent, now);
    expect({ can_execute: gate.can_execute, reason: gate.reason }, `${after}: gate of ${agent}`).toEqual(m.gate(agent, now));
    if (!row || !b) continue;
    const probes = sql.exec<{ task_id: number; expires_at: number }>(`SELECT task_id, expires_at FROM breaker_probes WHERE agent_id = ? ORDER BY id`, agent).toArray();
    const failuresInWindow = sql
      .exec<{ n: number }>(`SELECT count(*) AS n FROM breaker_failures WHERE agent_id = ? AND at > ? AND at >= ?`, agent, now - row.window_seconds * 1000, row.failures_since)
      .one().n;
    expect(
      {
        state: row.state,
        success_count: row.success_count,
        total_failures: row.total_failures,
        total_successes: row.total_successes,
        trip_count: row.trip_count,
        cooldown_until: row.cooldown_until,
        failure_threshold: row.failure_threshold,
        half_open_max_calls: row.half_open_max_calls,
        failures_in_window: failuresInWindow,
        probes: probes.map((p) => [p.task_id, p.expires_at]),
      },
      `${after}: breaker ${agent}`,
    ).toEqual({
      state: b.state,
      success_count: b.successCount,
      total_failures: b.totalFailures,
      total_successes: b.totalSuccesses,
      trip_count: b.tripCount,
      cooldown_until: b.cooldownUntil,
      failure_threshold: b.config.failure_threshold,
      half_open_max_calls: b.config.half_open_max_calls,
      failures_in_window: m.inWindow(b, now),
      probes: b.probes.map((p) => [p.task, p.expiresAt]),
    });
    // Probes exist only while HALF_OPEN; an OPEN breaker never lets work through.
    if (row.state !== "HALF_OPEN") expect(probes, after).toEqual([]);
    if (row.state === "OPEN") expect(gate.can_execute, after).toBe(false);
  }
  // The alarm is derived from exactly the due times the model knows.
  expect(breakerTimedWork.nextDue(sql, 0), `${after}: next due time`).toBe(m.nextDue());
  const tasks = sql.exec<{ id: number; status: string; attempt: number; assigned_to: string | null }>(`SELECT id, status, attempt, assigned_to FROM tasks ORDER BY id`).toArray();
  expect(tasks.map((t) => [t.id, t.status, t.attempt, t.assigned_to]), `${after}: tasks`).toEqual(m.tasks.map((t) => [t.id, t.status, t.attempt, t.holder]));
}
