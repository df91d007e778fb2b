/**
 * The goal/task queue of SPEC §5, against the real Runtime Durable Object and its SQLite.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import { markGoalCancelled } from "../src/runtime/goals/goals";
import { cancelGoal } from "../src/runtime/tasks/cancel";
import { updateTaskStatus } from "../src/runtime/tasks/status";
import type { Task } from "../src/runtime/tasks/model";
import type { NewTask } from "../src/runtime/tasks/queue";
import { alarmAt, freshRuntime, snapshot, stubOf, value, withSql } from "./helpers/runtime";

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

  it("was updated when its tasks last changed: created, moved or edited; never moved back", async () => {
    const runtime = freshRuntime();
    const goal = value(await runtime.createGoal({ name: "g", description: "" }));
    const updatedAt = async () => value(await runtime.getGoal(goal.id)).updated_at;
    // Time is moved by setting the goal's stored time, not by waiting.
    const setUpdatedAt = (ms: number) => withSql(runtime, (sql) => sql.exec(`UPDATE goals SET updated_at = ? WHERE id = ?`, ms, goal.id));
    const longAgo = Date.parse("2020-01-01T00:00:00.000Z");

    await setUpdatedAt(longAgo);
    const a = await task(runtime, { title: "a", goal_id: goal.id });
    expect(await updatedAt()).toBe(a.updated_at);

    await setUpdatedAt(longAgo);
    const started = value(await runtime.updateTaskStatus({ task_id: a.id, status: "in_progress" }));
    expect(await updatedAt()).toBe(started.updated_at);

    await setUpdatedAt(longAgo);
    const edited = value(await runtime.updateTask({ task_id: a.id, title: "a, renamed" }));
    expect(await updatedAt()).toBe(edited.updated_at);

    // The status stays active throughout: the time moved without a change of status.
    expect(value(await runtime.getGoal(goal.id)).status).toBe("active");

    const later = Date.now() + 3600_000;
    await setUpdatedAt(later);
    await runtime.updateTaskStatus({ task_id: a.id, status: "completed" });
    expect(await updatedAt()).toBe(new Date(later).toISOString());
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

  it("cancels a goal of 20,000 tasks in one call: every unfinished one with its event, no lease left, the alarm re-derived", async () => {
    // Once a recount per task (quadratic): a goal this size took minutes of CPU. npm run bench times 50,000.
    const runtime = freshRuntime();
    const goal = value(await runtime.createGoal({ name: "big", description: "" }));
    const leaseEnd = Date.now() + 3600_000;
    await withSql(runtime, (sql) =>
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999)
         INSERT INTO tasks (goal_id, title, status, priority, assigned_to, attempt, lease_id, lease_expires_at, lease_seconds, created_at, updated_at)
         SELECT ?, 'task ' || i, CASE i % 4 WHEN 0 THEN 'in_progress' WHEN 1 THEN 'completed' ELSE 'pending' END, 5,
           CASE WHEN i % 4 = 0 THEN 'agent' END, CASE WHEN i % 4 IN (0, 1) THEN 1 ELSE 0 END,
           CASE WHEN i % 4 = 0 THEN 'ls_' || i END, CASE WHEN i % 4 = 0 THEN ? END, CASE WHEN i % 4 = 0 THEN 3600 END, 0, 0 FROM n`,
        goal.id,
        leaseEnd,
      ),
    );
    value(await runtime.createTask({ title: "arms the alarm for the leases" }));
    expect(await alarmAt(runtime)).toBe(leaseEnd);

    const cancelled = value(await runtime.cancelGoal(goal.id, "too big"));
    expect(cancelled).toMatchObject({ status: "cancelled", task_counts: { pending: 0, in_progress: 0, failed: 0, completed: 5000, cancelled: 15000 } });
    const stored = await withSql(runtime, (sql) => ({
      leases: sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE lease_id IS NOT NULL OR lease_expires_at IS NOT NULL`).one().n,
      events: sql.exec<{ n: number }>(`SELECT count(*) AS n FROM task_events WHERE kind = 'status_changed' AND status = 'cancelled'`).one().n,
      heldBy: sql.exec<{ n: number }>(`SELECT count(*) AS n FROM task_events WHERE detail = 'in_progress → cancelled' AND agent_id = 'agent' AND lease_id LIKE 'ls_%'`).one().n,
    }));
    expect(stored).toEqual({ leases: 0, events: 15000, heldBy: 5000 });
    expect(await alarmAt(runtime)).toBeNull();
  });

  it("writes exactly what cancelling each unfinished task by hand writes: events, leases, bounded history, probes", async () => {
    const runtime = freshRuntime();
    const goal = value(await runtime.createGoal({ name: "g", description: "" }));
    const other = value(await runtime.createGoal({ name: "other", description: "" }));
    const ids: number[] = [];
    for (let i = 0; i < 40; i++) ids.push((await task(runtime, { title: `t${i}`, goal_id: goal.id, priority: 10, dependencies: i % 5 === 4 ? [ids[i - 1]] : [] })).id);
    await task(runtime, { title: "other goal", goal_id: other.id, priority: 10 });
    await task(runtime, { title: "no goal", priority: 10 });
    // A task with a full history (50 events), so the cancel's event pushes out its oldest.
    for (let i = 0; i < 25; i++) {
      const { lease_id, task: claimed } = await next(runtime, { agent_id: `busy-${i}` });
      value(await runtime.updateTaskStatus({ task_id: claimed!.id, status: "pending", lease_id }));
    }
    // Claimed under leases, one of them a probe of a HALF_OPEN agent; started by hand; failed; done; cancelled.
    value(await runtime.tripBreaker("prober", "test"));
    await withSql(runtime, (sql) => sql.exec(`UPDATE breakers SET cooldown_until = ? WHERE agent_id = 'prober'`, Date.now() - 1));
    expect((await next(runtime, { agent_id: "prober" })).probe_expires_at).toBeDefined();
    for (const agent of ["a", "b", "c"]) await next(runtime, { agent_id: agent, goal_id: goal.id });
    value(await runtime.updateTaskStatus({ task_id: ids[10], status: "in_progress" }));
    value(await runtime.updateTaskStatus({ task_id: ids[11], status: "in_progress", result: "partial" }));
    value(await runtime.updateTaskStatus({ task_id: ids[11], status: "failed", error: "boom" }));
    value(await runtime.updateTaskStatus({ task_id: ids[12], status: "completed", result: "kept" }));
    value(await runtime.updateTaskStatus({ task_id: ids[13], status: "cancelled" }));

    const compared = await runInDurableObject(stubOf(runtime), (_instance, state) => {
      const sql = state.storage.sql;
      const now = Date.now() + 1000;
      const tables = () => ({
        goals: sql.exec("SELECT * FROM goals ORDER BY id").toArray(),
        tasks: sql.exec("SELECT * FROM tasks ORDER BY id").toArray(),
        // By task: the two ways number the same events in different orders.
        events: sql.exec("SELECT task_id, at, kind, agent_id, lease_id, attempt, status, detail, count FROM task_events ORDER BY task_id, id").toArray(),
        deps: sql.exec("SELECT * FROM task_deps ORDER BY task_id, depends_on").toArray(),
        breakers: sql.exec("SELECT * FROM breakers ORDER BY agent_id").toArray(),
        probes: sql.exec("SELECT * FROM breaker_probes ORDER BY id").toArray(),
      });
      /** Runs `cancel` in a transaction, reads every table, and rolls it all back. */
      const attempt = (cancel: () => void) => {
        let seen: ReturnType<typeof tables> | null = null;
        try {
          state.storage.transactionSync(() => {
            cancel();
            seen = tables();
            throw new Error("roll back");
          });
        } catch (error) {
          if (!(error instanceof Error) || error.message !== "roll back") throw error;
        }
        return seen!;
      };
      const before = tables();
      const setBased = attempt(() => cancelGoal(sql, goal.id, "scope cut", now));
      // Cancelling by hand, task by task, as cancel_goal once did — dependents first, so that
      // none is skipped (its dependency cancelled) before its own turn comes.
      const byHand = attempt(() => {
        markGoalCancelled(sql, goal.id, now);
        const open = sql.exec<{ id: number }>(`SELECT id FROM tasks WHERE goal_id = ? AND status IN ('pending', 'in_progress', 'failed') ORDER BY id DESC`, goal.id).toArray();
        for (const { id } of open) updateTaskStatus(sql, { task_id: id, status: "cancelled", error: `goal ${goal.id} was cancelled: scope cut` }, now);
      });
      return { before, setBased, byHand, unchanged: tables() };
    });
    expect(compared.setBased).toEqual(compared.byHand);
    expect(compared.unchanged).toEqual(compared.before);
    // And it did something: every unfinished task cancelled with an event, no lease left, history bounded.
    const cancelled = compared.setBased.tasks.filter((t) => t.goal_id === goal.id && t.status === "cancelled");
    expect(cancelled).toHaveLength(39); // 40, less the completed one (one was already cancelled)
    expect(cancelled.every((t) => t.lease_id === null && t.lease_expires_at === null)).toBe(true);
    const perTask = new Map<unknown, number>();
    for (const e of compared.setBased.events) perTask.set(e.task_id, (perTask.get(e.task_id) ?? 0) + 1);
    expect(Math.max(...perTask.values())).toBe(50);
    expect(compared.setBased.probes).toEqual(compared.before.probes);
  });
});
