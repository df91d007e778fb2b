/**
 * The alarm stands on its own: whatever a row says, a run of the alarm only does what the row's
 * state allows and leaves nothing due that it cannot settle. Import refuses such rows
 * (test/integrity.test.ts); these tests put them straight into SQLite to show that the alarm
 * would not loop or undo work even if one got there.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Runtime } from "../src/runtime/runtime";
import { alarmAt, freshRuntime, snapshot, stubOf, value, withSql } from "./helpers/runtime";

describe("the alarm stands on its own", () => {
  it("never releases a lease left on a task that is not in_progress: a completed task stays completed, its dependents' counts stay", async () => {
    const rt = freshRuntime("robust-lease");
    const a = value(await rt.createTask({ title: "a" }));
    const b = value(await rt.createTask({ title: "b", dependencies: [a.id] }));
    const claim = value(await rt.nextTask({ agent_id: "worker" }));
    value(await rt.updateTaskStatus({ task_id: a.id, status: "completed", lease_id: claim.lease_id! }));
    // A lease that ran out, left on the completed task.
    await withSql(rt, (sql, state) => {
      sql.exec(`UPDATE tasks SET lease_id = 'ls_stale', lease_expires_at = ?, lease_seconds = 60 WHERE id = ?`, Date.now() - 1000, a.id);
      return state.storage.setAlarm(Date.now());
    });
    const before = await snapshot(rt);
    await runInDurableObject(stubOf(rt) as DurableObjectStub<Runtime>, (instance: Runtime) => instance.alarm());
    expect(await snapshot(rt)).toEqual(before);
    expect(value(await rt.getTask(a.id)).status).toBe("completed");
    expect(value(await rt.getTask(b.id)).blocked_by).toEqual([]);
    // Nothing it could settle keeps it due: it is not armed again for the stale lease.
    expect(await alarmAt(rt)).toBeNull();
  });

  it("settling a breaker clears a cooldown it does not need, so the alarm is not due again at once, for ever", async () => {
    const rt = freshRuntime("robust-breaker");
    value(await rt.recordBreakerFailure("agent", { failure_type: "timeout", error_message: "slow" }));
    await withSql(rt, (sql, state) => {
      sql.exec(`UPDATE breakers SET cooldown_until = ? WHERE agent_id = 'agent'`, Date.now() - 1000);
      return state.storage.setAlarm(Date.now());
    });
    await runInDurableObject(stubOf(rt) as DurableObjectStub<Runtime>, (instance: Runtime) => instance.alarm());
    const row = await withSql(rt, (sql) => sql.exec(`SELECT state, cooldown_until FROM breakers WHERE agent_id = 'agent'`).one());
    expect(row).toEqual({ state: "CLOSED", cooldown_until: null });
    expect(await alarmAt(rt)).toBeNull();
    // No transition was made up for it.
    const events = await withSql(rt, (sql) => sql.exec(`SELECT count(*) AS n FROM breaker_events`).one().n);
    expect(events).toBe(0);
  });

  it("a write that settles such a breaker clears it too", async () => {
    const rt = freshRuntime("robust-breaker-write");
    value(await rt.configureBreaker("agent", { fallback_agent: "other" }));
    await withSql(rt, (sql) => sql.exec(`UPDATE breakers SET cooldown_until = ? WHERE agent_id = 'agent'`, Date.now() + 60_000));
    value(await rt.createTask({ title: "work" }));
    const claim = value(await rt.nextTask({ agent_id: "agent" }));
    expect(claim.task).not.toBeNull();
    expect(value(await rt.breakerStatus("agent")).cooldown_until).toBeNull();
    // Only the claim's lease is due now.
    expect(await alarmAt(rt)).toBe(Date.parse(claim.lease_expires_at!));
  });
});
