/**
 * Editing goals and tasks (SPEC §5 "Editing") against the real Runtime Durable Object: omitted
 * fields keep their value, dependency changes are checked like creation and move the task in or
 * out of the ready queue at once, final tasks refuse edits, and every refused edit changes nothing.
 */
import { describe, expect, it } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import type { Task } from "../src/runtime/tasks/model";
import type { NewTask } from "../src/runtime/tasks/queue";
import { freshRuntime, value, withSql } from "./helpers/runtime";

async function task(runtime: RuntimeApi, input: NewTask): Promise<Task> {
  return value(await runtime.createTask(input));
}

/** Every table an edit could touch, to prove a refused one changed nothing. */
async function snapshot(runtime: RuntimeApi) {
  return withSql(runtime, (sql) => ({
    goals: sql.exec("SELECT * FROM goals ORDER BY id").toArray(),
    tasks: sql.exec("SELECT * FROM tasks ORDER BY id").toArray(),
    deps: sql.exec("SELECT * FROM task_deps ORDER BY task_id, depends_on").toArray(),
    events: sql.exec("SELECT * FROM task_events ORDER BY id").toArray(),
  }));
}

async function refused(runtime: RuntimeApi, edit: Parameters<RuntimeApi["updateTask"]>[0], code: string, message?: RegExp) {
  const before = await snapshot(runtime);
  const outcome = await runtime.updateTask(edit);
  expect(outcome).toMatchObject({ ok: false, error: { code } });
  if (message && !outcome.ok) expect(outcome.error.message).toMatch(message);
  expect(await snapshot(runtime)).toEqual(before);
}

const nextId = async (runtime: RuntimeApi) => value(await runtime.nextTask({})).task?.id ?? null;

describe("update_goal", () => {
  it("changes only the fields given and replaces metadata whole", async () => {
    const runtime = freshRuntime();
    const goal = value(await runtime.createGoal({ name: "old", description: "d", metadata: { a: 1, b: 2 } }));
    const renamed = value(await runtime.updateGoal({ goal_id: goal.id, name: "new" }));
    expect(renamed).toMatchObject({ name: "new", description: "d", metadata: { a: 1, b: 2 }, status: "active" });
    const retagged = value(await runtime.updateGoal({ goal_id: goal.id, metadata: { c: 3 }, description: "more" }));
    expect(retagged).toMatchObject({ name: "new", description: "more", metadata: { c: 3 } });
    expect(value(await runtime.getGoal(goal.id))).toEqual(retagged);
  });

  it("writes nothing when the values are already those", async () => {
    const runtime = freshRuntime();
    const goal = value(await runtime.createGoal({ name: "g", description: "d" }));
    const before = await snapshot(runtime);
    expect(value(await runtime.updateGoal({ goal_id: goal.id, name: "g", description: "d", metadata: {} }))).toEqual(goal);
    expect(await snapshot(runtime)).toEqual(before);
  });

  it("refuses an unknown goal (not_found) and an edit without fields (invalid_argument), changing nothing", async () => {
    const runtime = freshRuntime();
    const goal = value(await runtime.createGoal({ name: "g", description: "d" }));
    const before = await snapshot(runtime);
    expect(await runtime.updateGoal({ goal_id: 999, name: "x" })).toMatchObject({ ok: false, error: { code: "not_found", message: "goal 999 does not exist" } });
    expect(await runtime.updateGoal({ goal_id: goal.id })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await snapshot(runtime)).toEqual(before);
  });
});

describe("update_task: plain fields", () => {
  it("changes title, description, priority, metadata and max_attempts, keeping what is omitted", async () => {
    const runtime = freshRuntime();
    const t = await task(runtime, { title: "t", description: "d", priority: 5, metadata: { a: 1 } });
    const edited = value(await runtime.updateTask({ task_id: t.id, title: "t2", priority: 9 }));
    expect(edited).toMatchObject({ title: "t2", description: "d", priority: 9, metadata: { a: 1 }, max_attempts: 3, status: "pending" });
    const again = value(await runtime.updateTask({ task_id: t.id, description: "d2", metadata: { b: 2 }, max_attempts: 7 }));
    expect(again).toMatchObject({ title: "t2", description: "d2", priority: 9, metadata: { b: 2 }, max_attempts: 7 });
    expect(value(await runtime.getTask(t.id))).toMatchObject(again);
  });

  it("reorders the ready queue at once when the priority changes", async () => {
    const runtime = freshRuntime();
    const first = await task(runtime, { title: "first", priority: 5 });
    const second = await task(runtime, { title: "second", priority: 5 });
    expect(await nextId(runtime)).toBe(first.id);
    await runtime.updateTask({ task_id: second.id, priority: 6 });
    expect(await nextId(runtime)).toBe(second.id);
  });

  it("records each edit in the task's history with what changed, and nothing for an edit that changes nothing", async () => {
    const runtime = freshRuntime();
    const dep = await task(runtime, { title: "dep" });
    const t = await task(runtime, { title: "t", priority: 5 });
    value(await runtime.updateTask({ task_id: t.id, priority: 8, title: "renamed", dependencies: [dep.id] }));
    const [event] = value(await runtime.getTask(t.id)).events;
    expect(event).toMatchObject({ kind: "edited", status: "pending", agent_id: null, count: 1 });
    expect(event.detail).toBe(`edited: title, priority 5 → 8, dependencies [] → [${dep.id}] (blocked by ${dep.id})`);

    const before = await snapshot(runtime);
    value(await runtime.updateTask({ task_id: t.id, priority: 8, title: "renamed", dependencies: [dep.id, dep.id] }));
    expect(await snapshot(runtime)).toEqual(before);
  });

  it("refuses an edit without fields (invalid_argument) and an unknown task (not_found)", async () => {
    const runtime = freshRuntime();
    const t = await task(runtime, { title: "t" });
    await refused(runtime, { task_id: t.id }, "invalid_argument", /nothing to change/);
    await refused(runtime, { task_id: 4242, title: "x" }, "not_found", /task 4242 does not exist/);
  });
});

describe("update_task: dependencies", () => {
  it("takes a pending task out of the ready queue at once when it gains an unfinished dependency", async () => {
    const runtime = freshRuntime();
    const t = await task(runtime, { title: "t", priority: 9 });
    const other = await task(runtime, { title: "other", priority: 1 });
    expect(await nextId(runtime)).toBe(t.id);
    const edited = value(await runtime.updateTask({ task_id: t.id, dependencies: [other.id] }));
    expect(edited).toMatchObject({ dependencies: [other.id], blocked_by: [other.id] });
    expect(await nextId(runtime)).toBe(other.id);
    // And back in once that dependency completes, as for any task.
    await runtime.updateTaskStatus({ task_id: other.id, status: "completed" });
    expect(await nextId(runtime)).toBe(t.id);
  });

  it("puts a blocked task into the ready queue at once when its unfinished dependencies are removed", async () => {
    const runtime = freshRuntime();
    const a = await task(runtime, { title: "a" });
    const done = await task(runtime, { title: "done" });
    await runtime.updateTaskStatus({ task_id: done.id, status: "completed" });
    const t = await task(runtime, { title: "t", priority: 10, dependencies: [a.id, done.id] });
    await runtime.updateTaskStatus({ task_id: a.id, status: "in_progress" });
    expect(value(await runtime.nextTask({}))).toEqual({ task: null, reason: "all_pending_tasks_blocked" });
    const edited = value(await runtime.updateTask({ task_id: t.id, dependencies: [done.id] }));
    expect(edited).toMatchObject({ dependencies: [done.id], blocked_by: [] });
    expect(await nextId(runtime)).toBe(t.id);
    expect(value(await runtime.updateTask({ task_id: t.id, dependencies: [] })).dependencies).toEqual([]);
  });

  it("refuses unknown dependency ids with not_found naming them, changing nothing", async () => {
    const runtime = freshRuntime();
    const a = await task(runtime, { title: "a" });
    const t = await task(runtime, { title: "t" });
    await refused(runtime, { task_id: t.id, dependencies: [a.id, 777, 778], priority: 9 }, "not_found", /task 777, 778 does not exist/);
  });

  it("refuses a task depending on itself with conflict, changing nothing", async () => {
    const runtime = freshRuntime();
    const t = await task(runtime, { title: "t" });
    await refused(runtime, { task_id: t.id, dependencies: [t.id] }, "conflict", /cannot depend on itself/);
  });

  it("refuses a cycle with conflict naming it, changing nothing", async () => {
    const runtime = freshRuntime();
    const a = await task(runtime, { title: "a" });
    const b = await task(runtime, { title: "b", dependencies: [a.id] });
    const c = await task(runtime, { title: "c", dependencies: [b.id] });
    const d = await task(runtime, { title: "d" });
    // a → c would close a → c → b → a.
    await refused(runtime, { task_id: a.id, dependencies: [d.id, c.id] }, "conflict", new RegExp(`cycle .*: ${a.id} → ${c.id} → ${b.id} → ${a.id}$`));
    await refused(runtime, { task_id: a.id, dependencies: [b.id] }, "conflict", new RegExp(`${a.id} → ${b.id} → ${a.id}$`));
  });

  it("finds a cycle through a wide diamond of shared dependencies without walking it twice", async () => {
    const runtime = freshRuntime();
    const root = await task(runtime, { title: "root" });
    // Three layers of ten tasks, each depending on every task of the layer below: 1,000 paths
    // from the top to the root, which the walk must visit only once per task.
    let below = [root.id];
    for (let layer = 0; layer < 3; layer++) {
      const ids: number[] = [];
      for (let i = 0; i < 10; i++) ids.push((await task(runtime, { title: `l${layer}-${i}`, dependencies: below })).id);
      below = ids;
    }
    const outcome = await runtime.updateTask({ task_id: root.id, dependencies: [below[0]] });
    expect(outcome).toMatchObject({ ok: false, error: { code: "conflict" } });
    if (!outcome.ok) expect(outcome.error.message.split(" → ")).toHaveLength(5);
    // Not a cycle: a new task at the top may depend on all of them.
    const top = await task(runtime, { title: "top" });
    expect(value(await runtime.updateTask({ task_id: top.id, dependencies: below })).blocked_by).toHaveLength(10);
  });

  it("lets an in_progress task keep its lease through an edit, and refuses it an unfinished dependency", async () => {
    const runtime = freshRuntime();
    const later = await task(runtime, { title: "later", priority: 1 });
    const done = await task(runtime, { title: "done", priority: 1 });
    await runtime.updateTaskStatus({ task_id: done.id, status: "completed" });
    const t = await task(runtime, { title: "t", priority: 10 });
    const claim = value(await runtime.nextTask({ agent_id: "agent-1" }));
    expect(claim.task!.id).toBe(t.id);

    const edited = value(await runtime.updateTask({ task_id: t.id, title: "sharper title", priority: 3, dependencies: [done.id] }));
    expect(edited).toMatchObject({ status: "in_progress", assigned_to: "agent-1", lease_id: claim.lease_id, lease_expires_at: claim.lease_expires_at });
    expect(value(await runtime.getTask(t.id)).events[0]).toMatchObject({ kind: "edited", agent_id: "agent-1", lease_id: claim.lease_id });
    await refused(runtime, { task_id: t.id, dependencies: [later.id] }, "failed_precondition", new RegExp(`unfinished task ${later.id}`));

    // A claimed task is never handed out again, edited or not; its holder still finishes it.
    expect(value(await runtime.nextTask({ agent_id: "agent-2" })).task!.id).toBe(later.id);
    expect(value(await runtime.nextTask({ agent_id: "agent-3" }))).toMatchObject({ task: null });
    expect(value(await runtime.updateTaskStatus({ task_id: t.id, status: "completed", lease_id: claim.lease_id })).status).toBe("completed");
  });

  it("lets a failed task be edited; it waits for its new dependencies once set back to pending", async () => {
    const runtime = freshRuntime();
    const t = await task(runtime, { title: "t" });
    await runtime.updateTaskStatus({ task_id: t.id, status: "in_progress" });
    await runtime.updateTaskStatus({ task_id: t.id, status: "failed", error: "needs a fix first" });
    const fix = await task(runtime, { title: "fix" });
    value(await runtime.updateTask({ task_id: t.id, dependencies: [fix.id] }));
    await runtime.updateTaskStatus({ task_id: t.id, status: "pending" });
    expect(await nextId(runtime)).toBe(fix.id);
    expect(await runtime.updateTaskStatus({ task_id: t.id, status: "in_progress" })).toMatchObject({ ok: false, error: { code: "failed_precondition" } });
  });
});

describe("update_task: final tasks", () => {
  it("refuses to edit a completed or cancelled task with failed_precondition, changing nothing", async () => {
    const runtime = freshRuntime();
    const done = await task(runtime, { title: "done" });
    await runtime.updateTaskStatus({ task_id: done.id, status: "completed" });
    const cancelled = await task(runtime, { title: "cancelled" });
    await runtime.updateTaskStatus({ task_id: cancelled.id, status: "cancelled" });
    await refused(runtime, { task_id: done.id, title: "x" }, "failed_precondition", /completed, which is final/);
    await refused(runtime, { task_id: cancelled.id, dependencies: [] }, "failed_precondition", /cancelled, which is final/);
  });

  it("leaves the goal's status to its tasks: an edit neither completes nor reopens it", async () => {
    const runtime = freshRuntime();
    const goal = value(await runtime.createGoal({ name: "g", description: "" }));
    const a = await task(runtime, { title: "a", goal_id: goal.id });
    const b = await task(runtime, { title: "b", goal_id: goal.id });
    await runtime.updateTaskStatus({ task_id: a.id, status: "completed" });
    value(await runtime.updateTask({ task_id: b.id, dependencies: [a.id], priority: 2 }));
    expect(value(await runtime.getGoal(goal.id))).toMatchObject({ status: "active", task_counts: { pending: 1, completed: 1 } });
    await runtime.updateTaskStatus({ task_id: b.id, status: "completed" });
    expect(value(await runtime.getGoal(goal.id)).status).toBe("completed");
  });
});
