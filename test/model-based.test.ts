/**
 * The circuit breaker against a reference model (docs/testing.md; the queue's is
 * test/model-queue.test.ts): failures, successes, trips, resets, configuration, probes handed out
 * with claims, and time (the breaker domain takes `now`, so the clock is the test's), checked
 * after every step against a state machine written from docs/breakers.md, not from the code.
 *
 * Runs are bounded (numRuns) so the file takes seconds. A failure prints fast-check's seed and
 * path; to replay it, put them in REPLAY (test/helpers/model.ts).
 */
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { breakerTimedWork, configureBreaker, recordFailure, recordSuccess, resetBreaker, tripBreaker } from "../src/runtime/breakers/machine";
import { DEFAULT_CONFIG, type BreakerConfig, type BreakerRow, type BreakerState } from "../src/runtime/breakers/model";
import { breakerGate } from "../src/runtime/breakers/probes";
import { handOut, TIMED_WORK } from "../src/runtime/dispatch";
import { runDue } from "../src/runtime/kernel/timed";
import { insertTask } from "../src/runtime/tasks/queue";
import { NO_DEPENDENCIES } from "../src/runtime/tasks/readiness";
import { settings } from "./helpers/model";
import { freshRuntime, stubOf } from "./helpers/runtime";

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
