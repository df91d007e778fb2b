/**
 * The queue against a reference model (docs/testing.md): random sequences of operations, run
 * against the real Runtime Durable Object through its RPC methods, and checked after every step
 * against a small model written from the contract (SPEC §5, §12–§14; docs/tasks.md), not from
 * the code.
 *
 * Operations: goals; tasks with priorities, roles (the owner's among them), dependencies under
 * the four rules, max_attempts, retry policies and not_before; plans appended to goals; claims
 * naming roles (and the owner's, refused); heartbeats; finishing with and without the lease
 * (completed, failed — retried or parked —, back to pending, cancelled, not retryable); moves by
 * hand; edits of dependencies, rules, priorities, roles and not_before (update_task, the second
 * writer of the dependency counters); the owner's decisions; cancel_goal; and time passing —
 * leases and not_before moved into the past with SQL, then the alarm or an agent asking first.
 *
 * After each step: every task's status, holder, attempt, lease, role and not_before; the
 * dependency counters and the stored judgement; never two live leases; the ready set; the next
 * task for callers of several role sets; every goal's status, counts and progress. At each claim:
 * the task handed out is the model's, of a role the caller named (or none), never one waiting
 * to be skipped, never one held by another. Every refused call changes nothing.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import type { NextTaskAnswer } from "../src/runtime/dispatch";
import type { ErrorCode, Outcome } from "../src/runtime/kernel/errors";
import type { Runtime } from "../src/runtime/runtime";
import { RUN_WHEN, TRANSITIONS, type RunWhen, type TaskStatus } from "../src/runtime/tasks/model";
import { expectOutcome, pick, settings, type Expected } from "./helpers/model";
import { freshRuntime, stubOf, withSql } from "./helpers/runtime";

const ROLES = ["coder", "reviewer"] as const;
const OWNER = "owner";
/** Who a task is for: anyone, an agent role, or the owner. */
const TASK_ROLES: (string | null)[] = [null, null, ...ROLES, OWNER];
/** The role sets callers name. */
const CALLER_ROLES: string[][] = [[], ["coder"], ["reviewer"], ["coder", "reviewer"]];
const AGENTS = ["agent-0", "agent-1", "agent-2"];
/** Back-offs long enough that real time never reaches them during a run; time moves by SQL. */
const BACKOFFS: (number | null)[] = [null, null, 0, 600];
const CAPS: (number | undefined)[] = [undefined, 60, 7200];
const FAR = 3_600_000;

interface ModelTask {
  id: number;
  goal: number | null;
  status: TaskStatus;
  priority: number;
  role: string | null;
  rule: RunWhen;
  deps: number[];
  attempt: number;
  maxAttempts: number;
  assigned: string | null;
  lease: string | null;
  notBefore: number | null;
  backoff: number | null;
  cap: number | null;
}

interface Scope {
  goal?: number;
  roles: string[];
}

/** The queue as the contract describes it: nothing here reads the Runtime's code. */
class QueueModel {
  readonly tasks = new Map<number, ModelTask>();
  readonly goals = new Map<number, { cancelled: boolean }>();
  /** Every lease ever handed out, live or not: agents keep quoting old ones. */
  readonly leases: { task: number; lease: string }[] = [];

  counts(t: ModelTask) {
    const deps = t.deps.map((d) => this.tasks.get(d)!.status);
    return {
      n: deps.length,
      c: deps.filter((s) => s === "completed").length,
      f: deps.filter((s) => s === "failed").length,
      x: deps.filter((s) => s === "cancelled").length,
    };
  }

  /** docs/tasks.md, "When a task may run". */
  holds(t: ModelTask): boolean {
    const { n, c, f, x } = this.counts(t);
    switch (t.rule) {
      case "all_completed":
        return c === n;
      case "any_completed":
        return c >= 1;
      case "any_failed":
        return f >= 1;
      case "all_finished":
        return c + f + x === n;
    }
  }

  /** The rule can never hold any more: completions and cancellations are final, failures are not. */
  never(t: ModelTask): boolean {
    const { n, c, x } = this.counts(t);
    switch (t.rule) {
      case "all_completed":
        return x > 0;
      case "any_completed":
        return x === n;
      case "any_failed":
        return c + x === n;
      case "all_finished":
        return false;
    }
  }

  due(t: ModelTask, now: number): boolean {
    return t.notBefore === null || t.notBefore <= now;
  }

  /** Pending, its rule holds, its time has come (the owner's included). */
  runnable(t: ModelTask, now: number): boolean {
    return t.status === "pending" && this.holds(t) && this.due(t, now);
  }

  mayTake(t: ModelTask, scope: Scope): boolean {
    return (t.role === null || scope.roles.includes(t.role)) && (scope.goal === undefined || t.goal === scope.goal);
  }

  ready(scope: Scope, now: number): ModelTask[] {
    return [...this.tasks.values()]
      .filter((t) => this.runnable(t, now) && this.mayTake(t, scope))
      .sort((a, b) => b.priority - a.priority || a.id - b.id);
  }

  whyNothing(scope: Scope, now: number): Partial<NextTaskAnswer> {
    if (scope.goal !== undefined && this.goals.get(scope.goal)?.cancelled) return { task: null, reason: "goal_cancelled" };
    const inGoal = (t: ModelTask) => scope.goal === undefined || t.goal === scope.goal;
    const elsewhere: Record<string, number> = {};
    for (const t of this.tasks.values()) {
      if (this.runnable(t, now) && inGoal(t) && t.role !== null && !scope.roles.includes(t.role)) elsewhere[t.role] = (elsewhere[t.role] ?? 0) + 1;
    }
    const timed = [...this.tasks.values()]
      .filter((t) => t.status === "pending" && this.mayTake(t, scope) && this.holds(t) && !this.due(t, now))
      .map((t) => t.notBefore!);
    const next = timed.length ? { next_ready_at: new Date(Math.min(...timed)).toISOString() } : {};
    if (Object.keys(elsewhere).length) return { task: null, reason: "no_task_for_roles", ready_by_role: elsewhere, ...next };
    const pending = [...this.tasks.values()].some((t) => t.status === "pending" && this.mayTake(t, scope));
    return { task: null, reason: pending ? "all_pending_tasks_blocked" : "no_pending_tasks", ...next };
  }

  live(): ModelTask[] {
    return [...this.tasks.values()].filter((t) => t.lease !== null);
  }

  /** Skipping: every pending task whose rule can never hold is cancelled, and so on down the graph. */
  skip(): void {
    for (let again = true; again; ) {
      again = false;
      for (const t of this.tasks.values()) {
        if (t.status === "pending" && this.never(t)) {
          t.status = "cancelled";
          again = true;
        }
      }
    }
  }

  /** An owner task that does not say yet: a dependent's dependencies and rule are locked to it. */
  gated(t: ModelTask): boolean {
    return t.deps.some((d) => {
      const dep = this.tasks.get(d)!;
      return dep.role === OWNER && (dep.status === "pending" || dep.status === "in_progress" || dep.status === "failed");
    });
  }

  /** Whether `from` waits, directly or not, for `to`. */
  reaches(from: number, to: number, seen = new Set<number>()): boolean {
    if (from === to) return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return this.tasks.get(from)!.deps.some((d) => this.reaches(d, to, seen));
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

// --- actions -----------------------------------------------------------------------------------

const taskShape = {
  priority: fc.integer({ min: 1, max: 10 }),
  role: fc.nat(),
  rule: fc.constantFrom(...RUN_WHEN),
  // Half of the tasks depend on nothing, so that there is work to claim.
  deps: fc.oneof(fc.constant<number[]>([]), fc.array(fc.nat(), { minLength: 1, maxLength: 3 })),
};

const createAction = fc.record({
  kind: fc.constant("create" as const),
  goal: fc.option(fc.nat(), { nil: undefined }),
  ...taskShape,
  maxAttempts: fc.integer({ min: 1, max: 3 }),
  backoff: fc.nat(),
  cap: fc.nat(),
  later: fc.boolean(),
});

const queueAction = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("goal" as const) }) },
  { weight: 6, arbitrary: createAction },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("plan" as const),
      goal: fc.nat(),
      tasks: fc.array(fc.record({ ...taskShape, deps: fc.array(fc.nat(), { maxLength: 2 }) }), { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("claim" as const),
      agent: fc.nat(),
      roles: fc.nat(),
      goal: fc.option(fc.nat(), { nil: undefined }),
      owner: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("heartbeat" as const), lease: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("finish" as const),
      lease: fc.nat(),
      status: fc.constantFrom<TaskStatus>("completed", "failed", "failed", "pending", "cancelled"),
      fenced: fc.boolean(),
      retryable: fc.constantFrom(true, true, false),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("move" as const), task: fc.nat(), status: fc.constantFrom<TaskStatus>("pending", "in_progress", "completed", "cancelled") }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("edit" as const),
      task: fc.nat(),
      change: fc.oneof(
        fc.record({ priority: fc.integer({ min: 1, max: 10 }) }),
        fc.record({ deps: fc.array(fc.nat(), { maxLength: 3 }) }),
        fc.record({ rule: fc.constantFrom(...RUN_WHEN) }),
        fc.record({ role: fc.nat() }),
        fc.record({ later: fc.constantFrom<"far" | "past" | "none">("far", "past", "none") }),
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("decide" as const), task: fc.nat(), approve: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cancel_goal" as const), goal: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("time_passes" as const),
      expire: fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
      then: fc.constantFrom("alarm" as const, "claim" as const),
      agent: fc.nat(),
      roles: fc.nat(),
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

/** Runs a call the model expects `expected` of; a refused one must change nothing. */
async function checked<T>(runtime: RuntimeApi, expected: Expected, what: string, call: () => Promise<Outcome<T>>) {
  const before = expected === "ok" ? null : await queueTables(runtime);
  const value = expectOutcome(await call(), expected, what);
  if (before) expect(await queueTables(runtime), `${what} changed nothing`).toEqual(before);
  return value;
}

/** The retry the runtime scheduled last for a task: when it failed (its event's time) and its not_before. */
const lastRetry = (runtime: RuntimeApi, id: number) =>
  withSql(runtime, (sql) =>
    sql
      .exec<{ at: number; not_before: number }>(
        `SELECT e.at, t.not_before FROM task_events e JOIN tasks t ON t.id = e.task_id
         WHERE e.task_id = ? AND e.kind = 'retry_scheduled' ORDER BY e.id DESC LIMIT 1`,
        id,
      )
      .one(),
  );

/**
 * A failed attempt of `t` was retried: the runtime chose not_before within the back-off's bounds
 * (min(cap, base × 2^(attempt − 1)) ± 10 %, never past the cap); the model takes it.
 */
async function takeRetry(runtime: RuntimeApi, t: ModelTask, what: string): Promise<void> {
  const { at, not_before: notBefore } = await lastRetry(runtime, t.id);
  const cap = (t.cap ?? 3600) * 1000;
  const raw = Math.min(cap, t.backoff! * 1000 * 2 ** (t.attempt - 1));
  const delay = notBefore - at;
  expect(delay, `${what}: back-off of task ${t.id} at least 90 %`).toBeGreaterThanOrEqual(Math.floor(raw * 0.9));
  expect(delay, `${what}: back-off of task ${t.id} at most 110 %, never past the cap`).toBeLessThanOrEqual(Math.min(cap, Math.ceil(raw * 1.1)));
  t.status = "pending";
  t.assigned = null;
  t.lease = null;
  t.notBefore = notBefore;
}

/** A failure of `t` (in progress) that is retried, by its policy. */
const retries = (t: ModelTask, retryable: boolean) => t.backoff !== null && retryable && t.attempt < t.maxAttempts;

async function claimStep(runtime: RuntimeApi, m: QueueModel, agent: string, scope: Scope, what: string): Promise<void> {
  const now = Date.now();
  const expected = m.ready(scope, now)[0] ?? null;
  const nothing = expected ? null : m.whyNothing(scope, now);
  const answer = (await checked(runtime, "ok", what, () =>
    runtime.nextTask({ agent_id: agent, goal_id: scope.goal, ...(scope.roles.length ? { roles: scope.roles } : {}) }),
  ))!;
  if (!expected) {
    expect(answer, what).toEqual(nothing);
    return;
  }
  expect(answer.task?.id, `${what}: the next ready task`).toBe(expected.id);
  // Never outside the caller's roles, never the owner's.
  expect(answer.task!.role === null || scope.roles.includes(answer.task!.role), `${what}: role ${answer.task!.role}`).toBe(true);
  expect((answer.inputs ?? []).map((i) => i.task_id), `${what}: inputs`).toEqual([...expected.deps].sort((a, b) => a - b));
  expect(answer.lease_id).toMatch(/^ls_/);
  expected.status = "in_progress";
  expected.attempt++;
  expected.assigned = agent;
  expected.lease = answer.lease_id!;
  m.leases.push({ task: expected.id, lease: answer.lease_id! });
}

async function queueStep(runtime: RuntimeApi, m: QueueModel, action: QueueAction): Promise<void> {
  const what = JSON.stringify(action);
  const ids = [...m.tasks.keys()];
  switch (action.kind) {
    case "goal": {
      const goal = (await checked(runtime, "ok", what, () => runtime.createGoal({ name: "g", description: "" })))!;
      m.goals.set(goal.id, { cancelled: false });
      return;
    }
    case "create": {
      const goal = action.goal === undefined ? undefined : pick([...m.goals.keys()], action.goal);
      const deps = [...new Set(action.deps.flatMap((n) => (ids.length ? [ids[n % ids.length]] : [])))];
      const role = pick(TASK_ROLES, action.role)!;
      const backoff = pick(BACKOFFS, action.backoff)!;
      const cap = backoff === null ? undefined : pick(CAPS, action.cap);
      const notBefore = action.later ? Date.now() + FAR : null;
      const shadow: ModelTask = {
        id: 0,
        goal: goal ?? null,
        status: "pending",
        priority: action.priority,
        role,
        rule: action.rule,
        deps,
        attempt: 0,
        maxAttempts: action.maxAttempts,
        assigned: null,
        lease: null,
        notBefore,
        backoff,
        cap: backoff === null ? null : (cap ?? 3600),
      };
      const refusals: ErrorCode[] = [];
      if (goal !== undefined && m.goals.get(goal)!.cancelled) refusals.push("failed_precondition");
      if (action.rule !== "all_completed" && deps.length === 0) refusals.push("invalid_argument");
      if (deps.length > 0 && m.never(shadow)) refusals.push("failed_precondition");
      const created = await checked(runtime, refusals.length ? refusals : "ok", what, () =>
        runtime.createTask({
          title: "t",
          goal_id: goal,
          priority: action.priority,
          role,
          dependencies: deps,
          run_when: action.rule,
          max_attempts: action.maxAttempts,
          not_before: notBefore,
          retry_backoff_seconds: backoff,
          ...(cap === undefined ? {} : { retry_backoff_max_seconds: cap }),
        }),
      );
      if (created) m.tasks.set(created.id, { ...shadow, id: created.id });
      return;
    }
    case "plan": {
      const goal = pick([...m.goals.keys()], action.goal);
      if (goal === undefined) return;
      // Each task may depend on earlier tasks of the plan; other rules need a dependency.
      const tasks = action.tasks.map((t, i) => {
        const dependsOn = i === 0 ? [] : [...new Set(t.deps.map((d) => d % i))];
        return { title: `p${i}`, description: "", priority: t.priority, depends_on: dependsOn, role: pick(TASK_ROLES, t.role)!, run_when: dependsOn.length ? t.rule : "all_completed" as RunWhen };
      });
      const expected: Expected = m.goals.get(goal)!.cancelled ? "failed_precondition" : "ok";
      const written = await checked(runtime, expected, what, () => runtime.applyPlan(goal, { tasks }, "append"));
      if (!written) return;
      written.forEach((task, i) => {
        const planned = tasks[i];
        m.tasks.set(task.id, {
          id: task.id,
          goal,
          status: "pending",
          priority: planned.priority,
          role: planned.role,
          rule: planned.run_when,
          deps: planned.depends_on.map((d) => written[d].id),
          attempt: 0,
          maxAttempts: 3,
          assigned: null,
          lease: null,
          notBefore: null,
          backoff: null,
          cap: null,
        });
      });
      return;
    }
    case "claim": {
      const agent = AGENTS[action.agent % AGENTS.length];
      const goal = action.goal === undefined ? undefined : pick([...m.goals.keys()], action.goal);
      const roles = pick(CALLER_ROLES, action.roles)!;
      if (action.owner) {
        // The owner's decisions go to no agent, whatever it asks.
        await checked(runtime, "invalid_argument", what, () => runtime.nextTask({ agent_id: agent, roles: [...roles, OWNER] }));
        return;
      }
      await claimStep(runtime, m, agent, { goal, roles }, what);
      return;
    }
    case "time_passes": {
      const now = Date.now();
      const live = m.live();
      const expiring = live.filter((_, i) => action.expire[i % action.expire.length]);
      const deferred = [...m.tasks.values()].filter((t) => t.status === "pending" && t.notBefore !== null && t.notBefore > now);
      const coming = deferred.filter((_, i) => action.expire[(i + 1) % action.expire.length]);
      if (expiring.length === 0 && coming.length === 0) return;
      await withSql(runtime, (sql) => {
        sql.exec(`UPDATE tasks SET lease_expires_at = ? WHERE id IN (SELECT value FROM json_each(?))`, now - 1, JSON.stringify(expiring.map((t) => t.id)));
        sql.exec(`UPDATE tasks SET not_before = ? WHERE id IN (SELECT value FROM json_each(?))`, now - 1, JSON.stringify(coming.map((t) => t.id)));
      });
      for (const t of coming) t.notBefore = now - 1;
      // Leases that ran out: back to the queue (after the back-off under a policy), or failed on the last attempt.
      const retried: ModelTask[] = [];
      for (const t of expiring) {
        t.lease = null;
        if (retries(t, true)) retried.push(t);
        else if (t.attempt < t.maxAttempts) {
          t.status = "pending";
          t.assigned = null;
        } else t.status = "failed";
      }
      if (action.then === "alarm") {
        // The stored alarm is still set for an earlier due time: run it now.
        // (A task that also waits for its dependencies sets no alarm: only its dependencies can free it.)
        const ran = await runDurableObjectAlarm(stubOf(runtime));
        if (expiring.length > 0 || coming.some((t) => m.holds(t))) expect(ran, "an alarm was set").toBe(true);
      } else {
        // Otherwise an agent looks for work before the alarm has run: the hand-out settles it first.
        expectOutcome(await runtime.nextTask({}), "ok", what);
      }
      for (const t of retried) await takeRetry(runtime, t, what);
      m.skip();
      if (action.then === "claim") await claimStep(runtime, m, AGENTS[action.agent % AGENTS.length], { roles: pick(CALLER_ROLES, action.roles)! }, what);
      return;
    }
    case "heartbeat": {
      const held = pick(m.leases, action.lease);
      if (!held) return;
      const task = m.tasks.get(held.task)!;
      // A fenced-out agent's heartbeat changes nothing.
      await checked(runtime, task.lease === held.lease ? "ok" : "conflict", what, () =>
        runtime.heartbeatTask({ task_id: held.task, lease_id: held.lease, progress: "working" }),
      );
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
        taskId = pick(ids, action.task);
        if (taskId === undefined) return;
      }
      const t = m.tasks.get(taskId)!;
      const to = action.status;
      const retryable = action.kind === "finish" ? action.retryable : true;
      const now = Date.now();
      // The lease is checked first, then the owner's, then the move itself.
      let expected: Expected = "ok";
      if (lease !== undefined && t.lease !== lease) expected = "conflict";
      else if (t.role === OWNER) expected = "failed_precondition";
      else if (!TRANSITIONS[t.status].includes(to)) expected = "conflict";
      else if (t.status === "pending" && (to === "in_progress" || to === "completed") && !(m.holds(t) && m.due(t, now))) expected = "failed_precondition";
      const moved = await checked(runtime, expected, what, () =>
        runtime.updateTaskStatus({ task_id: taskId, status: to, lease_id: lease, ...(to === "failed" && !retryable ? { retryable: false } : {}) }),
      );
      if (!moved) return;
      if (to === "failed" && retries(t, retryable)) {
        await takeRetry(runtime, t, what);
        return;
      }
      if (to === "in_progress") t.attempt++;
      if (to === "pending") t.assigned = null;
      t.status = to;
      t.lease = null;
      m.skip();
      return;
    }
    case "edit": {
      const taskId = pick(ids, action.task);
      if (taskId === undefined) return;
      const t = m.tasks.get(taskId)!;
      const change = action.change;
      const next = { ...t };
      const refusals: ErrorCode[] = [];
      if (t.status === "completed" || t.status === "cancelled" || t.role === OWNER) refusals.push("failed_precondition");
      const edit: Parameters<RuntimeApi["updateTask"]>[0] = { task_id: taskId };
      if ("priority" in change) {
        edit.priority = next.priority = change.priority;
      } else if ("role" in change) {
        edit.role = next.role = pick(TASK_ROLES, change.role)!;
        if (next.role === OWNER && t.role !== OWNER && t.status !== "pending") refusals.push("failed_precondition");
      } else if ("later" in change) {
        edit.not_before = next.notBefore = change.later === "none" ? null : Date.now() + (change.later === "far" ? FAR : -1000);
      } else {
        if ("deps" in change) edit.dependencies = next.deps = [...new Set(change.deps.flatMap((n) => (ids.length ? [ids[n % ids.length]] : [])))];
        else edit.run_when = next.rule = change.rule;
        const depsChanged = "deps" in change && !(next.deps.length === t.deps.length && next.deps.every((d) => t.deps.includes(d)));
        if (depsChanged || next.rule !== t.rule) {
          if (m.gated(t)) refusals.push("failed_precondition");
          if (next.rule !== "all_completed" && next.deps.length === 0) refusals.push("invalid_argument");
          if (next.deps.includes(t.id) || next.deps.some((d) => m.reaches(d, t.id))) refusals.push("conflict");
          if (t.status === "pending" && next.deps.length > 0 && m.never(next)) refusals.push("failed_precondition");
          if (t.status === "in_progress" && !m.holds(next)) refusals.push("failed_precondition");
        }
      }
      await checked(runtime, refusals.length ? refusals : "ok", what, () => runtime.updateTask(edit));
      if (refusals.length === 0) Object.assign(t, next);
      return;
    }
    case "decide": {
      const owners = [...m.tasks.values()].filter((t) => t.role === OWNER);
      const t = pick(owners, action.task);
      if (!t) return;
      const expected: Expected = m.runnable(t, Date.now()) ? "ok" : "failed_precondition";
      const decided = await checked(runtime, expected, what, () => runtime.decideOwnerTask({ task_id: t.id, approve: action.approve, note: "decided" }));
      if (!decided) return;
      t.status = action.approve ? "completed" : "failed";
      m.skip();
      return;
    }
    case "cancel_goal": {
      const goal = pick([...m.goals.keys()], action.goal);
      if (goal === undefined) return;
      await checked(runtime, "ok", what, () => runtime.cancelGoal(goal, "changed plans"));
      m.goals.get(goal)!.cancelled = true;
      for (const t of m.tasks.values()) {
        if (t.goal === goal && (t.status === "pending" || t.status === "in_progress" || t.status === "failed")) {
          t.status = "cancelled";
          t.lease = null;
        }
      }
      m.skip();
      return;
    }
  }
}

interface TaskRowSeen extends Record<string, SqlStorageValue> {
  id: number;
  status: TaskStatus;
  role: string | null;
  not_before: number | null;
  dep_count: number;
  unmet_deps: number;
  failed_deps: number;
  cancelled_deps: number;
  hold: number;
  assigned_to: string | null;
  attempt: number;
  lease_id: string | null;
  lease_expires_at: number | null;
}

/** What the checks read, in one visit to the object (a round trip per read would slow every run). */
async function observe(runtime: RuntimeApi) {
  return runInDurableObject(stubOf(runtime), async (instance: Runtime, state) => {
    const rows = state.storage.sql
      .exec<TaskRowSeen>(
        `SELECT id, status, role, not_before, dep_count, unmet_deps, failed_deps, cancelled_deps, hold, assigned_to, attempt, lease_id, lease_expires_at
         FROM tasks ORDER BY id`,
      )
      .toArray();
    const next: (number | undefined | string)[] = [];
    for (const roles of CALLER_ROLES) {
      const peek = await instance.nextTask(roles.length ? { roles } : {});
      next.push(peek.ok ? peek.value.task?.id : peek.error.message);
    }
    const goals = await instance.listGoals({ limit: 500 });
    return { rows, next, goals: goals.ok ? goals.value.items : [] };
  });
}

async function checkQueue(runtime: RuntimeApi, m: QueueModel, after: string): Promise<void> {
  const { rows, next, goals } = await observe(runtime);
  const now = Date.now();
  expect(rows.map((r) => r.id), after).toEqual([...m.tasks.keys()].sort((a, b) => a - b));
  for (const row of rows) {
    const t = m.tasks.get(row.id)!;
    expect(
      { status: row.status, assigned_to: row.assigned_to, attempt: row.attempt, lease_id: row.lease_id, role: row.role, not_before: row.not_before },
      `${after}: task ${row.id}`,
    ).toEqual({ status: t.status, assigned_to: t.assigned, attempt: t.attempt, lease_id: t.lease, role: t.role, not_before: t.notBefore });
    // A lease lives on an in-progress task only, with its expiry; the counters are exact.
    expect(row.lease_id === null || row.status === "in_progress", after).toBe(true);
    expect(row.lease_id === null, after).toBe(row.lease_expires_at === null);
    const { n, c, f, x } = m.counts(t);
    expect([row.dep_count, row.unmet_deps, row.failed_deps, row.cancelled_deps], `${after}: counters of ${row.id}`).toEqual([n, n - c, f, x]);
    // The stored judgement of a pending task: ready, waiting, or waiting only for its time. None
    // waits to be skipped after a step: the skips ran.
    if (row.status === "pending") {
      const hold = !m.holds(t) ? 1 : m.due(t, now) ? 0 : 2;
      expect(row.hold, `${after}: judgement of ${row.id}`).toBe(hold);
    }
  }
  // Never two live leases on one task, nor one lease on two tasks.
  const leases = rows.flatMap((r) => (r.lease_id ? [r.lease_id] : []));
  expect(new Set(leases).size, after).toBe(leases.length);
  // The ready set (the owner's included) and the next task for callers of each role set are the model's.
  const ready = rows.filter((r) => r.status === "pending" && r.hold === 0).map((r) => r.id);
  const modelReady = [...m.tasks.values()].filter((t) => m.runnable(t, now)).map((t) => t.id);
  expect(ready.sort((a, b) => a - b), `${after}: ready set`).toEqual(modelReady.sort((a, b) => a - b));
  expect(next, `${after}: next task for each role set`).toEqual(CALLER_ROLES.map((roles) => m.ready({ roles }, now)[0]?.id));
  // Goals: status, counts and progress are the model's.
  for (const goal of goals) {
    expect({ status: goal.status, task_counts: goal.task_counts, progress: goal.progress }, `${after}: goal ${goal.id}`).toEqual(m.goalView(goal.id));
  }
  expect(goals.length, after).toBe(m.goals.size);
}

describe("the queue against its reference model", () => {
  it("hands each ready task out exactly once, only to callers of its role, never one being skipped, with rules, edits, plans, decisions, retries and time", { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(createAction, { minLength: 2, maxLength: 6 }),
        fc.array(queueAction, { minLength: 10, maxLength: 45, size: "max" }),
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
      settings(30),
    );
  });
});
