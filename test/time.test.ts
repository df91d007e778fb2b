/**
 * Time and failure on the alarm for tasks (SPEC §13; docs/tasks.md, "Not before" and "Retries"):
 * a task deferred to a time becomes ready at that time by itself; a failed attempt is retried
 * after a back-off until its attempts are used up, then parked; a lease that runs out follows
 * the same rule. Time is moved by the test (not_before and lease ends set into the past with SQL,
 * then the object's real alarm run), never slept.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import { backoffMs } from "../src/runtime/tasks/retry";
import { alarmAt, freshRuntime, snapshot, stubOf, value, withSql } from "./helpers/runtime";

const HOUR = 3_600_000;

/** Moves a task's not_before (or lease end) into the past, as if that much time had passed. */
const arrive = (rt: RuntimeApi, id: number, column: "not_before" | "lease_expires_at") =>
  withSql(rt, (sql) => sql.exec(`UPDATE tasks SET ${column} = ? WHERE id = ?`, Date.now() - 1, id));

describe("not_before: not ready before its time, ready at it by itself", () => {
  it("holds a task back, says when it will be ready, arms the alarm for it, and hands it out once the alarm has run", async () => {
    const rt = freshRuntime("not-before");
    const at = Date.now() + HOUR;
    const deferred = value(await rt.createTask({ title: "after the deploy window", not_before: at, priority: 10 }));
    expect(deferred).toMatchObject({ not_before: new Date(at).toISOString(), blocked_by: [] });
    expect(value(await rt.nextTask({ agent_id: "a" }))).toEqual({ task: null, reason: "all_pending_tasks_blocked", next_ready_at: new Date(at).toISOString() });
    expect(await alarmAt(rt)).toBe(at);
    await arrive(rt, deferred.id, "not_before");
    expect(await runDurableObjectAlarm(stubOf(rt))).toBe(true);
    expect(value(await rt.nextTask({ agent_id: "a" })).task!.id).toBe(deferred.id);
  });

  it("is moved by update_task: into the past makes it ready at once, into the future takes it out of the queue", async () => {
    const rt = freshRuntime("not-before-edit");
    const t = value(await rt.createTask({ title: "t" }));
    value(await rt.updateTask({ task_id: t.id, not_before: Date.now() + HOUR }));
    expect(value(await rt.nextTask({})).task).toBeNull();
    value(await rt.updateTask({ task_id: t.id, not_before: null }));
    expect(value(await rt.nextTask({})).task!.id).toBe(t.id);
  });

  it("refuses starting or completing a task by hand before its time, changing nothing", async () => {
    const rt = freshRuntime("not-before-manual");
    const t = value(await rt.createTask({ title: "t", not_before: Date.now() + HOUR }));
    const before = await snapshot(rt);
    for (const status of ["in_progress", "completed"] as const) {
      expect(await rt.updateTaskStatus({ task_id: t.id, status })).toMatchObject({ ok: false, error: { code: "failed_precondition", message: expect.stringMatching(/may not start before/) } });
    }
    expect(await snapshot(rt)).toEqual(before);
  });
});

describe("retries with back-off", () => {
  it("retries a failing task after a growing back-off, attempt by attempt, then parks it with its error", async () => {
    const rt = freshRuntime("retries");
    const t = value(await rt.createTask({ title: "call the flaky API", retry_backoff_seconds: 10, retry_backoff_max_seconds: 15, max_attempts: 3 }));
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const claim = value(await rt.nextTask({ agent_id: "caller" }));
      expect(claim.task).toMatchObject({ id: t.id, attempt });
      const failed = value(await rt.updateTaskStatus({ task_id: t.id, status: "failed", error: `HTTP 503 (${attempt})`, lease_id: claim.lease_id }));
      if (attempt < 3) {
        // Back in the queue, not before the back-off, the error kept for the next attempt.
        expect(failed).toMatchObject({ status: "pending", error: `HTTP 503 (${attempt})`, assigned_to: null, lease_id: null });
        const detail = value(await rt.getTask(t.id));
        expect(detail.events[0]).toMatchObject({ kind: "retry_scheduled", attempt });
        expect(detail.events[0].detail).toMatch(new RegExp(`^reported failed on attempt ${attempt} of 3; retried not before `));
        delays.push(Date.parse(failed.not_before!) - Date.parse(detail.events[0].at));
        expect(value(await rt.nextTask({ agent_id: "caller" })).task).toBeNull();
        await arrive(rt, t.id, "not_before");
      } else {
        expect(failed).toMatchObject({ status: "failed", attempt: 3, error: "HTTP 503 (3)" });
        expect(value(await rt.getTask(t.id)).events[0]).toMatchObject({ kind: "parked", detail: "parked: its attempts are used up (3 of 3)" });
      }
    }
    // 10 s, then 20 s capped at 15 s: each within ±10 %, never past the cap.
    expect(delays[0]).toBeGreaterThanOrEqual(9_000);
    expect(delays[0]).toBeLessThanOrEqual(11_000);
    expect(delays[1]).toBeGreaterThanOrEqual(13_500);
    expect(delays[1]).toBeLessThanOrEqual(15_000);
  });

  it("parks at once a failure reported not retryable, and keeps a task without a policy failed as before", async () => {
    const rt = freshRuntime("not-retryable");
    const t = value(await rt.createTask({ title: "t", retry_backoff_seconds: 10 }));
    const claim = value(await rt.nextTask({ agent_id: "a" }));
    const failed = value(await rt.updateTaskStatus({ task_id: t.id, status: "failed", error: "bad input", retryable: false, lease_id: claim.lease_id }));
    expect(failed).toMatchObject({ status: "failed", attempt: 1 });
    expect(value(await rt.getTask(t.id)).events[0].detail).toBe("parked: the failure was reported as not retryable");
    const plain = value(await rt.createTask({ title: "plain" }));
    const second = value(await rt.nextTask({ agent_id: "a" }));
    expect(value(await rt.updateTaskStatus({ task_id: plain.id, status: "failed", lease_id: second.lease_id }))).toMatchObject({ status: "failed" });
    expect(value(await rt.getTask(plain.id)).events[0].detail).toBe("parked: it has no retry policy");
    expect(await rt.updateTaskStatus({ task_id: plain.id, status: "cancelled", retryable: false })).toMatchObject({ ok: false, error: { code: "invalid_argument", message: 'retryable: applies only to status "failed"' } });
  });

  it("follows the back-off when a lease runs out under a policy", async () => {
    const rt = freshRuntime("lease-backoff");
    const t = value(await rt.createTask({ title: "t", retry_backoff_seconds: 60, max_attempts: 2 }));
    value(await rt.nextTask({ agent_id: "silent" }));
    await arrive(rt, t.id, "lease_expires_at");
    expect(await runDurableObjectAlarm(stubOf(rt))).toBe(true);
    const detail = value(await rt.getTask(t.id));
    expect(detail).toMatchObject({ status: "pending", attempt: 1, assigned_to: null });
    expect(detail.events.slice(0, 2).map((e) => e.kind)).toEqual(["retry_scheduled", "lease_expired"]);
    expect(Date.parse(detail.not_before!) - Date.parse(detail.events[0].at)).toBeGreaterThanOrEqual(54_000);
    expect(await alarmAt(rt)).toBe(Date.parse(detail.not_before!));
  });

  it("redrives a parked task by setting it back to pending: one more attempt", async () => {
    const rt = freshRuntime("redrive");
    const t = value(await rt.createTask({ title: "t", max_attempts: 1, retry_backoff_seconds: 5 }));
    const claim = value(await rt.nextTask({ agent_id: "a" }));
    value(await rt.updateTaskStatus({ task_id: t.id, status: "failed", lease_id: claim.lease_id }));
    value(await rt.updateTaskStatus({ task_id: t.id, status: "pending" }));
    const again = value(await rt.nextTask({ agent_id: "b" }));
    expect(again.task).toMatchObject({ id: t.id, attempt: 2, max_attempts: 1 });
    value(await rt.updateTaskStatus({ task_id: t.id, status: "failed", lease_id: again.lease_id }));
    expect(value(await rt.getTask(t.id)).status).toBe("failed");
  });
});

describe("the back-off rule", () => {
  it("doubles from the base per attempt, never past the cap, spread by at most ±10 %", () => {
    expect(backoffMs(10, 3600, 1, 0.5)).toBe(10_000);
    expect(backoffMs(10, 3600, 3, 0.5)).toBe(40_000);
    expect(backoffMs(10, 3600, 1, 0)).toBe(9_000);
    expect(backoffMs(10, 3600, 1, 0.999_999)).toBeLessThanOrEqual(11_000);
    expect(backoffMs(10, 30, 3, 0.999_999)).toBe(30_000);
    expect(backoffMs(10, 30, 20, 0)).toBe(27_000);
    expect(backoffMs(0, 3600, 5, 0.7)).toBe(0);
  });
});
