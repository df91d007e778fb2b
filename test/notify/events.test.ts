/**
 * Which changes raise which notification (SPEC §14, docs/owner.md#notifications), each written in
 * the same transaction as the change: a goal completing, a breaker opening — every way it can —,
 * a relay pipeline ending, an owner task becoming ready, a task parked. What the receiver gets is checked, data and all; a change that is
 * refused or raises nothing leaves the outbox as it was.
 */
import { describe, expect, it, vi } from "vitest";
import type { RuntimeApi } from "../../src/runtime/api";
import { fireAlarm, freshRuntime, snapshot, value, withSql } from "../helpers/runtime";
import { useReceiver } from "./receiver";

const receiver = useReceiver();

/** Waits until everything the outbox held has been delivered; answers the events of `type` received. */
async function delivered(rt: RuntimeApi, type: string) {
  await vi.waitFor(async () => expect(await withSql(rt, (sql) => sql.exec(`SELECT count(*) AS n FROM notify_outbox`).one().n)).toBe(0));
  return receiver.events().filter((e) => e.type === type);
}

/** True when the outbox is empty and the receiver has seen exactly `seen` requests: nothing new was recorded. */
async function nothingNew(rt: RuntimeApi, seen: number) {
  expect(await withSql(rt, (sql) => sql.exec(`SELECT count(*) AS n FROM notify_outbox`).one().n)).toBe(0);
  expect(receiver.received).toHaveLength(seen);
}

describe("goal_completed", () => {
  it("is sent when a goal's last task completes, once, and a refused call changes nothing", async () => {
    const rt = freshRuntime("goal-done");
    const goal = value(await rt.createGoal({ name: "Launch", description: "the site" }));
    const a = value(await rt.createTask({ title: "build", goal_id: goal.id }));
    const b = value(await rt.createTask({ title: "test", goal_id: goal.id, dependencies: [a.id] }));
    value(await rt.updateTaskStatus({ task_id: a.id, status: "completed" }));
    await nothingNew(rt, 0);
    value(await rt.updateTaskStatus({ task_id: b.id, status: "completed" }));
    const events = await delivered(rt, "goal_completed");
    expect(events).toEqual([
      { type: "goal_completed", occurred_at: value(await rt.getGoal(goal.id)).completed_at, data: { goal_id: goal.id, name: "Launch", tasks_completed: 2, tasks_cancelled: 0 } },
    ]);

    const before = await snapshot(rt);
    expect(await rt.updateTaskStatus({ task_id: b.id, status: "failed" })).toMatchObject({ ok: false, error: { code: "conflict" } });
    expect(await snapshot(rt)).toEqual(before);
    await nothingNew(rt, 1);
  });

  it("is sent again when a goal reopened by a new task completes again, counting cancelled tasks; a cancelled goal sends none", async () => {
    const rt = freshRuntime("goal-again");
    const goal = value(await rt.createGoal({ name: "Again", description: "" }));
    const first = value(await rt.createTask({ title: "first", goal_id: goal.id }));
    value(await rt.updateTaskStatus({ task_id: first.id, status: "completed" }));
    await delivered(rt, "goal_completed");
    const more = value(await rt.createTask({ title: "more", goal_id: goal.id }));
    const dropped = value(await rt.createTask({ title: "dropped", goal_id: goal.id }));
    value(await rt.updateTaskStatus({ task_id: dropped.id, status: "cancelled" }));
    value(await rt.updateTaskStatus({ task_id: more.id, status: "completed" }));
    expect((await delivered(rt, "goal_completed")).map((e) => e.data)).toEqual([
      { goal_id: goal.id, name: "Again", tasks_completed: 1, tasks_cancelled: 0 },
      { goal_id: goal.id, name: "Again", tasks_completed: 2, tasks_cancelled: 1 },
    ]);

    const other = value(await rt.createGoal({ name: "Abandoned", description: "" }));
    value(await rt.createTask({ title: "never done", goal_id: other.id }));
    value(await rt.cancelGoal(other.id, "not needed"));
    await nothingNew(rt, 2);
  });
});

describe("breaker_opened", () => {
  it("is sent when failures trip a CLOSED breaker, and not again for failures while it is OPEN", async () => {
    const rt = freshRuntime("trip-by-failures");
    value(await rt.configureBreaker("writer", { failure_threshold: 2, fallback_agent: "editor" }));
    const fail = () => rt.recordBreakerFailure("writer", { failure_type: "rate_limited", error_message: "429" });
    value(await fail());
    await nothingNew(rt, 0);
    const tripped = value(await fail());
    expect(await delivered(rt, "breaker_opened")).toEqual([
      {
        type: "breaker_opened",
        occurred_at: tripped.breaker.opened_at,
        data: {
          agent_id: "writer",
          from_state: "CLOSED",
          reason: "2 failures within 60 s (last: rate_limited)",
          trip_count: 1,
          cooldown_until: tripped.breaker.cooldown_until,
          fallback_agent: "editor",
        },
      },
    ]);
    value(await fail());
    await nothingNew(rt, 1);
  });

  it("is sent for a trip by hand with its reason; a second trip while OPEN and a reset send nothing", async () => {
    const rt = freshRuntime("trip-by-hand");
    value(await rt.tripBreaker("deployer", "deploy freeze"));
    expect((await delivered(rt, "breaker_opened")).map((e) => e.data)).toEqual([
      expect.objectContaining({ agent_id: "deployer", from_state: "CLOSED", reason: "manual trip: deploy freeze", trip_count: 1, fallback_agent: "generalist" }),
    ]);
    value(await rt.tripBreaker("deployer", "still frozen"));
    value(await rt.resetBreaker("deployer"));
    await nothingNew(rt, 1);
  });

  it("is sent when a HALF_OPEN breaker re-opens: a probe reported failed, or a probe's deadline passing", async () => {
    const rt = freshRuntime("reopen");
    for (const agent of ["reported", "silent"]) {
      value(await rt.tripBreaker(agent, "test"));
      await withSql(rt, (sql) => sql.exec(`UPDATE breakers SET cooldown_until = ? WHERE agent_id = ?`, Date.now() - 1, agent));
    }
    await fireAlarm(rt);
    await delivered(rt, "breaker_opened");
    value(await rt.createTask({ title: "probe work" }));
    const probe = value(await rt.nextTask({ agent_id: "silent" }));
    expect(probe.probe_expires_at).toBeDefined();

    value(await rt.recordBreakerFailure("reported", { failure_type: "invalid_output", error_message: "garbage" }));
    await withSql(rt, (sql) => sql.exec(`UPDATE breaker_probes SET expires_at = ? WHERE agent_id = 'silent'`, Date.now() - 1));
    await fireAlarm(rt);
    const reopened = (await delivered(rt, "breaker_opened")).slice(2).map((e) => e.data);
    expect(reopened).toEqual([
      expect.objectContaining({ agent_id: "reported", from_state: "HALF_OPEN", reason: "probe failed (invalid_output)", trip_count: 2 }),
      expect.objectContaining({ agent_id: "silent", from_state: "HALF_OPEN", reason: "probe failed (timeout)", trip_count: 2 }),
    ]);
  });
});

describe("pipeline_ended", () => {
  const pass = { quality_score: 0.9, l_score: 0.9, tokens_used: 10 };

  it("is sent when the last step passes, and not for the steps before it", async () => {
    const rt = freshRuntime("relay-done");
    const p = value(await rt.createRelayPipeline({ name: "Report", goal: "write it", agent_types: ["researcher", "formatter"], token_budget: 1_000 }));
    value(await rt.advanceRelay({ pipeline_id: p.pipeline_id, ...pass }));
    await nothingNew(rt, 0);
    value(await rt.advanceRelay({ pipeline_id: p.pipeline_id, ...pass }));
    expect(await delivered(rt, "pipeline_ended")).toEqual([
      {
        type: "pipeline_ended",
        occurred_at: expect.any(String),
        data: { pipeline_id: p.pipeline_id, name: "Report", status: "completed", reason: null, total_steps: 2, tokens_used: 20, token_budget: 1_000 },
      },
    ]);
  });

  it("is sent when a pipeline fails, its budget or a step's retries used up; a failed quality gate alone sends nothing", async () => {
    const rt = freshRuntime("relay-failed");
    const broke = value(await rt.createRelayPipeline({ name: "Expensive", goal: "g", agent_types: ["analyzer"], token_budget: 100 }));
    value(await rt.advanceRelay({ pipeline_id: broke.pipeline_id, ...pass, tokens_used: 500 }));
    expect(await delivered(rt, "pipeline_ended")).toHaveLength(1);

    const weak = value(await rt.createRelayPipeline({ name: "Weak", goal: "g", agent_types: ["validator"] }));
    const low = { quality_score: 0.1, l_score: 0.9, tokens_used: 1 };
    expect(value(await rt.advanceRelay({ pipeline_id: weak.pipeline_id, ...low }))).toMatchObject({ status: "quality_gate_failed" });
    await nothingNew(rt, 1);
    for (let retry = 0; retry < 3; retry++) {
      value(await rt.retryRelayStep(weak.pipeline_id, 0));
      value(await rt.advanceRelay({ pipeline_id: weak.pipeline_id, ...low }));
    }
    expect((await delivered(rt, "pipeline_ended")).map((e) => e.data)).toEqual([
      { pipeline_id: broke.pipeline_id, name: "Expensive", status: "failed", reason: "budget_exhausted", total_steps: 1, tokens_used: 500, token_budget: 100 },
      { pipeline_id: weak.pipeline_id, name: "Weak", status: "failed", reason: "retries_exhausted", total_steps: 1, tokens_used: 4, token_budget: 100_000 },
    ]);
  });
});

describe("owner_task_ready", () => {
  it("is sent when an owner task becomes ready — at creation, or when its dependency completes — with its goal", async () => {
    const rt = freshRuntime("owner-ready");
    const goal = value(await rt.createGoal({ name: "Release", description: "" }));
    const build = value(await rt.createTask({ title: "Build", goal_id: goal.id }));
    const gate = value(await rt.createTask({ title: "Approve the deploy", goal_id: goal.id, role: "owner", dependencies: [build.id] }));
    await nothingNew(rt, 0);
    value(await rt.updateTaskStatus({ task_id: build.id, status: "completed" }));
    const direct = value(await rt.createTask({ title: "Approve the budget", role: "owner" }));
    expect((await delivered(rt, "owner_task_ready")).map((e) => e.data)).toEqual([
      { task_id: gate.id, title: "Approve the deploy", goal_id: goal.id, goal_name: "Release" },
      { task_id: direct.id, title: "Approve the budget", goal_id: null, goal_name: null },
    ]);
  });
});

describe("task_parked", () => {
  it("is sent when a failure stays a failure: attempts used up, or reported not retryable; a retried failure sends none", async () => {
    const rt = freshRuntime("parked");
    const t = value(await rt.createTask({ title: "Call the API", retry_backoff_seconds: 60, max_attempts: 2 }));
    const first = value(await rt.nextTask({ agent_id: "caller" }));
    value(await rt.updateTaskStatus({ task_id: t.id, status: "failed", error: "HTTP 503", lease_id: first.lease_id }));
    await nothingNew(rt, 0);
    await withSql(rt, (sql) => sql.exec(`UPDATE tasks SET not_before = ? WHERE id = ?`, Date.now() - 1, t.id));
    const second = value(await rt.nextTask({ agent_id: "caller" }));
    value(await rt.updateTaskStatus({ task_id: t.id, status: "failed", error: "HTTP 503 again", lease_id: second.lease_id }));
    expect((await delivered(rt, "task_parked")).map((e) => e.data)).toEqual([
      { task_id: t.id, title: "Call the API", goal_id: null, attempt: 2, max_attempts: 2, error: "HTTP 503 again", agent_id: "caller" },
    ]);
  });
});
