/**
 * Leases, heartbeats and crash recovery for claimed tasks (docs/tasks.md).
 *
 * Leases are made to run out without waiting: a test rewrites `lease_expires_at` into the past
 * with SQL (`backdate`) and then fires the alarm with `runDurableObjectAlarm`. That runs the
 * Runtime's `alarm()` at once whenever an alarm is set — and one is, since the claim armed it for
 * the original expiry — and `alarm()` decides what is due from the data, not from when it was
 * scheduled. So the test exercises the real alarm path without depending on the clock. A test
 * that needs `alarm()` delivered again (at-least-once) calls it on the instance directly.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import type { Outcome } from "../src/runtime/kernel/errors";
import { leaseMinSeconds } from "../src/runtime/tasks/leases";
import type { Runtime } from "../src/runtime/runtime";
import { connectAs, hintsOf } from "./helpers/mcp";
import { alarmAt, fireAlarm, freshRuntime, snapshot, value, withSql } from "./helpers/runtime";

/** A fresh user's Runtime, as the tools see it (`rt`) and as a stub for the test helpers. */
function open(name: string) {
  const rt = freshRuntime(`leases-${name}`);
  return { rt, stub: rt as unknown as DurableObjectStub<Runtime> };
}
type Stub = DurableObjectStub<Runtime>;

const ok = async <T>(outcome: Promise<Outcome<T>> | Outcome<T>): Promise<T> => value(await outcome);

async function refused<T>(outcome: Promise<Outcome<T>> | Outcome<T>): Promise<string> {
  const result = await outcome;
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  return `${result.error.code}: ${result.error.message}`;
}

/** Moves the expiry of the given tasks' leases (all leases when omitted) into the past. */
function backdate(stub: Stub, taskIds?: number[]): Promise<void> {
  return runInDurableObject(stub, (_: Runtime, state) => {
    const past = Date.now() - 1;
    if (taskIds) {
      state.storage.sql.exec(`UPDATE tasks SET lease_expires_at = ? WHERE id IN (SELECT value FROM json_each(?))`, past, JSON.stringify(taskIds));
    } else {
      state.storage.sql.exec(`UPDATE tasks SET lease_expires_at = ? WHERE lease_expires_at IS NOT NULL`, past);
    }
  });
}

const rowOf = (stub: Stub, taskId: number) =>
  runInDurableObject(stub, (_: Runtime, state) => state.storage.sql.exec(`SELECT * FROM tasks WHERE id = ?`, taskId).one());

async function claim(rt: RuntimeApi, agent: string, lease_seconds?: number) {
  const answer = await ok(rt.nextTask({ agent_id: agent, lease_seconds }));
  if (!answer.task) throw new Error(`nothing to claim: ${answer.reason}`);
  return { task: answer.task, lease: answer.lease_id!, expires: answer.lease_expires_at! };
}

describe("claiming under a lease", () => {
  it("a claim answers with its lease beside the task and on it, 30 minutes by default, and arms the alarm for its end", async () => {
    const { rt } = open("claim");
    await ok(rt.createTask({ title: "t" }));
    const before = Date.now();
    const answer = await ok(rt.nextTask({ agent_id: "agent-a" }));
    expect(answer.lease_id).toMatch(/^ls_[a-z2-7]{16}$/);
    expect(answer.task).toMatchObject({ status: "in_progress", assigned_to: "agent-a", attempt: 1, lease_id: answer.lease_id });
    expect(answer.task!.lease_expires_at).toBe(answer.lease_expires_at);
    const expires = Date.parse(answer.lease_expires_at!);
    expect(expires - before).toBeGreaterThanOrEqual(1800_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(1800_000);
    expect(await alarmAt(rt)).toBe(expires);
  });

  it("looking without an agent_id claims nothing and carries no lease", async () => {
    const { rt } = open("peek");
    await ok(rt.createTask({ title: "t" }));
    const answer = await ok(rt.nextTask({}));
    expect(answer.task?.status).toBe("pending");
    expect(answer.lease_id).toBeUndefined();
    expect(await alarmAt(rt)).toBeNull();
  });
});

describe("a lease that runs out", () => {
  it("returns the task to the queue, claimable again, with its attempt count and progress note kept", async () => {
    const { stub, rt } = open("expiry");
    const { id } = await ok(rt.createTask({ title: "t" }));
    const first = await claim(rt, "agent-a", 120);
    await ok(rt.heartbeatTask({ task_id: id, lease_id: first.lease, progress: "step 2 of 5 done" }));
    await backdate(stub);
    expect(await fireAlarm(rt)).toBe(true);

    const released = await ok(rt.getTask(id));
    expect(released).toMatchObject({
      status: "pending",
      assigned_to: null,
      attempt: 1,
      lease_id: null,
      lease_expires_at: null,
      progress: "step 2 of 5 done",
    });
    expect(released.events[0]).toMatchObject({ kind: "lease_expired", agent_id: "agent-a", status: "pending", attempt: 1 });
    expect(await alarmAt(rt)).toBeNull(); // nothing left to wait for

    const second = await claim(rt, "agent-b");
    expect(second.task).toMatchObject({ id, assigned_to: "agent-b", attempt: 2, progress: "step 2 of 5 done" });
    expect(second.lease).not.toBe(first.lease);
  });

  it("is kept alive by a heartbeat: the alarm moves with it and an early alarm releases nothing", async () => {
    const { rt } = open("heartbeat");
    const { id } = await ok(rt.createTask({ title: "t" }));
    const { lease, expires } = await claim(rt, "agent-a", 60);
    const beat = await ok(rt.heartbeatTask({ task_id: id, lease_id: lease, extend_seconds: 3600 }));
    const extended = Date.parse(beat.lease_expires_at);
    expect(extended).toBeGreaterThan(Date.parse(expires));
    expect(extended - Date.now()).toBeGreaterThan(3500_000);
    expect(await alarmAt(rt)).toBe(extended);

    // The alarm run now (as a late delivery of the old one would) finds nothing due.
    await fireAlarm(rt);
    expect(await ok(rt.getTask(id))).toMatchObject({ status: "in_progress", lease_id: lease, assigned_to: "agent-a" });
    expect(await alarmAt(rt)).toBe(extended);
  });

  it("is extended by the claimed length when a heartbeat names none", async () => {
    const { rt } = open("default-extend");
    const { id } = await ok(rt.createTask({ title: "t" }));
    const { lease } = await claim(rt, "agent-a", 120);
    const before = Date.now();
    const beat = await ok(rt.heartbeatTask({ task_id: id, lease_id: lease }));
    const length = Date.parse(beat.lease_expires_at) - before;
    expect(length).toBeGreaterThanOrEqual(120_000);
    expect(length).toBeLessThan(1800_000); // not the 30-minute default
    expect(beat.progress).toBeNull();
  });

  it("fails the task on its last attempt with an error that says so, and its dependents stay blocked", async () => {
    const { stub, rt } = open("max-attempts");
    const { id } = await ok(rt.createTask({ title: "flaky", max_attempts: 2, priority: 10 }));
    const dependent = await ok(rt.createTask({ title: "after", dependencies: [id] }));

    await claim(rt, "agent-a");
    await backdate(stub);
    await fireAlarm(rt);
    expect(await ok(rt.getTask(id))).toMatchObject({ status: "pending", attempt: 1 });

    await claim(rt, "agent-b");
    await backdate(stub);
    await fireAlarm(rt);
    const failed = await ok(rt.getTask(id));
    expect(failed).toMatchObject({ status: "failed", attempt: 2, max_attempts: 2, lease_id: null, assigned_to: "agent-b" });
    expect(failed.error).toMatch(/lease expired on attempt 2 of 2 \(max_attempts reached\)/);
    // Newest first: the expiry failed it, and it stays failed (parked: its attempts are used up).
    expect(failed.events[0]).toMatchObject({ kind: "parked", status: "failed" });
    expect(failed.events[0].detail).toMatch(/attempts are used up \(2 of 2\)/);
    expect(failed.events[1]).toMatchObject({ kind: "lease_expired", status: "failed" });

    expect(await ok(rt.getTask(dependent.id))).toMatchObject({ status: "pending", blocked_by: [id] });
    expect(await ok(rt.nextTask({ agent_id: "agent-c" }))).toEqual({ task: null, reason: "all_pending_tasks_blocked" });
  });

  it("is lost once its expiry has passed, even before the alarm has released the task", async () => {
    const { stub, rt } = open("late-alarm");
    const { id } = await ok(rt.createTask({ title: "t" }));
    const { lease } = await claim(rt, "agent-a");
    await backdate(stub); // expired, but no alarm has run

    expect(await refused(rt.heartbeatTask({ task_id: id, lease_id: lease }))).toMatch(/^conflict: .*lease .* is lost: the lease expired at /);
    expect(await refused(rt.updateTaskStatus({ task_id: id, status: "completed", result: "late", lease_id: lease }))).toMatch(/^conflict: /);
    expect(await ok(rt.getTask(id))).toMatchObject({ status: "in_progress", result: null, lease_id: lease });

    // Whoever asks for work next gets it: get_next_task releases expired leases itself.
    const next = await claim(rt, "agent-b");
    expect(next.task).toMatchObject({ id, attempt: 2, assigned_to: "agent-b" });
  });
});

describe("fencing a holder that lost its lease", () => {
  it("a stale holder's completion is refused and changes nothing, while the new holder's succeeds", async () => {
    const { stub, rt } = open("fencing");
    const { id } = await ok(rt.createTask({ title: "t" }));
    const a = await claim(rt, "agent-a");
    await backdate(stub);
    await fireAlarm(rt);
    const b = await claim(rt, "agent-b");

    const stale = await refused(rt.updateTaskStatus({ task_id: id, status: "completed", result: "from a", lease_id: a.lease }));
    expect(stale).toMatch(/^conflict: task \d+: lease ls_\w+ is lost: the task was claimed again, by agent-b \(attempt 2\)$/);
    expect(await refused(rt.heartbeatTask({ task_id: id, lease_id: a.lease, progress: "from a" }))).toMatch(/^conflict: /);
    expect(await ok(rt.getTask(id))).toMatchObject({ status: "in_progress", assigned_to: "agent-b", lease_id: b.lease, result: null, progress: null });

    const done = await ok(rt.updateTaskStatus({ task_id: id, status: "completed", result: "from b", lease_id: b.lease }));
    expect(done).toMatchObject({ status: "completed", result: "from b", lease_id: null, lease_expires_at: null });
    // Finished: every lease is refused now, with the reason.
    expect(await refused(rt.updateTaskStatus({ task_id: id, status: "failed", lease_id: b.lease }))).toMatch(/is lost: the task is completed$/);
    expect(await alarmAt(rt)).toBeNull();
  });

  it("a heartbeat with a lease that is not the task's is a conflict and changes nothing", async () => {
    const { rt } = open("wrong-lease");
    const { id } = await ok(rt.createTask({ title: "t" }));
    const { lease, expires } = await claim(rt, "agent-a");
    expect(await refused(rt.heartbeatTask({ task_id: id, lease_id: "ls_aaaaaaaaaaaaaaaa", progress: "x", extend_seconds: 86400 }))).toMatch(
      /^conflict: .*is lost: the task was claimed again, by agent-a/,
    );
    expect(await ok(rt.getTask(id))).toMatchObject({ lease_id: lease, lease_expires_at: expires, progress: null });
    expect(await refused(rt.heartbeatTask({ task_id: 999, lease_id: lease }))).toMatch(/^not_found: /);
  });

  it("a task set back to pending by hand is claimable at once, and no lease survives it", async () => {
    const { rt } = open("manual-pending");
    const { id } = await ok(rt.createTask({ title: "t" }));
    const a = await claim(rt, "agent-a");
    await ok(rt.updateTaskStatus({ task_id: id, status: "pending" }));
    expect(await alarmAt(rt)).toBeNull();
    expect(await refused(rt.heartbeatTask({ task_id: id, lease_id: a.lease }))).toMatch(/is lost: the lease ended .* back in the queue$/);
    const b = await claim(rt, "agent-b");
    expect(b.task).toMatchObject({ id, attempt: 2 });
  });

  it("a task failed by hand is not claimable and keeps no lease", async () => {
    const { rt } = open("manual-failed");
    const { id } = await ok(rt.createTask({ title: "t" }));
    await claim(rt, "agent-a");
    const failed = await ok(rt.updateTaskStatus({ task_id: id, status: "failed", error: "gave up" }));
    expect(failed).toMatchObject({ status: "failed", lease_id: null, lease_expires_at: null });
    expect(await alarmAt(rt)).toBeNull();
    expect(await ok(rt.nextTask({ agent_id: "agent-b" }))).toEqual({ task: null, reason: "no_pending_tasks" });
  });

  it("the holder can hand its task back with its lease; without a lease id the owner keeps manual control", async () => {
    const { rt } = open("release");
    const { id } = await ok(rt.createTask({ title: "t" }));
    const a = await claim(rt, "agent-a");
    expect(await ok(rt.updateTaskStatus({ task_id: id, status: "pending", lease_id: a.lease }))).toMatchObject({ status: "pending", assigned_to: null });
    await claim(rt, "agent-b");
    // The owner finishes it by hand, no lease needed (the seed's behaviour).
    expect(await ok(rt.updateTaskStatus({ task_id: id, status: "completed", result: "by hand" }))).toMatchObject({ status: "completed" });
  });
});

describe("the alarm", () => {
  it("is armed for the earliest expiry among thousands of leases and re-armed after each run", async () => {
    const { stub, rt } = open("thousands");
    const count = 3000;
    const base = Date.now() + 3600_000;
    // 3000 claimed tasks whose expiries are base + k seconds, k a permutation of 0..2999
    // (7919 is prime, so i*7919 mod 3000 hits every k once) — the earliest is not the first row.
    await runInDurableObject(stub, (_: Runtime, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
         INSERT INTO tasks (title, status, priority, created_at, updated_at, assigned_to, attempt, lease_id, lease_expires_at, lease_seconds)
         SELECT 'bulk ' || i, 'in_progress', 5, ?, ?, 'bulk-agent', 1, 'ls_bulk' || i, ? + ((i * 7919) % ?) * 1000, 3600 FROM n`,
        count,
        Date.now(),
        Date.now(),
        base,
        count,
      );
    });
    await ok(rt.createTask({ title: "any write re-derives the alarm" }));
    expect(await alarmAt(rt)).toBe(base);

    // 1,000 leases run out at once: one run releases a bounded batch (500) and re-arms at once for
    // the rest, which are still due; the next run releases those and re-arms for the next expiry.
    // Each run and its checks happen in one callback: an alarm set in the past is delivered for
    // real right away, and must not slip in between a run and what the test reads after it.
    await runInDurableObject(stub, (_: Runtime, state) => {
      state.storage.sql.exec(`UPDATE tasks SET lease_expires_at = ? WHERE lease_expires_at < ?`, Date.now() - 1, base + 1000 * 1000);
    });
    const runAlarm = () =>
      runInDurableObject(stub, async (instance: Runtime, state) => {
        await instance.alarm();
        const released = state.storage.sql
          .exec<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE title LIKE 'bulk %' AND status = 'pending'`)
          .one().n;
        return { released, alarm: await state.storage.getAlarm(), now: Date.now() };
      });
    const first = await runAlarm();
    expect(first.released).toBe(500);
    expect(first.alarm).toBeLessThanOrEqual(first.now);
    // Whether or not the real alarm got there first, after a run everything due is released.
    const second = await runAlarm();
    expect(second.released).toBe(1000);
    expect(second.alarm).toBe(base + 1000 * 1000);
  });

  it("handles a backlog of expired leases and due breakers in bounded batches, re-firing by itself until all are done", async () => {
    const { stub, rt } = open("backlog");
    const count = 1_200; // more than two batches of LIMITS.expiriesPerRun (500) in each area
    const past = Date.now() - 60_000;
    const run = await runInDurableObject(stub, async (instance: Runtime, state) => {
      const sql = state.storage.sql;
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
         INSERT INTO tasks (title, status, priority, created_at, updated_at, assigned_to, attempt, lease_id, lease_expires_at, lease_seconds)
         SELECT 'held ' || i, 'in_progress', 5, ?, ?, 'crashed-' || i, 1, 'ls_backlog' || i, ? - i, 60 FROM n`,
        count, past, past, past,
      );
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
         INSERT INTO breakers (agent_id, state, failure_threshold, window_seconds, cooldown_seconds, half_open_max_calls, success_threshold,
           probe_timeout_seconds, fallback_agent, failures_since, state_changed_at, opened_at, cooldown_until, trip_count, created_at, updated_at)
         SELECT 'agent-' || i, 'OPEN', 5, 60, 300, 3, 2, 60, 'generalist', ?, ?, ?, ? - i, 1, ?, ? FROM n`,
        count, past, past, past, past, past, past,
      );
      // One delivery of the alarm: one bounded batch in each area, and the alarm set again at once.
      await instance.alarm();
      return {
        released: sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE status = 'pending'`).one().n,
        halfOpen: sql.exec<{ n: number }>(`SELECT count(*) AS n FROM breakers WHERE state = 'HALF_OPEN'`).one().n,
        alarm: await state.storage.getAlarm(),
        now: Date.now(),
      };
    });
    expect(run).toMatchObject({ released: 500, halfOpen: 500 });
    expect(run.alarm).toBeLessThanOrEqual(run.now);

    // Nobody calls anything now: the alarm, re-armed in the past, fires again until nothing is due.
    const backlog = () =>
      withSql(rt, (sql) => ({
        held: sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE status = 'in_progress'`).one().n,
        open: sql.exec<{ n: number }>(`SELECT count(*) AS n FROM breakers WHERE state = 'OPEN'`).one().n,
      }));
    await vi.waitFor(async () => expect(await backlog()).toEqual({ held: 0, open: 0 }), { timeout: 30_000, interval: 50 });
    expect(await alarmAt(rt)).toBeNull();
    const history = await withSql(rt, (sql) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM task_events WHERE kind = 'lease_expired'`).one().n);
    expect(history).toBe(count); // each lease released once, however many runs it took
  });

  it("is the earliest due time over leases and circuit breakers together", async () => {
    const { rt } = open("with-breakers");
    const tripped = await ok(rt.tripBreaker("agent-x", "test"));
    expect(tripped.new_state).toBe("OPEN");
    const cooldownEnd = await alarmAt(rt); // the breaker's cooldown (300 s by default)
    expect(cooldownEnd).toBeGreaterThan(Date.now());

    const { id } = await ok(rt.createTask({ title: "t" }));
    const { expires } = await claim(rt, "agent-a", 60); // ends before the cooldown
    expect(await alarmAt(rt)).toBe(Date.parse(expires));

    await ok(rt.heartbeatTask({ task_id: id, lease_id: (await ok(rt.getTask(id))).lease_id!, extend_seconds: 3600 }));
    expect(await alarmAt(rt)).toBe(cooldownEnd); // the lease now ends after the cooldown
  });

  it("running twice changes nothing the second time", async () => {
    const { stub, rt } = open("idempotent");
    const expiring = await ok(rt.createTask({ title: "expiring", priority: 10 }));
    await ok(rt.createTask({ title: "kept" }));
    await claim(rt, "agent-a");
    await claim(rt, "agent-b");
    await backdate(stub, [expiring.id]);

    // Delivered twice, as an at-least-once alarm may be.
    await runInDurableObject(stub, (instance: Runtime) => instance.alarm());
    const once = await snapshot(rt);
    expect(once.tasks.find((t) => t.id === expiring.id)).toMatchObject({ status: "pending" });
    await runInDurableObject(stub, (instance: Runtime) => instance.alarm());
    expect(await snapshot(rt)).toEqual(once);
    expect(await alarmAt(rt)).toBe((await rowOf(stub, expiring.id + 1)).lease_expires_at);
  });
});

describe("task history", () => {
  it("records claims, heartbeats, expiries and status changes, newest first", async () => {
    const { stub, rt } = open("events");
    const { id } = await ok(rt.createTask({ title: "t" }));
    const a = await claim(rt, "agent-a");
    await ok(rt.heartbeatTask({ task_id: id, lease_id: a.lease }));
    await backdate(stub);
    await fireAlarm(rt);
    const b = await claim(rt, "agent-b");
    await ok(rt.updateTaskStatus({ task_id: id, status: "completed", lease_id: b.lease }));

    const { events } = await ok(rt.getTask(id));
    expect(events.map((e) => [e.kind, e.agent_id, e.status, e.attempt])).toEqual([
      ["status_changed", "agent-b", "completed", 2],
      ["claimed", "agent-b", "in_progress", 2],
      ["lease_expired", "agent-a", "pending", 1],
      ["heartbeat", "agent-a", "in_progress", 1],
      ["claimed", "agent-a", "in_progress", 1],
    ]);
    expect(events[0]).toMatchObject({ lease_id: b.lease, detail: "in_progress → completed by the lease holder" });
    expect(Date.parse(events[0].at)).toBeGreaterThanOrEqual(Date.parse(events[4].at));
  });

  it("merges consecutive heartbeats of one lease into one event", async () => {
    const { rt } = open("merge");
    const { id } = await ok(rt.createTask({ title: "t" }));
    const { lease } = await claim(rt, "agent-a");
    for (let i = 0; i < 5; i++) await ok(rt.heartbeatTask({ task_id: id, lease_id: lease, progress: `step ${i}` }));
    const task = await ok(rt.getTask(id));
    expect(task.progress).toBe("step 4");
    expect(task.events.map((e) => [e.kind, e.count])).toEqual([
      ["heartbeat", 5],
      ["claimed", 1],
    ]);
  });

  it("keeps only the newest 50 events of a task", async () => {
    const { stub, rt } = open("bounded");
    const { id } = await ok(rt.createTask({ title: "t" }));
    for (let i = 0; i < 30; i++) {
      const { lease } = await claim(rt, `agent-${i}`);
      await ok(rt.updateTaskStatus({ task_id: id, status: "pending", lease_id: lease }));
    }
    const { events } = await ok(rt.getTask(id));
    expect(events).toHaveLength(50);
    expect(events[0]).toMatchObject({ kind: "status_changed", agent_id: "agent-29" });
    expect(events[49]).toMatchObject({ kind: "claimed", agent_id: "agent-5" });
    const stored = await runInDurableObject(stub, (_: Runtime, state) =>
      state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM task_events WHERE task_id = ?`, id).one().n,
    );
    expect(stored).toBe(50);
  });
});

describe("over MCP", () => {
  it("declares heartbeat_task and advertises the lease bounds in the schemas", async () => {
    const mcp = await connectAs(`leases-listing-${crypto.randomUUID()}`);
    const { tools } = await mcp.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    const heartbeat = byName.get("heartbeat_task")!;
    expect(hintsOf(heartbeat)).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    expect(heartbeat.inputSchema.required).toEqual(["task_id", "lease_id"]);
    // LEASE_MIN_SECONDS is not set in the unit tests: the contract's bounds hold.
    expect(byName.get("get_next_task")!.inputSchema.properties!.lease_seconds).toMatchObject({ minimum: 60, maximum: 86400 });
    expect(heartbeat.inputSchema.properties!.extend_seconds).toMatchObject({ minimum: 60, maximum: 86400 });
    expect(byName.get("get_task")!.outputSchema!.properties).toHaveProperty("events");
    expect(JSON.stringify(byName.get("list_tasks")!.outputSchema)).not.toContain('"events"');
    await mcp.close();
  });

  it("the agent work loop: claim with a lease, heartbeat with progress, complete with the lease id", async () => {
    const mcp = await connectAs(`leases-mcp-${crypto.randomUUID()}`);
    const created = await mcp.call("create_task", { title: "write the report", max_attempts: 5 });
    expect(created).toMatchObject({ max_attempts: 5, attempt: 0, lease_id: null, progress: null });

    const claimed = await mcp.call("get_next_task", { agent_id: "agent-a", lease_seconds: 300 });
    expect(claimed.task).toMatchObject({ id: created.id, lease_id: claimed.lease_id, lease_expires_at: claimed.lease_expires_at });
    const beat = await mcp.call("heartbeat_task", { task_id: created.id, lease_id: claimed.lease_id, progress: "outline done" });
    expect(beat).toMatchObject({ task_id: created.id, lease_id: claimed.lease_id, attempt: 1, progress: "outline done" });

    expect(await mcp.fail("heartbeat_task", { task_id: created.id, lease_id: "ls_wrongwrongwrong" })).toMatch(/^conflict: .*is lost/);
    const done = await mcp.call("update_task_status", { task_id: created.id, status: "completed", result: "report", lease_id: claimed.lease_id });
    expect(done).toMatchObject({ status: "completed", progress: "outline done" });
    expect(await mcp.fail("update_task_status", { task_id: created.id, status: "completed", lease_id: claimed.lease_id })).toMatch(
      /^conflict: .*the task is completed$/,
    );

    // get_task shows the history; list_tasks stays light.
    const detail = await mcp.call("get_task", { task_id: created.id });
    expect(detail.events.map((e: { kind: string }) => e.kind)).toEqual(["status_changed", "heartbeat", "claimed"]);
    const list = await mcp.call("list_tasks", {});
    expect(list.tasks[0]).not.toHaveProperty("events");
    await mcp.close();
  });

  it("rejects lease lengths, progress notes and max_attempts outside their limits", async () => {
    const mcp = await connectAs(`leases-limits-${crypto.randomUUID()}`);
    await mcp.call("create_task", { title: "t" });
    expect(await mcp.fail("get_next_task", { agent_id: "a", lease_seconds: 59 })).toMatch(/^invalid_argument: lease_seconds: /);
    expect(await mcp.fail("get_next_task", { agent_id: "a", lease_seconds: 86401 })).toMatch(/^invalid_argument: lease_seconds: /);
    expect(await mcp.fail("create_task", { title: "t", max_attempts: 0 })).toMatch(/^invalid_argument: max_attempts: /);
    expect(await mcp.fail("create_task", { title: "t", max_attempts: 101 })).toMatch(/^invalid_argument: max_attempts: /);
    const { task, lease_id } = await mcp.call("get_next_task", { agent_id: "a", lease_seconds: 60 });
    expect(await mcp.fail("heartbeat_task", { task_id: task.id, lease_id, extend_seconds: 30 })).toMatch(/^invalid_argument: extend_seconds: /);
    expect(await mcp.fail("heartbeat_task", { task_id: task.id, lease_id, progress: "x".repeat(2001) })).toMatch(/^invalid_argument: progress: /);
    expect(await mcp.fail("heartbeat_task", { task_id: task.id, lease_id: "" })).toMatch(/^invalid_argument: lease_id: /);
    // None of the refused calls touched the task.
    expect(await mcp.call("get_task", { task_id: task.id })).toMatchObject({ progress: null, lease_id });
    await mcp.close();
  });
});

describe("LEASE_MIN_SECONDS (testing aid)", () => {
  it("may lower the shortest lease to 1..60 seconds and is ignored otherwise", () => {
    expect(leaseMinSeconds(undefined)).toBe(60);
    expect(leaseMinSeconds("1")).toBe(1);
    expect(leaseMinSeconds("60")).toBe(60);
    for (const ignored of ["0", "61", "3600", "1.5", "abc", ""]) expect(leaseMinSeconds(ignored)).toBe(60);
  });
});

describe("get_next_task and overdue leases", () => {
  it("releases overdue leases most important first, so a batch never skips the task that should go next", async () => {
    const runtime = freshRuntime("overdue");
    // 502 claimed tasks whose leases are all overdue; the most important expired last. Set up
    // inside the object: a thousand RPC round trips would only slow the test down.
    await runInDurableObject(runtime as unknown as Stub, async (instance: Runtime) => {
      for (let i = 0; i < 502; i++) value(await instance.createTask({ title: `t${i}`, priority: i === 501 ? 10 : 1 }));
      for (let i = 0; i < 502; i++) value(await instance.nextTask({ agent_id: `crashed-${i}` }));
    });
    await withSql(runtime, (sql) => sql.exec(`UPDATE tasks SET lease_expires_at = ? - (10 - priority) * 1000 - id`, Date.now()));
    const answer = value(await runtime.nextTask({ agent_id: "fresh" }));
    expect(answer.task).toMatchObject({ priority: 10, assigned_to: "fresh" });
    // One bounded batch per call; the alarm, due at once, takes the rest.
    const overdue = () =>
      withSql(runtime, (sql) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE lease_expires_at <= ?`, Date.now()).one().n);
    expect(await overdue()).toBeLessThanOrEqual(2);
    await fireAlarm(runtime);
    expect(await overdue()).toBe(0);
  });

  it("refuses lease_seconds without agent_id: there is no claim to give a lease", async () => {
    const runtime = freshRuntime("lease-arg");
    expect(await runtime.nextTask({ lease_seconds: 120 })).toMatchObject({ ok: false, error: { code: "invalid_argument", message: expect.stringContaining("lease_seconds") } });
  });
});
