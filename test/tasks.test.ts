/**
 * The goal/task queue of SPEC §5, against the real Runtime Durable Object and its SQLite.
 */
import { describe, expect, it } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import type { Task } from "../src/runtime/tasks/model";
import type { NewTask } from "../src/runtime/tasks/queue";
import { freshRuntime, snapshot, value, withSql } from "./helpers/runtime";

type Stub = RuntimeApi;

async function task(runtime: Stub, input: NewTask): Promise<Task> {
  return value(await runtime.createTask(input));
}

async function next(runtime: Stub, request: { goal_id?: number; agent_id?: string } = {}) {
  return value(await runtime.nextTask(request));
}

describe("hand-out order", () => {
  it("hands out the highest priority first, and the oldest first on equal priority", async () => {
    const runtime = freshRuntime();
    const low = await task(runtime, { title: "low", priority: 2 });
    const highOld = await task(runtime, { title: "high old", priority: 9 });
    const highNew = await task(runtime, { title: "high new", priority: 9 });
    const order: number[] = [];
    for (let i = 0; i < 3; i++) order.push((await next(runtime, { agent_id: "a" })).task!.id);
    expect(order).toEqual([highOld.id, highNew.id, low.id]);
  });

  it("only looks without an agent_id: the same task again, still pending", async () => {
    const runtime = freshRuntime();
    const only = await task(runtime, { title: "only" });
    expect((await next(runtime)).task!.id).toBe(only.id);
    const again = await next(runtime);
    expect(again.task).toMatchObject({ id: only.id, status: "pending", assigned_to: null });
  });

  it("never misses a ready task however many blocked tasks rank above it (no starvation)", async () => {
    const runtime = freshRuntime();
    const blocker = await task(runtime, { title: "blocker", priority: 1 });
    await runtime.updateTaskStatus({ task_id: blocker.id, status: "in_progress" });
    for (let i = 0; i < 60; i++) await task(runtime, { title: `blocked ${i}`, priority: 10, dependencies: [blocker.id] });
    const ready = await task(runtime, { title: "ready", priority: 1 });
    const answer = await next(runtime, { agent_id: "a" });
    expect(answer.task!.id).toBe(ready.id);
  });

  it("says why nothing is handed out", async () => {
    const runtime = freshRuntime();
    expect(await next(runtime, { agent_id: "a" })).toEqual({ task: null, reason: "no_pending_tasks" });
    const first = await task(runtime, { title: "first" });
    await task(runtime, { title: "second", dependencies: [first.id] });
    await next(runtime, { agent_id: "a" });
    expect(await next(runtime, { agent_id: "b" })).toEqual({ task: null, reason: "all_pending_tasks_blocked" });
  });

  it("restricts hand-out to one goal when goal_id is given", async () => {
    const runtime = freshRuntime();
    const a = value(await runtime.createGoal({ name: "A", description: "" }));
    const b = value(await runtime.createGoal({ name: "B", description: "" }));
    await task(runtime, { title: "in A", goal_id: a.id, priority: 10 });
    const inB = await task(runtime, { title: "in B", goal_id: b.id, priority: 1 });
    expect((await next(runtime, { goal_id: b.id })).task!.id).toBe(inB.id);
    expect(await runtime.nextTask({ goal_id: 999 })).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});

describe("dependencies", () => {
  it("unblock a task only when every dependency is completed, not when one fails or is cancelled", async () => {
    const runtime = freshRuntime();
    const a = await task(runtime, { title: "a" });
    const b = await task(runtime, { title: "b" });
    const c = await task(runtime, { title: "c", dependencies: [a.id, b.id] });
    expect(c.blocked_by).toEqual([a.id, b.id]);

    await runtime.updateTaskStatus({ task_id: a.id, status: "completed" });
    await runtime.updateTaskStatus({ task_id: b.id, status: "in_progress" });
    await runtime.updateTaskStatus({ task_id: b.id, status: "failed", error: "boom" });
    expect(value(await runtime.getTask(c.id)).blocked_by).toEqual([b.id]);
    expect((await next(runtime)).task).toBeNull();

    await runtime.updateTaskStatus({ task_id: b.id, status: "pending" });
    await runtime.updateTaskStatus({ task_id: b.id, status: "completed" });
    const unblocked = value(await runtime.getTask(c.id));
    expect(unblocked.blocked_by).toEqual([]);
    expect(unblocked.dependencies).toEqual([a.id, b.id]);
    expect((await next(runtime)).task!.id).toBe(c.id);
  });

  it("counts a dependency that was already completed at creation as met", async () => {
    const runtime = freshRuntime();
    const done = await task(runtime, { title: "done" });
    await runtime.updateTaskStatus({ task_id: done.id, status: "completed" });
    const after = await task(runtime, { title: "after", dependencies: [done.id, done.id] });
    expect(after).toMatchObject({ dependencies: [done.id], blocked_by: [] });
    expect((await next(runtime)).task!.id).toBe(after.id);
  });

  it("refuses to start or complete a task whose dependencies are not completed", async () => {
    const runtime = freshRuntime();
    const first = await task(runtime, { title: "first" });
    const second = await task(runtime, { title: "second", dependencies: [first.id] });
    const before = await snapshot(runtime);
    for (const status of ["in_progress", "completed"] as const) {
      const outcome = await runtime.updateTaskStatus({ task_id: second.id, status });
      expect(outcome).toMatchObject({ ok: false, error: { code: "failed_precondition" } });
    }
    expect(await snapshot(runtime)).toEqual(before);
  });

  it("rejects unknown dependency ids with not_found and writes nothing", async () => {
    const runtime = freshRuntime();
    const real = await task(runtime, { title: "real" });
    const before = await snapshot(runtime);
    const outcome = await runtime.createTask({ title: "x", dependencies: [real.id, 4242] });
    expect(outcome).toMatchObject({ ok: false, error: { code: "not_found", message: expect.stringContaining("4242") } });
    expect(await snapshot(runtime)).toEqual(before);
  });
});

describe("status transitions", () => {
  const ALL = ["pending", "in_progress", "completed", "failed", "cancelled"] as const;
  const LEGAL: Record<string, string[]> = {
    pending: ["in_progress", "cancelled", "completed"],
    in_progress: ["completed", "failed", "pending", "cancelled"],
    failed: ["pending", "cancelled"],
    completed: [],
    cancelled: [],
  };

  /** Brings a fresh task into `status` through legal moves. */
  async function taskIn(runtime: Stub, status: (typeof ALL)[number]): Promise<Task> {
    const t = await task(runtime, { title: `in ${status}` });
    const path: Record<string, string[]> = {
      pending: [],
      in_progress: ["in_progress"],
      completed: ["completed"],
      failed: ["in_progress", "failed"],
      cancelled: ["cancelled"],
    };
    for (const step of path[status]) value(await runtime.updateTaskStatus({ task_id: t.id, status: step as Task["status"] }));
    return t;
  }

  it("rejects every illegal move with conflict and changes nothing", async () => {
    const runtime = freshRuntime();
    for (const from of ALL) {
      for (const to of ALL.filter((s) => !LEGAL[from].includes(s))) {
        const t = await taskIn(runtime, from);
        const before = await snapshot(runtime);
        const outcome = await runtime.updateTaskStatus({ task_id: t.id, status: to, result: "r", error: "e" });
        expect(outcome, `${from} → ${to}`).toMatchObject({ ok: false, error: { code: "conflict" } });
        expect(await snapshot(runtime)).toEqual(before);
      }
    }
  });

  it("allows every legal move", async () => {
    const runtime = freshRuntime();
    for (const from of ALL) {
      for (const to of LEGAL[from]) {
        const t = await taskIn(runtime, from);
        const outcome = await runtime.updateTaskStatus({ task_id: t.id, status: to as Task["status"] });
        expect(outcome.ok, `${from} → ${to}`).toBe(true);
      }
    }
  });

  it("keeps result and error when they are omitted", async () => {
    const runtime = freshRuntime();
    const t = await task(runtime, { title: "t" });
    await runtime.updateTaskStatus({ task_id: t.id, status: "in_progress", result: "partial" });
    await runtime.updateTaskStatus({ task_id: t.id, status: "failed", error: "timeout" });
    await runtime.updateTaskStatus({ task_id: t.id, status: "pending" });
    const back = value(await runtime.getTask(t.id));
    expect(back).toMatchObject({ result: "partial", error: "timeout", status: "pending" });
  });

  it("records started_at and completed_at, and frees a task put back to pending", async () => {
    const runtime = freshRuntime();
    const t = await task(runtime, { title: "t" });
    const claimed = (await next(runtime, { agent_id: "agent-1" })).task!;
    expect(claimed).toMatchObject({ status: "in_progress", assigned_to: "agent-1", attempt: 1 });
    expect(claimed.started_at).not.toBeNull();
    expect(claimed.lease_id).toMatch(/^ls_/);
    const requeued = value(await runtime.updateTaskStatus({ task_id: t.id, status: "pending" }));
    expect(requeued).toMatchObject({ assigned_to: null, lease_id: null, lease_expires_at: null });
    const done = value(await runtime.updateTaskStatus({ task_id: t.id, status: "completed", result: "ok" }));
    expect(done.completed_at).not.toBeNull();
  });

  it("answers not_found for unknown tasks and goals", async () => {
    const runtime = freshRuntime();
    expect(await runtime.getTask(77)).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await runtime.updateTaskStatus({ task_id: 77, status: "completed" })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await runtime.getGoal(77)).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await runtime.createTask({ title: "t", goal_id: 77 })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await runtime.listTasks({ goal_id: 77, limit: 10 })).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});

describe("concurrent claims", () => {
  it("hands each of 20 ready tasks to exactly one of 50 simultaneous claimers", async () => {
    const runtime = freshRuntime();
    for (let i = 0; i < 20; i++) await task(runtime, { title: `t${i}`, priority: (i % 10) + 1 });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => runtime.nextTask({ agent_id: `agent-${i}` })));
    const claimed = answers.map(value).filter((a) => a.task !== null).map((a) => a.task!);
    expect(claimed).toHaveLength(20);
    expect(new Set(claimed.map((t) => t.id)).size).toBe(20);
    const stored = value(await runtime.listTasks({ status: "in_progress", limit: 100 })).items;
    expect(stored).toHaveLength(20);
    // What each agent was told it holds is what storage says it holds.
    for (const t of claimed) expect(stored.find((s) => s.id === t.id)!.assigned_to).toBe(t.assigned_to);
    expect(answers.map(value).filter((a) => a.task === null).every((a) => a.reason === "no_pending_tasks")).toBe(true);
  });
});

describe("goals", () => {
  it("completes a goal when all its tasks are completed, and reopens it when a task is added", async () => {
    const runtime = freshRuntime();
    const goal = value(await runtime.createGoal({ name: "ship", description: "ship it" }));
    const a = await task(runtime, { title: "a", goal_id: goal.id });
    const b = await task(runtime, { title: "b", goal_id: goal.id, dependencies: [a.id] });
    await runtime.updateTaskStatus({ task_id: a.id, status: "completed" });
    let current = value(await runtime.getGoal(goal.id));
    expect(current).toMatchObject({ status: "active", progress: 0.5, task_counts: { pending: 1, completed: 1 } });
    await runtime.updateTaskStatus({ task_id: b.id, status: "completed" });
    current = value(await runtime.getGoal(goal.id));
    expect(current).toMatchObject({ status: "completed", progress: 1 });
    expect(current.completed_at).not.toBeNull();

    await task(runtime, { title: "c", goal_id: goal.id });
    current = value(await runtime.getGoal(goal.id));
    expect(current).toMatchObject({ status: "active", completed_at: null });
  });

  it("does not count cancelled tasks as work left to do", async () => {
    const runtime = freshRuntime();
    const goal = value(await runtime.createGoal({ name: "g", description: "" }));
    const a = await task(runtime, { title: "a", goal_id: goal.id });
    const b = await task(runtime, { title: "b", goal_id: goal.id });
    await runtime.updateTaskStatus({ task_id: b.id, status: "cancelled" });
    await runtime.updateTaskStatus({ task_id: a.id, status: "completed" });
    expect(value(await runtime.getGoal(goal.id))).toMatchObject({ status: "completed", progress: 1 });
  });

  it("lists goals newest first with their counts, filtered by status", async () => {
    const runtime = freshRuntime();
    const first = value(await runtime.createGoal({ name: "first", description: "" }));
    const second = value(await runtime.createGoal({ name: "second", description: "" }));
    await task(runtime, { title: "t", goal_id: first.id });
    const listed = value(await runtime.listGoals({ limit: 50 })).items;
    expect(listed.map((g) => g.id)).toEqual([second.id, first.id]);
    expect(listed[1].task_counts.pending).toBe(1);
    expect(value(await runtime.listGoals({ limit: 1 })).items.map((g) => g.id)).toEqual([second.id]);
    expect(value(await runtime.listGoals({ status: "completed", limit: 50 })).items).toEqual([]);
  });

  it("keeps metadata as a JSON object, not a string", async () => {
    const runtime = freshRuntime();
    const metadata = { owner: "ana", tags: ["x", "y"], nested: { n: 1, ok: true, none: null } };
    const goal = value(await runtime.createGoal({ name: "m", description: "", metadata }));
    expect(value(await runtime.getGoal(goal.id)).metadata).toEqual(metadata);
    const t = await task(runtime, { title: "t", goal_id: goal.id, metadata });
    expect(value(await runtime.getTask(t.id)).metadata).toEqual(metadata);
  });
});

describe("cancelling a goal", () => {
  it("cancels every unfinished task, ends leases, keeps completed work, and takes no new tasks", async () => {
    const runtime = freshRuntime();
    const goal = value(await runtime.createGoal({ name: "g", description: "" }));
    const done = await task(runtime, { title: "done", goal_id: goal.id });
    await runtime.updateTaskStatus({ task_id: done.id, status: "completed" });
    const held = await task(runtime, { title: "held", goal_id: goal.id, priority: 10 });
    const waiting = await task(runtime, { title: "waiting", goal_id: goal.id, dependencies: [held.id] });
    const other = await task(runtime, { title: "other goal's task" });
    const claim = value(await runtime.nextTask({ goal_id: goal.id, agent_id: "a" }));
    expect(claim.task!.id).toBe(held.id);

    const cancelled = value(await runtime.cancelGoal(goal.id, "no longer needed"));
    expect(cancelled).toMatchObject({ status: "cancelled", task_counts: { completed: 1, cancelled: 2, pending: 0, in_progress: 0 } });
    expect(value(await runtime.getTask(held.id))).toMatchObject({ status: "cancelled", lease_id: null, error: `goal ${goal.id} was cancelled: no longer needed` });
    expect(value(await runtime.getTask(waiting.id)).status).toBe("cancelled");
    expect(value(await runtime.getTask(done.id)).status).toBe("completed");
    expect(value(await runtime.getTask(other.id)).status).toBe("pending");
    // The holder's late report is refused, and the goal takes no new work.
    expect(await runtime.updateTaskStatus({ task_id: held.id, status: "completed", lease_id: claim.lease_id })).toMatchObject({ ok: false, error: { code: "conflict" } });
    expect(await runtime.createTask({ title: "more", goal_id: goal.id })).toMatchObject({ ok: false, error: { code: "failed_precondition" } });
    expect((await next(runtime, { goal_id: goal.id })).task).toBeNull();

    const before = await snapshot(runtime);
    expect(value(await runtime.cancelGoal(goal.id))).toEqual(cancelled);
    expect(await snapshot(runtime)).toEqual(before);
    expect(await runtime.cancelGoal(999)).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});
