/**
 * Waiting instead of polling (SPEC §5 and §6; docs/tasks.md, docs/relay.md), against the real
 * Runtime Durable Object: a call with `wait_seconds` that finds nothing waits, and the write that
 * makes something available for it answers it.
 *
 * Every test first waits until the object holds the waiting calls it expects (`waitersOf` reads
 * the object's own registry) and only then makes the write, so an answer can only come from that
 * write. Waits are 30 s, far beyond these tests' run: a waiter answered at all was answered by
 * the write, not by its deadline (the timeout has a test of its own, with 1 s).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import type { NextTaskAnswer } from "../src/runtime/dispatch";
import type { Outcome } from "../src/runtime/kernel/errors";
import type { BatonAnswer } from "../src/runtime/relay/model";
import type { Runtime } from "../src/runtime/runtime";
import { connectAs } from "./helpers/mcp";
import { fireAlarm, freshRuntime, stubOf, value, withSql } from "./helpers/runtime";

const LONG = 30;

/** How many calls wait in the object now (its in-memory registry; nothing about waiting is stored). */
const waitersOf = (rt: RuntimeApi): Promise<number> =>
  runInDurableObject(stubOf(rt), (instance) => (instance as unknown as { waiters: { size: number } }).waiters.size);

/** Resolves once `count` calls wait in the object. */
async function waitersReach(rt: RuntimeApi, count: number): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if ((await waitersOf(rt)) === count) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`expected ${count} waiting calls, have ${await waitersOf(rt)}`);
}

/** A call that waits in the object; `answer` settles when it is answered. */
interface Pending<T> {
  answer: Promise<Outcome<T>>;
}

/** Starts a waiting call and returns it once the object has registered it. */
async function waiting<T>(rt: RuntimeApi, call: () => Promise<Outcome<T>>): Promise<Pending<T>> {
  const before = await waitersOf(rt);
  const answer = call();
  // Keep an early rejection from being reported as unhandled before the test awaits it.
  answer.catch(() => {});
  await waitersReach(rt, before + 1);
  return { answer };
}

const waitForWork = (rt: RuntimeApi, request: { agent_id?: string; goal_id?: number; lease_seconds?: number; roles?: string[] } = {}, seconds = LONG) =>
  waiting(rt, () => rt.nextTask({ ...request, wait_seconds: seconds }));

const claimed = async (pending: Pending<NextTaskAnswer>) => value(await pending.answer);

const backdateLeases = (rt: RuntimeApi) =>
  withSql(rt, (sql) => sql.exec(`UPDATE tasks SET lease_expires_at = ? WHERE lease_expires_at IS NOT NULL`, Date.now() - 1));

async function pipeline(rt: RuntimeApi, steps: number, token_budget?: number) {
  const agent_types = Array.from({ length: steps }, (_, i) => `agent-${i}`);
  return value(await rt.createRelayPipeline({ name: "relay", goal: "g", agent_types, token_budget }));
}

const pass = { quality_score: 0.9, l_score: 0.9, tokens_used: 10 };

describe("a waiter for work is woken by the write that makes a task ready for it", () => {
  it("a task created while an agent waits is claimed for that agent", async () => {
    const rt = freshRuntime("wait-create");
    const pending = await waitForWork(rt, { agent_id: "w" });
    const task = value(await rt.createTask({ title: "new" }));
    const answer = await claimed(pending);
    expect(answer.task).toMatchObject({ id: task.id, status: "in_progress", assigned_to: "w" });
    expect(answer.lease_id).toMatch(/^ls_/);
    expect(await waitersOf(rt)).toBe(0);
  });

  it("completing a dependency hands its dependent to the waiting agent", async () => {
    const rt = freshRuntime("wait-complete");
    const first = value(await rt.createTask({ title: "first" }));
    const second = value(await rt.createTask({ title: "second", dependencies: [first.id] }));
    const holder = value(await rt.nextTask({ agent_id: "holder" }));
    const pending = await waitForWork(rt, { agent_id: "w" });
    value(await rt.updateTaskStatus({ task_id: first.id, status: "completed", lease_id: holder.lease_id }));
    expect((await claimed(pending)).task).toMatchObject({ id: second.id, assigned_to: "w" });
  });

  it("an edit that drops a task's last unfinished dependency hands it to the waiting agent", async () => {
    const rt = freshRuntime("wait-edit");
    const blocker = value(await rt.createTask({ title: "blocker" }));
    const blocked = value(await rt.createTask({ title: "blocked", dependencies: [blocker.id] }));
    value(await rt.nextTask({ agent_id: "holder" }));
    const pending = await waitForWork(rt, { agent_id: "w" });
    value(await rt.updateTask({ task_id: blocked.id, dependencies: [] }));
    expect((await claimed(pending)).task).toMatchObject({ id: blocked.id, assigned_to: "w" });
  });

  it("a task handed back to the queue (set to pending) goes to the waiting agent", async () => {
    const rt = freshRuntime("wait-release");
    const task = value(await rt.createTask({ title: "t" }));
    const holder = value(await rt.nextTask({ agent_id: "holder" }));
    const pending = await waitForWork(rt, { agent_id: "w" });
    value(await rt.updateTaskStatus({ task_id: task.id, status: "pending", lease_id: holder.lease_id }));
    expect((await claimed(pending)).task).toMatchObject({ id: task.id, assigned_to: "w", attempt: 2 });
  });

  it("a lease that runs out (the alarm) hands its task to the waiting agent", async () => {
    const rt = freshRuntime("wait-alarm");
    const task = value(await rt.createTask({ title: "t" }));
    value(await rt.nextTask({ agent_id: "silent" }));
    const pending = await waitForWork(rt, { agent_id: "w" });
    await backdateLeases(rt);
    expect(await fireAlarm(rt)).toBe(true);
    const answer = await claimed(pending);
    expect(answer.task).toMatchObject({ id: task.id, assigned_to: "w", attempt: 2 });
    // The alarm re-derived itself after the waiter's claim: it is now armed for the new lease.
    expect(await runInDurableObject(stubOf(rt), (_i, state) => state.storage.getAlarm())).toBe(Date.parse(answer.lease_expires_at!));
  });

  it("a decomposition's first ready task goes to the waiting agent", async () => {
    const rt = freshRuntime("wait-plan");
    const goal = value(await rt.createGoal({ name: "g", description: "d" }));
    const pending = await waitForWork(rt, { agent_id: "w", goal_id: goal.id });
    const plan = { tasks: [{ title: "a", description: "", priority: 5, depends_on: [] }, { title: "b", description: "", priority: 5, depends_on: [0] }] };
    const tasks = value(await rt.applyPlan(goal.id, plan, "new"));
    expect((await claimed(pending)).task).toMatchObject({ id: tasks[0].id, assigned_to: "w" });
  });

  it("any successful write wakes the waiters for work, so a write path added later needs nothing more (here: readiness changed in SQL, then an unrelated write)", async () => {
    const rt = freshRuntime("wait-any-write");
    const blocker = value(await rt.createTask({ title: "blocker", priority: 1 }));
    const edited = value(await rt.createTask({ title: "edited", dependencies: [blocker.id] }));
    value(await rt.nextTask({ agent_id: "holder" })); // the blocker, in progress
    const pending = await waitForWork(rt, { agent_id: "w" });
    // What a dependency edit (update_task) does to the queue: the task has no unmet dependency left.
    await withSql(rt, (sql) => {
      sql.exec(`DELETE FROM task_deps WHERE task_id = ?`, edited.id);
      sql.exec(`UPDATE tasks SET dep_count = 0, unmet_deps = 0, hold = 0 WHERE id = ?`, edited.id);
    });
    expect(await waitersOf(rt)).toBe(1); // changed behind the Runtime's back: nobody woke it yet
    value(await rt.createGoal({ name: "unrelated", description: "d" }));
    expect((await claimed(pending)).task).toMatchObject({ id: edited.id, assigned_to: "w" });
  });

  it("cancelling the goal a waiter waits on answers it at once: task null, reason goal_cancelled", async () => {
    const rt = freshRuntime("wait-cancel");
    const goal = value(await rt.createGoal({ name: "g", description: "d" }));
    const other = value(await rt.createGoal({ name: "other", description: "d" }));
    const onGoal = await waitForWork(rt, { agent_id: "w1", goal_id: goal.id });
    const onOther = await waitForWork(rt, { agent_id: "w2", goal_id: other.id });
    value(await rt.cancelGoal(goal.id, "not needed"));
    expect(await claimed(onGoal)).toEqual({ task: null, reason: "goal_cancelled" });
    // A waiter on another goal is not concerned: it goes on waiting, and is served by its own work.
    expect(await waitersOf(rt)).toBe(1);
    const task = value(await rt.createTask({ title: "t", goal_id: other.id }));
    expect((await claimed(onOther)).task).toMatchObject({ id: task.id, assigned_to: "w2" });
  });

  it("asking to wait on a cancelled goal answers at once, without waiting", async () => {
    const rt = freshRuntime("wait-cancelled");
    const goal = value(await rt.createGoal({ name: "g", description: "d" }));
    value(await rt.cancelGoal(goal.id));
    expect(value(await rt.nextTask({ agent_id: "w", goal_id: goal.id, wait_seconds: LONG }))).toEqual({ task: null, reason: "goal_cancelled" });
  });

  it("a waiter for one goal is not handed another goal's task, and gets its own when it is ready", async () => {
    const rt = freshRuntime("wait-goal");
    const mine = value(await rt.createGoal({ name: "mine", description: "d" }));
    const theirs = value(await rt.createGoal({ name: "theirs", description: "d" }));
    const pending = await waitForWork(rt, { agent_id: "w", goal_id: mine.id });
    const other = value(await rt.createTask({ title: "theirs", goal_id: theirs.id }));
    expect(await waitersOf(rt)).toBe(1);
    const own = value(await rt.createTask({ title: "mine", goal_id: mine.id }));
    expect((await claimed(pending)).task).toMatchObject({ id: own.id, assigned_to: "w" });
    expect(value(await rt.getTask(other.id)).status).toBe("pending");
  });

  it("an agent whose breaker is OPEN waits through it and claims once the breaker is reset", async () => {
    const rt = freshRuntime("wait-breaker-reset");
    value(await rt.tripBreaker("w", "test"));
    const task = value(await rt.createTask({ title: "t" }));
    const pending = await waitForWork(rt, { agent_id: "w" });
    // A write that changes nothing for it leaves it waiting: its breaker still refuses.
    value(await rt.createGoal({ name: "unrelated", description: "d" }));
    expect(await waitersOf(rt)).toBe(1);
    value(await rt.resetBreaker("w"));
    expect((await claimed(pending)).task).toMatchObject({ id: task.id, assigned_to: "w" });
  });

  it("an agent whose breaker is OPEN claims a probe when the alarm half-opens the breaker", async () => {
    const rt = freshRuntime("wait-breaker-half-open");
    value(await rt.tripBreaker("w", "test"));
    const task = value(await rt.createTask({ title: "t" }));
    const pending = await waitForWork(rt, { agent_id: "w" });
    await withSql(rt, (sql) => sql.exec(`UPDATE breakers SET cooldown_until = ? WHERE agent_id = 'w'`, Date.now() - 1));
    expect(await fireAlarm(rt)).toBe(true);
    const answer = await claimed(pending);
    expect(answer.task).toMatchObject({ id: task.id, assigned_to: "w" });
    expect(answer.probe_expires_at).toBeDefined();
  });

  it("a waiter without agent_id is shown the task and claims nothing", async () => {
    const rt = freshRuntime("wait-peek");
    const pending = await waitForWork(rt);
    const task = value(await rt.createTask({ title: "t" }));
    const answer = await claimed(pending);
    expect(answer.task).toMatchObject({ id: task.id, status: "pending", assigned_to: null });
    expect(answer.lease_id).toBeUndefined();
  });
});

describe("roles: a waiter is woken only by work it may take", () => {
  it("a reviewer waiting is not handed a coder's task, and gets the reviewer's task when it comes", async () => {
    const rt = freshRuntime("wait-roles");
    const pending = await waitForWork(rt, { agent_id: "reviewer-1", roles: ["reviewer"] });
    const code = value(await rt.createTask({ title: "code", role: "coder" }));
    expect(await waitersOf(rt)).toBe(1);
    const review = value(await rt.createTask({ title: "review", role: "reviewer" }));
    expect((await claimed(pending)).task).toMatchObject({ id: review.id, assigned_to: "reviewer-1" });
    expect(value(await rt.getTask(code.id)).status).toBe("pending");
  });

  it("callers of different role sets wait side by side, each served by its own work, in arrival order within a set", async () => {
    const rt = freshRuntime("wait-role-sets");
    const coder1 = await waitForWork(rt, { agent_id: "coder-1", roles: ["coder"] });
    const tester = await waitForWork(rt, { agent_id: "tester-1", roles: ["tester"] });
    const coder2 = await waitForWork(rt, { agent_id: "coder-2", roles: ["coder"] });
    const t1 = value(await rt.createTask({ title: "test it", role: "tester" }));
    const c1 = value(await rt.createTask({ title: "code 1", role: "coder" }));
    const c2 = value(await rt.createTask({ title: "code 2", role: "coder" }));
    expect((await claimed(tester)).task!.id).toBe(t1.id);
    expect((await claimed(coder1)).task!.id).toBe(c1.id);
    expect((await claimed(coder2)).task!.id).toBe(c2.id);
  });
});

describe("waiting and time", () => {
  it("a task whose lease ran out goes to the agent that waited, not to a newcomer that asks first", async () => {
    const rt = freshRuntime("wait-newcomer");
    const t = value(await rt.createTask({ title: "t" }));
    value(await rt.nextTask({ agent_id: "crashed" }));
    const patient = await waitForWork(rt, { agent_id: "patient" });
    // The lease runs out; before the alarm, a newcomer asks.
    await withSql(rt, (sql) => sql.exec(`UPDATE tasks SET lease_expires_at = ? WHERE id = ?`, Date.now() - 1, t.id));
    expect(value(await rt.nextTask({ agent_id: "newcomer" }))).toMatchObject({ task: null });
    expect((await claimed(patient)).task).toMatchObject({ id: t.id, assigned_to: "patient" });
  });

  it("a waiter whose breaker is OPEN sleeps until its cooldown ends: writes meanwhile do not try it again", async () => {
    const rt = freshRuntime("wait-asleep");
    value(await rt.tripBreaker("w", "test"));
    value(await rt.createTask({ title: "t" }));
    const pending = await waitForWork(rt, { agent_id: "w" });
    const asleepUntil = await runInDurableObject(stubOf(rt), (instance) => {
      const waiters = (instance as unknown as { waiters: { waiting: Set<{ asleepUntil: number }> } }).waiters;
      return [...waiters.waiting][0].asleepUntil;
    });
    const status = value(await rt.breakerStatus("w"));
    expect(asleepUntil).toBeGreaterThanOrEqual(Date.parse(status.cooldown_until!) - 1_000);
    const events = () => withSql(rt, (sql) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM task_events`).one().n);
    value(await rt.createTask({ title: "another" }));
    expect(await events()).toBe(0);
    value(await rt.resetBreaker("w"));
    expect((await claimed(pending)).task).toMatchObject({ assigned_to: "w" });
  });

  it("a call that fails after it began to wait leaves no waiter behind to be served for nobody", async () => {
    const rt = freshRuntime("wait-failed-call");
    const outcome = await runInDurableObject(stubOf(rt), async (instance: Runtime) => {
      // The step after registering (re-arming the alarm) fails, as storage may.
      (instance as unknown as { rearm: () => Promise<void> }).rearm = async () => {
        throw new Error("storage failed");
      };
      const error = await instance.nextTask({ agent_id: "w", wait_seconds: LONG }).then(
        () => null,
        (e: Error) => e.message,
      );
      return { error, size: (instance as unknown as { waiters: { size: number } }).waiters.size };
    });
    expect(outcome).toEqual({ error: "storage failed", size: 0 });
  });
});

describe("fairness: the longest-waiting agent first, and no task twice", () => {
  it("16 waiting agents, tasks made ready one at a time: each task claimed once, in the order the agents began to wait", async () => {
    const rt = freshRuntime("wait-fair");
    const agents = Array.from({ length: 16 }, (_, i) => `agent-${String(i).padStart(2, "0")}`);
    const pending = new Map<string, Pending<NextTaskAnswer>>();
    for (const agent of agents) pending.set(agent, await waitForWork(rt, { agent_id: agent }));
    // A chain: t0 is ready at once, each next one when the one before completes.
    const chain = [value(await rt.createTask({ title: "t0" }))];
    for (let i = 1; i < agents.length; i++) chain.push(value(await rt.createTask({ title: `t${i}`, dependencies: [chain[i - 1].id] })));
    const order: { agent: string; task: number }[] = [];
    for (const task of chain) {
      // The write that made it ready has answered a waiter already: see whom, then complete it.
      const agent = value(await rt.getTask(task.id)).assigned_to!;
      const answer = await claimed(pending.get(agent)!);
      expect(answer.task).toMatchObject({ id: task.id, status: "in_progress" });
      order.push({ agent, task: task.id });
      value(await rt.updateTaskStatus({ task_id: task.id, status: "completed", lease_id: answer.lease_id }));
    }
    expect(order.map((o) => o.agent)).toEqual(agents);
    expect(new Set(order.map((o) => o.task)).size).toBe(order.length);
    expect(await waitersOf(rt)).toBe(0);
  });

  it("16 agents waiting and 16 tasks made ready at once: every agent gets a different task", async () => {
    const rt = freshRuntime("wait-burst");
    const goal = value(await rt.createGoal({ name: "g", description: "d" }));
    const pending = [];
    for (let i = 0; i < 16; i++) pending.push(await waitForWork(rt, { agent_id: `agent-${i}`, goal_id: goal.id }));
    const blocker = value(await rt.createTask({ title: "blocker" }));
    const tasks = [];
    for (let i = 0; i < 16; i++) tasks.push(value(await rt.createTask({ title: `t${i}`, goal_id: goal.id, dependencies: [blocker.id] })));
    value(await rt.updateTaskStatus({ task_id: blocker.id, status: "completed" }));
    const answers = await Promise.all(pending.map(claimed));
    expect(new Set(answers.map((a) => a.task!.id))).toEqual(new Set(tasks.map((t) => t.id)));
    // Hand-out order (priority, then age) meets arrival order: the first to wait gets the oldest.
    expect(answers.map((a) => a.task!.id)).toEqual(tasks.map((t) => t.id));
  });
});

describe("the relay: an agent waits for its turn", () => {
  it("a waiter for step 1 is answered by the advance of step 0, with the new baton", async () => {
    const rt = freshRuntime("wait-advance");
    const p = await pipeline(rt, 3);
    const pending = await waiting(rt, () => rt.getRelayBaton(p.pipeline_id, { step_index: 1, wait_seconds: LONG }));
    const advanced = value(await rt.advanceRelay({ pipeline_id: p.pipeline_id, baton_id: p.baton.baton_id, ...pass }));
    const answer = value(await pending.answer);
    expect(answer.baton!.baton_id).toBe(advanced.status === "advanced" ? advanced.baton.baton_id : "");
    expect(answer.baton!.step_index).toBe(1);
    expect(answer.prompt).toContain("agent 2 of 3");
  });

  it("each of three waiters is answered exactly when the baton reaches its step", async () => {
    const rt = freshRuntime("wait-steps");
    const p = await pipeline(rt, 4);
    const answers: (BatonAnswer | null)[] = [null, null, null, null];
    for (const step of [3, 2, 1]) {
      const pending = await waiting(rt, () => rt.getRelayBaton(p.pipeline_id, { step_index: step, wait_seconds: LONG }));
      void pending.answer.then((o) => (answers[step] = value(o)));
    }
    let baton = p.baton;
    for (const step of [1, 2, 3]) {
      const advanced = value(await rt.advanceRelay({ pipeline_id: p.pipeline_id, baton_id: baton.baton_id, ...pass }));
      if (advanced.status !== "advanced") throw new Error(advanced.status);
      baton = advanced.baton;
      await waitersReach(rt, 3 - step);
      expect(answers[step]!.baton!.baton_id).toBe(baton.baton_id);
      // Later steps are still waiting.
      for (let later = step + 1; later <= 3; later++) expect(answers[later]).toBeNull();
    }
  });

  it("a retry after a failed gate answers the waiter of that step with the fresh baton", async () => {
    const rt = freshRuntime("wait-retry");
    const p = await pipeline(rt, 2);
    const gate = value(await rt.advanceRelay({ pipeline_id: p.pipeline_id, baton_id: p.baton.baton_id, ...pass, quality_score: 0.1 }));
    expect(gate.status).toBe("quality_gate_failed");
    // No baton is live: a waiter without step_index waits for one.
    const pending = await waiting(rt, () => rt.getRelayBaton(p.pipeline_id, { wait_seconds: LONG }));
    const retried = value(await rt.retryRelayStep(p.pipeline_id, 0));
    const answer = value(await pending.answer);
    expect(answer.baton).toMatchObject({ baton_id: retried.baton.baton_id, step_index: 0, retry_count: 1 });
  });

  it("the end of the pipeline answers every waiter, with no baton and the reason", async () => {
    const rt = freshRuntime("wait-end");
    const p = await pipeline(rt, 3, 100);
    const pending = await waiting(rt, () => rt.getRelayBaton(p.pipeline_id, { step_index: 2, wait_seconds: LONG }));
    const failed = value(await rt.advanceRelay({ pipeline_id: p.pipeline_id, baton_id: p.baton.baton_id, ...pass, tokens_used: 101 }));
    expect(failed.status).toBe("failed");
    expect(value(await pending.answer)).toMatchObject({ baton: null, prompt: null, pipeline_status: "failed", reason: "the pipeline failed (budget_exhausted)" });
  });

  it("a waiter whose step has come already is answered at once, and one for another pipeline is not woken", async () => {
    const rt = freshRuntime("wait-relay-other");
    const p = await pipeline(rt, 2);
    const q = await pipeline(rt, 2);
    expect(value(await rt.getRelayBaton(p.pipeline_id, { step_index: 0, wait_seconds: LONG })).baton!.step_index).toBe(0);
    const onQ = await waiting(rt, () => rt.getRelayBaton(q.pipeline_id, { step_index: 1, wait_seconds: LONG }));
    value(await rt.advanceRelay({ pipeline_id: p.pipeline_id, baton_id: p.baton.baton_id, ...pass }));
    expect(await waitersOf(rt)).toBe(1);
    value(await rt.advanceRelay({ pipeline_id: q.pipeline_id, baton_id: q.baton.baton_id, ...pass }));
    expect(value(await onQ.answer).baton!.step_index).toBe(1);
  });

  it("getRelayBaton(pipelineId) without a wait still answers the live baton, as before", async () => {
    const rt = freshRuntime("wait-compat");
    const p = await pipeline(rt, 2);
    expect(value(await rt.getRelayBaton(p.pipeline_id)).baton!.baton_id).toBe(p.baton.baton_id);
    // A step that has not come yet, without wait_seconds: the live baton as it is.
    expect(value(await rt.getRelayBaton(p.pipeline_id, { step_index: 1 })).baton!.step_index).toBe(0);
  });

  it("a step_index beyond the pipeline is invalid_argument, an unknown pipeline not_found, and neither waits", async () => {
    const rt = freshRuntime("wait-relay-invalid");
    const p = await pipeline(rt, 2);
    expect(await rt.getRelayBaton(p.pipeline_id, { step_index: 2, wait_seconds: LONG })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await rt.getRelayBaton("rp_nothinghere", { wait_seconds: LONG })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await waitersOf(rt)).toBe(0);
  });
});

describe("waiting is safe", () => {
  it("a waiter whose time is up gets the ordinary answer and leaves no trace", async () => {
    const rt = freshRuntime("wait-timeout");
    const blocker = value(await rt.createTask({ title: "blocker" }));
    value(await rt.createTask({ title: "blocked", dependencies: [blocker.id] }));
    value(await rt.updateTaskStatus({ task_id: blocker.id, status: "in_progress" }));
    const answer = value(await rt.nextTask({ agent_id: "w", wait_seconds: 1 }));
    expect(answer).toEqual({ task: null, reason: "all_pending_tasks_blocked" });
    expect(await waitersOf(rt)).toBe(0);
    const baton = value(await rt.getRelayBaton((await pipeline(rt, 2)).pipeline_id, { step_index: 1, wait_seconds: 1 }));
    expect(baton.baton!.step_index).toBe(0); // the live baton as it is
  });

  it("a waiting call holds no lease and blocks no one: reads and writes of others go on meanwhile", async () => {
    const rt = freshRuntime("wait-nonblocking");
    const goal = value(await rt.createGoal({ name: "g", description: "d" }));
    const pending = [];
    for (let i = 0; i < 5; i++) pending.push(await waitForWork(rt, { agent_id: `w${i}`, goal_id: goal.id }));
    // Another goal's work is created, claimed, completed and read while five calls wait.
    const other = value(await rt.createGoal({ name: "other", description: "d" }));
    const task = value(await rt.createTask({ title: "t", goal_id: other.id }));
    const claim = value(await rt.nextTask({ agent_id: "busy", goal_id: other.id }));
    expect(claim.task!.id).toBe(task.id);
    value(await rt.updateTaskStatus({ task_id: task.id, status: "completed", lease_id: claim.lease_id }));
    expect(value(await rt.getGoal(other.id)).status).toBe("completed");
    expect(value(await rt.listTasks({ status: "in_progress", limit: 10 })).items).toEqual([]);
    expect(await waitersOf(rt)).toBe(5);
    for (let i = 0; i < 5; i++) value(await rt.createTask({ title: `mine ${i}`, goal_id: goal.id }));
    expect((await Promise.all(pending.map(claimed))).map((a) => a.task!.assigned_to)).toEqual(["w0", "w1", "w2", "w3", "w4"]);
  });

  it("at most 4,096 calls wait per object: one more that would have to wait is resource_exhausted, and calls that do not wait are answered as ever", { timeout: 30_000 }, async () => {
    const rt = freshRuntime("wait-bound");
    const p = await pipeline(rt, 2);
    // Inside the object: 4,096 calls through RPC would cost the suite seconds for nothing.
    const seen = await runInDurableObject(stubOf(rt), async (instance: Runtime) => {
      const pending = Array.from({ length: 4_096 }, () => instance.getRelayBaton(p.pipeline_id, { step_index: 1, wait_seconds: LONG }));
      const size = (instance as unknown as { waiters: { size: number } }).waiters.size;
      const oneMore = await instance.getRelayBaton(p.pipeline_id, { step_index: 1, wait_seconds: LONG });
      const work = await instance.nextTask({ agent_id: "late", wait_seconds: LONG });
      // Without waiting, calls are answered as ever.
      const noWait = await instance.nextTask({ agent_id: "late" });
      await instance.advanceRelay({ pipeline_id: p.pipeline_id, baton_id: p.baton.baton_id, ...pass });
      const answers = await Promise.all(pending);
      return { size, oneMore, work, noWait, steps: answers.map((o) => value(o).baton!.step_index) };
    });
    expect(seen.size).toBe(4_096);
    expect(seen.oneMore).toMatchObject({ ok: false, error: { code: "resource_exhausted" } });
    expect(seen.work).toMatchObject({ ok: false, error: { code: "resource_exhausted" } });
    expect(value(seen.noWait)).toEqual({ task: null, reason: "no_pending_tasks" });
    expect(new Set(seen.steps)).toEqual(new Set([1]));
    expect(await waitersOf(rt)).toBe(0);
  });

  it("wait_seconds beyond 30 is invalid_argument, and nothing is claimed", async () => {
    const rt = freshRuntime("wait-invalid");
    value(await rt.createTask({ title: "t" }));
    expect(await rt.nextTask({ agent_id: "w", wait_seconds: 31 })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(value(await rt.listTasks({ status: "pending", limit: 10 })).items).toHaveLength(1);
  });

  it("an object that restarts during a wait fails the waiting call, and the MCP tool answers a retryable unavailable, never a hang", async () => {
    const userId = `wait-restart-${crypto.randomUUID()}`;
    const mcp = await connectAs(userId);
    const stub = () => env.RUNTIME.getByName(userId) as unknown as RuntimeApi;
    const pending = mcp.raw("get_next_task", { agent_id: "w", wait_seconds: LONG });
    await waitersReach(stub(), 1);
    // What an eviction or a deployment does to the object: it is reset, in-flight calls fail.
    await runInDurableObject(stubOf(stub()), (_i, state) => state.abort("reset for the test")).catch(() => {});
    const result = await pending;
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(/^unavailable: /);
    // The object comes back (a stub that saw the reset is broken: take a new one) with no waiters.
    const rt = stub();
    expect(await waitersOf(rt)).toBe(0);
    const again = mcp.call("get_next_task", { agent_id: "w", wait_seconds: LONG });
    await waitersReach(rt, 1);
    const task = await mcp.call("create_task", { title: "after the restart" });
    expect((await again).task).toMatchObject({ id: task.id, assigned_to: "w" });
    await mcp.close();
  });
});

describe("the tools", () => {
  it("get_next_task and get_relay_baton take wait_seconds (0..30) and get_relay_baton step_index", async () => {
    const userId = `wait-tools-${crypto.randomUUID()}`;
    const mcp = await connectAs(userId);
    const rt = env.RUNTIME.getByName(userId) as unknown as RuntimeApi;
    expect(await mcp.fail("get_next_task", { wait_seconds: 31 })).toMatch(/^invalid_argument: wait_seconds/);
    expect(await mcp.fail("get_relay_baton", { pipeline_id: "rp_x", step_index: -1 })).toMatch(/^invalid_argument: step_index/);
    const p = await mcp.call("create_relay_pipeline", { name: "n", goal: "g", agent_types: ["researcher", "analyzer"] });
    const pending = mcp.call("get_relay_baton", { pipeline_id: p.pipeline_id, step_index: 1, wait_seconds: LONG });
    await waitersReach(rt, 1);
    await mcp.call("advance_relay", { pipeline_id: p.pipeline_id, baton_id: p.baton.baton_id, ...pass });
    expect((await pending).baton).toMatchObject({ step_index: 1, agent_type: "analyzer" });
    await mcp.close();
  });
});
