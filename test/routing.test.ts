/**
 * Routing and data flow in the task graph (SPEC §12; docs/tasks.md): roles decide who may take a
 * task, a claim carries the goal and the dependencies' outcomes, `run_when` decides when a task
 * may run, and a task whose rule can never hold is skipped — against the real Runtime Durable
 * Object, and through the MCP tools where the wire matters (sizes, refusals).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import { MIGRATIONS } from "../src/runtime/kernel/schema";
import type { Runtime } from "../src/runtime/runtime";
import type { Task } from "../src/runtime/tasks/model";
import type { NewTask } from "../src/runtime/tasks/queue";
import { connectAs } from "./helpers/mcp";
import { freshRuntime, snapshot, stubOf, value, withSql } from "./helpers/runtime";

async function task(runtime: RuntimeApi, input: NewTask): Promise<Task> {
  return value(await runtime.createTask(input));
}

const claim = async (runtime: RuntimeApi, agent: string, roles?: string[], goal_id?: number) =>
  value(await runtime.nextTask({ agent_id: agent, ...(roles ? { roles } : {}), ...(goal_id === undefined ? {} : { goal_id }) }));

const finish = async (runtime: RuntimeApi, id: number, status: "completed" | "failed" | "cancelled", text = "") =>
  value(
    await runtime.updateTaskStatus({
      task_id: id,
      status,
      ...(status === "completed" ? { result: text } : { error: text }),
    }),
  );

/** Moves a task from pending through in_progress to `status` by hand. */
async function settle(runtime: RuntimeApi, id: number, status: "completed" | "failed", text = "") {
  value(await runtime.updateTaskStatus({ task_id: id, status: "in_progress" }));
  return finish(runtime, id, status, text);
}

const tokens = (value: unknown) => JSON.stringify(value).length / 4;

describe("roles: who may take a task", () => {
  it("hands a task with a role only to a caller naming it, a task without one to anyone, and nothing with a role to a caller naming none", async () => {
    const rt = freshRuntime("roles");
    const review = await task(rt, { title: "review", role: "reviewer", priority: 9 });
    const code = await task(rt, { title: "code", role: "coder", priority: 8 });
    const chore = await task(rt, { title: "chore", priority: 1 });
    // A caller naming no roles: only the task without one, however low its priority.
    expect((await claim(rt, "plain")).task!.id).toBe(chore.id);
    expect(await claim(rt, "plain")).toEqual({ task: null, reason: "no_task_for_roles", ready_by_role: { coder: 1, reviewer: 1 } });
    expect((await claim(rt, "coder-1", ["coder"])).task).toMatchObject({ id: code.id, role: "coder", assigned_to: "coder-1" });
    expect((await claim(rt, "reviewer-1", ["reviewer", "tester"])).task).toMatchObject({ id: review.id, role: "reviewer" });
  });

  it("keeps the order among what a caller may take: priority, then age, across its roles and the tasks without one", async () => {
    const rt = freshRuntime("roles-order");
    const a = await task(rt, { title: "a", role: "coder", priority: 5 });
    const b = await task(rt, { title: "b", priority: 7 });
    const c = await task(rt, { title: "c", role: "tester", priority: 7 });
    await task(rt, { title: "other", role: "writer", priority: 10 });
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await claim(rt, "both", ["coder", "tester"])).task!.id);
    expect(order).toEqual([b.id, c.id, a.id]);
    // Only the writer's task is left: ready for another role.
    expect(await claim(rt, "both", ["coder", "tester"])).toMatchObject({ task: null, reason: "no_task_for_roles", ready_by_role: { writer: 1 } });
  });

  it("within a goal, says which roles have work there and no other", async () => {
    const rt = freshRuntime("roles-goal");
    const goal = value(await rt.createGoal({ name: "g", description: "d" }));
    await task(rt, { title: "in goal", role: "coder", goal_id: goal.id });
    await task(rt, { title: "elsewhere", role: "writer" });
    expect(await claim(rt, "x", ["tester"], goal.id)).toEqual({ task: null, reason: "no_task_for_roles", ready_by_role: { coder: 1 } });
    expect(await claim(rt, "x", ["coder"], goal.id)).toMatchObject({ task: { title: "in goal" } });
    expect(await claim(rt, "x", ["coder"], goal.id)).toEqual({ task: null, reason: "no_pending_tasks" });
  });

  it("refuses roles naming owner, a role on two lines and one of 65 characters, through the tool, changing nothing", async () => {
    const userId = `roles-refused-${crypto.randomUUID()}`;
    const mcp = await connectAs(userId);
    await mcp.call("create_task", { title: "t" });
    const rt = env.RUNTIME.getByName(userId) as unknown as RuntimeApi;
    const before = await snapshot(rt);
    expect(await mcp.fail("get_next_task", { agent_id: "a", roles: ["coder", "owner"] })).toMatch(/^invalid_argument: roles: "owner" tasks are the owner's decisions/);
    expect(await mcp.fail("get_next_task", { agent_id: "a", roles: ["two\nlines"] })).toMatch(/^invalid_argument: roles\[0\]/);
    expect(await mcp.fail("create_task", { title: "t", role: "x".repeat(65) })).toMatch(/^invalid_argument: role/);
    expect(await snapshot(rt)).toEqual(before);
    await mcp.close();
  });

  it("lists a role's tasks, and shows a task's role in brief lists", async () => {
    const mcp = await connectAs(`roles-list-${crypto.randomUUID()}`);
    const a = await mcp.call("create_task", { title: "a", role: "coder" });
    await mcp.call("create_task", { title: "b" });
    expect(await mcp.call("list_tasks", { role: "coder" })).toEqual({
      tasks: [{ id: a.id, title: "a", status: "pending", priority: 5, role: "coder" }],
      count: 1,
      next_cursor: null,
    });
    await mcp.close();
  });
});

describe("inputs: a claim carries what the task needs to start", () => {
  it("carries the goal and each dependency's title, status and result or error, in order; get_task carries the same", async () => {
    const rt = freshRuntime("inputs");
    const goal = value(await rt.createGoal({ name: "Launch", description: "Ship the API" }));
    const spec = await task(rt, { title: "Spec", goal_id: goal.id });
    const probe = await task(rt, { title: "Probe", goal_id: goal.id });
    await settle(rt, spec.id, "completed", "the spec");
    await settle(rt, probe.id, "failed", "no route to host");
    const next = await task(rt, { title: "Build", goal_id: goal.id, dependencies: [probe.id, spec.id], run_when: "all_finished" });
    const answer = await claim(rt, "builder");
    expect(answer.task!.id).toBe(next.id);
    expect(answer.goal).toEqual({ id: goal.id, name: "Launch", description: "Ship the API" });
    expect(answer.inputs).toEqual([
      { task_id: spec.id, title: "Spec", status: "completed", result: "the spec" },
      { task_id: probe.id, title: "Probe", status: "failed", error: "no route to host" },
    ]);
    const detail = value(await rt.getTask(next.id));
    expect(detail.goal).toEqual(answer.goal);
    expect(detail.inputs).toEqual(answer.inputs);
  });

  it("cuts each text to 2,000 characters, all of them to 8,000, and the goal's description to 1,000, saying where", async () => {
    const rt = freshRuntime("inputs-cut");
    const goal = value(await rt.createGoal({ name: "g", description: "d".repeat(1_500) }));
    const deps: number[] = [];
    for (let i = 0; i < 5; i++) {
      const dep = await task(rt, { title: `dep ${i}`, goal_id: goal.id });
      await settle(rt, dep.id, "completed", `${i}`.repeat(i === 0 ? 1_000 : 2_500));
      deps.push(dep.id);
    }
    await task(rt, { title: "sum", goal_id: goal.id, dependencies: deps });
    const answer = await claim(rt, "a");
    expect(answer.goal).toMatchObject({ description: "d".repeat(1_000), truncated: true });
    const lengths = answer.inputs!.map((i) => [i.result!.length, i.truncated ?? false]);
    // 1,000 whole; then 2,000 cut; 2,000 cut; 2,000 cut; what is left of 8,000: 1,000, cut.
    expect(lengths).toEqual([
      [1_000, false],
      [2_000, true],
      [2_000, true],
      [2_000, true],
      [1_000, true],
    ]);
    // The whole text is one get_task away.
    expect(value(await rt.getTask(deps[4])).result).toHaveLength(2_500);
  });

  it("a claim with three 1,000-character results costs at most 1,200 tokens, one without dependencies or goal at most 250", async () => {
    const mcp = await connectAs(`inputs-size-${crypto.randomUUID()}`);
    const goal = await mcp.call("create_goal", { name: "Launch the public API", description: "Make the API public: docs, keys, limits, a status page." });
    const deps: number[] = [];
    for (const title of ["Write the OpenAPI document", "Set the rate limits", "Draft the announcement"]) {
      const dep = await mcp.call("create_task", { title, goal_id: goal.id, description: "Agents write what they did in the result." });
      await mcp.call("update_task_status", { task_id: dep.id, status: "in_progress" });
      await mcp.call("update_task_status", { task_id: dep.id, status: "completed", result: "r".repeat(1_000) });
      deps.push(dep.id);
    }
    await mcp.call("create_task", { title: "Test the API end to end", goal_id: goal.id, dependencies: deps, description: "Run the suite against staging." });
    const withInputs = await mcp.raw("get_next_task", { agent_id: "tester-1", lease_seconds: 600 });
    expect(JSON.parse(withInputs.content[0].text!).inputs).toHaveLength(3);
    expect(tokens(withInputs.content[0].text)).toBeLessThanOrEqual(1_200);
    await mcp.call("create_task", { title: "Rotate the staging keys" });
    const plain = await mcp.raw("get_next_task", { agent_id: "ops-1", lease_seconds: 600 });
    expect(JSON.parse(plain.content[0].text!).inputs).toBeUndefined();
    expect(tokens(plain.content[0].text)).toBeLessThanOrEqual(250);
    await mcp.close();
  });
});

describe("run_when: when a task may run", () => {
  it("any_completed: the first success among alternatives makes it ready", async () => {
    const rt = freshRuntime("any-completed");
    const mirrorA = await task(rt, { title: "mirror A" });
    const mirrorB = await task(rt, { title: "mirror B" });
    const use = await task(rt, { title: "use the download", dependencies: [mirrorA.id, mirrorB.id], run_when: "any_completed", priority: 10 });
    await settle(rt, mirrorA.id, "failed", "timeout");
    expect(value(await rt.getTask(use.id)).blocked_by).toEqual([mirrorA.id, mirrorB.id]);
    await settle(rt, mirrorB.id, "completed", "ok");
    expect(value(await rt.getTask(use.id)).blocked_by).toEqual([]);
    expect((await claim(rt, "a")).task!.id).toBe(use.id);
  });

  it("any_failed: a recovery task runs exactly when its dependency fails for good, not while it is retried", async () => {
    const rt = freshRuntime("any-failed");
    const deploy = await task(rt, { title: "deploy", retry_backoff_seconds: 60, max_attempts: 2 });
    const rollback = await task(rt, { title: "roll back", dependencies: [deploy.id], run_when: "any_failed", priority: 10 });
    const first = await claim(rt, "deployer");
    value(await rt.updateTaskStatus({ task_id: deploy.id, status: "failed", error: "health check", lease_id: first.lease_id }));
    // Retried after its back-off: not a failure yet.
    expect(value(await rt.getTask(deploy.id)).status).toBe("pending");
    expect(value(await rt.nextTask({}))).toMatchObject({ task: null, reason: "all_pending_tasks_blocked" });
    await withSql(rt, (sql) => sql.exec(`UPDATE tasks SET not_before = ? WHERE id = ?`, Date.now() - 1, deploy.id));
    const second = await claim(rt, "deployer");
    expect(second.task!.id).toBe(deploy.id);
    value(await rt.updateTaskStatus({ task_id: deploy.id, status: "failed", error: "health check again", lease_id: second.lease_id }));
    const recovery = await claim(rt, "operator");
    expect(recovery.task!.id).toBe(rollback.id);
    expect(recovery.inputs).toEqual([{ task_id: deploy.id, title: "deploy", status: "failed", error: "health check again" }]);
  });

  it("all_finished: runs once every dependency has finished, whatever the outcome", async () => {
    const rt = freshRuntime("all-finished");
    const a = await task(rt, { title: "a" });
    const b = await task(rt, { title: "b" });
    const c = await task(rt, { title: "c" });
    const report = await task(rt, { title: "report", dependencies: [a.id, b.id, c.id], run_when: "all_finished", priority: 10 });
    await settle(rt, a.id, "completed");
    await settle(rt, b.id, "failed");
    expect(value(await rt.getTask(report.id)).blocked_by).toEqual([c.id]);
    await finish(rt, c.id, "cancelled");
    expect((await claim(rt, "reporter")).task!.id).toBe(report.id);
  });

  it("refuses a rule other than all_completed without a dependency, and a rule that could never hold, changing nothing", async () => {
    const rt = freshRuntime("rules-refused");
    const gone = await task(rt, { title: "gone" });
    await finish(rt, gone.id, "cancelled");
    const done = await task(rt, { title: "done" });
    await settle(rt, done.id, "completed");
    const before = await snapshot(rt);
    expect(await rt.createTask({ title: "x", run_when: "any_failed" })).toMatchObject({ ok: false, error: { code: "invalid_argument", message: "run_when: any_failed needs at least one dependency" } });
    expect(await rt.createTask({ title: "x", dependencies: [gone.id] })).toMatchObject({ ok: false, error: { code: "failed_precondition" } });
    expect(await rt.createTask({ title: "x", dependencies: [done.id], run_when: "any_failed" })).toMatchObject({ ok: false, error: { code: "failed_precondition" } });
    expect(await snapshot(rt)).toEqual(before);
    const plain = await task(rt, { title: "plain" });
    const snap = await snapshot(rt);
    expect(await rt.updateTask({ task_id: plain.id, run_when: "any_completed" })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(await snapshot(rt)).toEqual(snap);
  });

  it("moves a task in or out of the queue when its rule is edited", async () => {
    const rt = freshRuntime("rules-edited");
    const a = await task(rt, { title: "a" });
    const b = await task(rt, { title: "b" });
    await settle(rt, a.id, "completed");
    const both = await task(rt, { title: "both", dependencies: [a.id, b.id], priority: 10 });
    expect(value(await rt.nextTask({})).task!.id).toBe(b.id);
    value(await rt.updateTask({ task_id: both.id, run_when: "any_completed" }));
    expect(value(await rt.nextTask({})).task!.id).toBe(both.id);
    value(await rt.updateTask({ task_id: both.id, run_when: "all_completed" }));
    expect(value(await rt.nextTask({})).task!.id).toBe(b.id);
  });
});

describe("skipping: no task waits forever for what can no longer happen", () => {
  it("cancels a task whose dependency was cancelled, with the reason and a skipped event, and its dependents in turn", async () => {
    const rt = freshRuntime("skip");
    const goal = value(await rt.createGoal({ name: "g", description: "d" }));
    const design = await task(rt, { title: "Design", goal_id: goal.id });
    const build = await task(rt, { title: "Build", goal_id: goal.id, dependencies: [design.id] });
    const ship = await task(rt, { title: "Ship", goal_id: goal.id, dependencies: [build.id] });
    const cleanup = await task(rt, { title: "Clean up", goal_id: goal.id, dependencies: [build.id, ship.id], run_when: "all_finished" });
    await finish(rt, design.id, "cancelled", "not needed");
    const skipped = value(await rt.getTask(build.id));
    expect(skipped).toMatchObject({ status: "cancelled", error: `skipped: dependency #${design.id} "Design" was cancelled, so not every dependency can complete` });
    expect(skipped.events[0]).toMatchObject({ kind: "skipped", status: "cancelled" });
    expect(value(await rt.getTask(ship.id))).toMatchObject({ status: "cancelled", error: expect.stringMatching(/^skipped: dependency #\d+ "Build" was cancelled/) });
    // The cleanup waits for everything to finish: it runs now.
    expect((await claim(rt, "janitor")).task!.id).toBe(cleanup.id);
    // Skipped tasks count as cancelled.
    expect(value(await rt.getGoal(goal.id)).task_counts).toMatchObject({ cancelled: 3, in_progress: 1 });
  });

  it("skips any_completed when every alternative was cancelled, and any_failed when every dependency settled without failing", async () => {
    const rt = freshRuntime("skip-rules");
    const a = await task(rt, { title: "a" });
    const b = await task(rt, { title: "b" });
    const either = await task(rt, { title: "either", dependencies: [a.id, b.id], run_when: "any_completed" });
    const recover = await task(rt, { title: "recover", dependencies: [a.id, b.id], run_when: "any_failed" });
    await finish(rt, a.id, "cancelled");
    expect(value(await rt.getTask(either.id)).status).toBe("pending");
    await settle(rt, b.id, "completed");
    expect(value(await rt.getTask(recover.id))).toMatchObject({ status: "cancelled", error: expect.stringMatching(/^skipped: every dependency settled without failing/) });
    expect(value(await rt.getTask(either.id)).status).toBe("pending");
    const c = await task(rt, { title: "c" });
    const d = await task(rt, { title: "d" });
    const alt = await task(rt, { title: "alt", dependencies: [c.id, d.id], run_when: "any_completed" });
    await finish(rt, c.id, "cancelled");
    await finish(rt, d.id, "cancelled");
    expect(value(await rt.getTask(alt.id))).toMatchObject({ status: "cancelled", error: expect.stringMatching(/^skipped: every dependency was cancelled/) });
  });

  it("keeps a task waiting on a failed dependency pending, showing it in blocked_by: a failure may be retried", async () => {
    const rt = freshRuntime("failed-dep");
    const flaky = await task(rt, { title: "flaky" });
    const after = await task(rt, { title: "after", dependencies: [flaky.id] });
    await settle(rt, flaky.id, "failed", "boom");
    expect(value(await rt.getTask(after.id))).toMatchObject({ status: "pending", blocked_by: [flaky.id] });
    value(await rt.updateTaskStatus({ task_id: flaky.id, status: "pending" }));
    await settle(rt, flaky.id, "completed");
    expect((await claim(rt, "a")).task!.id).toBe(after.id);
  });

  it("finishes a chain of 10,000 skips in bounded batches on the alarm, never handing out a task that waits for its skip", { timeout: 120_000 }, async () => {
    const rt = freshRuntime("skip-chain");
    const run = await runInDurableObject(stubOf(rt), async (instance: Runtime, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      // A chain: each link waits for the one before; the first is ready.
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
         INSERT INTO tasks (title, status, priority, dep_count, unmet_deps, hold, created_at, updated_at)
         SELECT 'link ' || i, 'pending', 10, min(i, 1), min(i, 1), min(i, 1), ?, ? FROM n`,
        now,
        now,
      );
      sql.exec(`INSERT INTO task_deps (task_id, depends_on) SELECT id, id - 1 FROM tasks WHERE title != 'link 0'`);
      const head = sql.exec<{ id: number }>(`SELECT id FROM tasks WHERE title = 'link 0'`).one().id;
      const last = sql.exec<{ id: number }>(`SELECT max(id) AS id FROM tasks`).one().id;
      const tail = value(await instance.createTask({ title: "after the chain", dependencies: [last], run_when: "all_finished", priority: 1 }));
      value(await instance.createTask({ title: "other work", priority: 1 }));
      const left = () => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE status = 'pending' AND title LIKE 'link %'`).one().n;
      value(await instance.updateTaskStatus({ task_id: head, status: "cancelled" }));
      const afterWrite = left();
      // A hand-out meanwhile takes another batch, and never the links that wait for their skip.
      const handedOut = value(await instance.nextTask({ agent_id: "a" })).task?.title;
      const afterHandOut = left();
      // One delivery of the alarm: one bounded batch, and the alarm set again at once.
      await instance.alarm();
      return { afterWrite, handedOut, afterHandOut, afterAlarm: left(), alarm: await state.storage.getAlarm(), now: Date.now(), tail: tail.id };
    });
    expect(run).toMatchObject({ afterWrite: 10_000 - 100, handedOut: "other work", afterHandOut: 10_000 - 600, afterAlarm: 10_000 - 1_100 });
    expect(run.alarm).toBeLessThanOrEqual(run.now);
    // Nobody calls anything now: the alarm fires again until every link is skipped.
    await vi.waitFor(
      async () => expect(await withSql(rt, (sql) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE status = 'cancelled'`).one().n)).toBe(10_001),
      { timeout: 60_000, interval: 100 },
    );
    expect((await claim(rt, "b")).task!.id).toBe(run.tail);
  });
});

describe("existing data migrates", () => {
  it("keeps today's rule and no role for every task, counts dependencies by outcome, and judges a task waiting on a cancelled one as never", async () => {
    const rt = freshRuntime("migrate");
    const migration = MIGRATIONS.find((m) => m.name === "008_task_routing")!;
    // The statements that fill the new columns for tasks written before them.
    const backfill = migration.sql.match(/UPDATE tasks SET[\s\S]*?;/g)!;
    expect(backfill).toHaveLength(2);
    const judged = await withSql(rt, (sql) => {
      const now = Date.now();
      const insert = (title: string, status: string, unmet: number) =>
        sql.exec<{ id: number }>(
          `INSERT INTO tasks (title, status, priority, unmet_deps, created_at, updated_at) VALUES (?, ?, 5, ?, ?, ?) RETURNING id`,
          title,
          status,
          unmet,
          now,
          now,
        ).one().id;
      const done = insert("done", "completed", 0);
      const failed = insert("failed", "failed", 0);
      const gone = insert("gone", "cancelled", 0);
      const ready = insert("ready", "pending", 0);
      const waiting = insert("waiting", "pending", 1);
      const doomed = insert("doomed", "pending", 1);
      const edges: [number, number][] = [
        [ready, done],
        [waiting, done],
        [waiting, failed],
        [doomed, gone],
      ];
      for (const [task, dep] of edges) sql.exec(`INSERT INTO task_deps (task_id, depends_on) VALUES (?, ?)`, task, dep);
      for (const statement of backfill) sql.exec(statement);
      return sql
        .exec(`SELECT title, role, run_when, dep_count, unmet_deps, failed_deps, cancelled_deps, hold FROM tasks WHERE title IN ('ready', 'waiting', 'doomed') ORDER BY id`)
        .toArray();
    });
    expect(judged).toEqual([
      { title: "ready", role: null, run_when: "all_completed", dep_count: 1, unmet_deps: 0, failed_deps: 0, cancelled_deps: 0, hold: 0 },
      { title: "waiting", role: null, run_when: "all_completed", dep_count: 2, unmet_deps: 1, failed_deps: 1, cancelled_deps: 0, hold: 1 },
      { title: "doomed", role: null, run_when: "all_completed", dep_count: 1, unmet_deps: 1, failed_deps: 0, cancelled_deps: 1, hold: 3 },
    ]);
    // The next hand-out skips the one that can never run.
    value(await rt.nextTask({}));
    expect(await withSql(rt, (sql) => sql.exec(`SELECT status, error FROM tasks WHERE title = 'doomed'`).one())).toMatchObject({
      status: "cancelled",
      error: expect.stringMatching(/^skipped: /),
    });
  });
});
