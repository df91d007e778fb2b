/**
 * The notification outbox (SPEC §14, docs/owner.md#notifications) on the real Runtime: real
 * SQLite, real alarms, NOTIFY_URL and NOTIFY_SECRET set for this project (vitest.config.ts). The
 * receiver is a fake in the test isolate (receiver.ts); time is moved by rewriting the outbox's
 * due times and occurrences, never slept.
 *
 * An event written by a change is due at once, so the object's real alarm may deliver it before
 * the test runs the alarm itself: tests wait for what the receiver or the outbox shows, whichever
 * run got there.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { RuntimeApi } from "../../src/runtime/api";
import { enqueueNotification } from "../../src/runtime/notify/enqueue";
import { OUTBOX, type OutboxRow } from "../../src/runtime/notify/model";
import { configureOutbox, retryDelay, takeDue } from "../../src/runtime/notify/outbox";
import type { Runtime } from "../../src/runtime/runtime";
import { fireAlarm, freshRuntime, stubOf, value, withSql } from "../helpers/runtime";
import { useReceiver } from "./receiver";

const receiver = useReceiver();
const DAY = 86_400_000;

const outbox = (rt: RuntimeApi) => withSql(rt, (sql) => sql.exec<OutboxRow>(`SELECT * FROM notify_outbox ORDER BY id`).toArray());
const counters = (rt: RuntimeApi) =>
  withSql(rt, (sql) => sql.exec<{ delivered: number; dropped: number; given_up: number; last_dropped_at: number | null }>(`SELECT * FROM notify_state`).one());

/** Time passes until every waiting event is due (its due time moved to just now). */
const dueNow = (rt: RuntimeApi) =>
  withSql(rt, (sql) => sql.exec(`UPDATE notify_outbox SET next_attempt_at = ? WHERE state = 'pending'`, Date.now() - 1));
/** The waiting events occurred `ms` earlier than they did. */
const age = (rt: RuntimeApi, ms: number) =>
  withSql(rt, (sql) => sql.exec(`UPDATE notify_outbox SET occurred_at = occurred_at - ? WHERE state = 'pending'`, ms));

/** A goal whose one task is completed: one goal_completed event, named `name`. */
async function completeGoal(rt: RuntimeApi, name: string): Promise<number> {
  const goal = value(await rt.createGoal({ name, description: "" }));
  const task = value(await rt.createTask({ title: "only", goal_id: goal.id }));
  value(await rt.updateTaskStatus({ task_id: task.id, status: "completed" }));
  return goal.id;
}

/** Waits until the outbox's one event has been tried `attempts` times and the outcome recorded. */
async function attempted(rt: RuntimeApi, attempts: number): Promise<OutboxRow> {
  let row: OutboxRow | undefined;
  await vi.waitFor(async () => {
    row = (await outbox(rt))[0];
    expect(row).toMatchObject({ attempts });
    // In flight, an event is due exactly OUTBOX.inFlightMs after its attempt; recorded, it has its
    // error and its back-off (never that exact distance for the first few attempts).
    expect(row!.last_error).not.toBeNull();
    expect(row!.next_attempt_at).not.toBe(row!.last_attempt_at! + OUTBOX.inFlightMs);
  });
  return row!;
}

describe("delivery", () => {
  it("POSTs each event as signed JSON {type, occurred_at, data} and forgets it once the receiver takes it", async () => {
    const rt = freshRuntime("deliver");
    const goalId = await completeGoal(rt, "Ship the launch page");
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1));
    const [request] = receiver.received;
    expect(request.headers).toMatchObject({ "content-type": "application/json", "webhook-id": expect.stringMatching(/^msg_[a-z2-7]{24}$/) });
    expect(receiver.verify(request)).toEqual({
      type: "goal_completed",
      occurred_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: { goal_id: goalId, name: "Ship the launch page", tasks_completed: 1, tasks_cancelled: 0 },
    });
    await vi.waitFor(async () => expect(await counters(rt)).toMatchObject({ delivered: 1 }));
    expect(await outbox(rt)).toEqual([]);
  });

  it("sends events in the order they occurred, a bounded batch per alarm run, until none is left", async () => {
    const rt = freshRuntime("order");
    const count = 2 * OUTBOX.batch + 5;
    await withSql(rt, (sql) => {
      for (let i = 1; i <= count; i++) enqueueNotification(sql, "goal_completed", { goal_id: i, name: `g${i}`, tasks_completed: 1, tasks_cancelled: 0 }, Date.now());
    });
    // A run takes one batch, oldest first, and re-arms at once for the rest, which the alarm then
    // sends by itself, run after run.
    await runInDurableObject(stubOf(rt), (instance: Runtime) => instance.alarm());
    await vi.waitFor(() => expect(receiver.received).toHaveLength(count), { timeout: 10_000 });
    expect(receiver.events().map((e) => e.data.goal_id)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(await counters(rt)).toMatchObject({ delivered: count });
  });

  it("hands out at most one batch per run, oldest due first, each marked in flight", async () => {
    const rt = freshRuntime("batch");
    const now = Date.now();
    const taken = await withSql(rt, (sql) => {
      for (let i = 1; i <= OUTBOX.batch + 3; i++) enqueueNotification(sql, "goal_completed", { goal_id: i, name: `g${i}`, tasks_completed: 1, tasks_cancelled: 0 }, now);
      // The newest event fell due first (a retry, say): it goes first.
      sql.exec(`UPDATE notify_outbox SET next_attempt_at = ? WHERE id = (SELECT max(id) FROM notify_outbox)`, now - 1);
      return takeDue(sql, now).map((event) => JSON.parse(event.body).data.goal_id as number);
    });
    expect(taken).toEqual([OUTBOX.batch + 3, ...Array.from({ length: OUTBOX.batch - 1 }, (_, i) => i + 1)]);
    const rows = await outbox(rt);
    expect(rows.filter((r) => r.next_attempt_at === now + OUTBOX.inFlightMs)).toHaveLength(OUTBOX.batch);
    expect(rows.filter((r) => r.attempts === 0).map((r) => JSON.parse(r.data).goal_id)).toEqual([OUTBOX.batch, OUTBOX.batch + 1, OUTBOX.batch + 2]);
  });
});

describe("retries", () => {
  it("retries a failed event with exponential back-off, under the same webhook-id, signed anew each time", async () => {
    const rt = freshRuntime("retry");
    receiver.answer((_request, index) => (index < 2 ? 503 : 204));
    await completeGoal(rt, "flaky receiver");

    const first = await attempted(rt, 1);
    expect(first.last_error).toBe("the receiver answered HTTP 503");
    const firstWait = first.next_attempt_at! - first.last_attempt_at!;
    expect(firstWait).toBeGreaterThanOrEqual(0.8 * OUTBOX.retryBaseMs);
    expect(firstWait).toBeLessThanOrEqual(1.2 * OUTBOX.retryBaseMs);

    await dueNow(rt);
    await fireAlarm(rt);
    const second = await attempted(rt, 2);
    const secondWait = second.next_attempt_at! - second.last_attempt_at!;
    expect(secondWait).toBeGreaterThanOrEqual(0.8 * 2 * OUTBOX.retryBaseMs);
    expect(secondWait).toBeLessThanOrEqual(1.2 * 2 * OUTBOX.retryBaseMs);

    await dueNow(rt);
    await fireAlarm(rt);
    await vi.waitFor(async () => expect(await outbox(rt)).toEqual([]));
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
    for (const request of receiver.received) expect(receiver.verify(request)).toMatchObject({ type: "goal_completed" });
    expect(await counters(rt)).toMatchObject({ delivered: 1, given_up: 0 });
  });

  it("counts a receiver that times out, cannot be reached or redirects as a failed attempt, saying which", async () => {
    const rt = freshRuntime("failures");
    const answers: Record<string, "timeout" | "unreachable" | number> = { slow: "timeout", gone: "unreachable", moved: 302 };
    receiver.answer((request) => answers[JSON.parse(request.body).data.name]);
    for (const name of Object.keys(answers)) await completeGoal(rt, name);
    await vi.waitFor(async () => expect((await outbox(rt)).map((r) => r.last_error)).not.toContain(null));
    const errors = Object.fromEntries((await outbox(rt)).map((r) => [JSON.parse(r.data).name, r.last_error]));
    expect(errors).toEqual({
      slow: `no answer within ${OUTBOX.timeoutMs / 1000} s`,
      gone: "could not reach receiver.example: Network connection lost.",
      moved: "the receiver answered HTTP 302",
    });
    // The path of NOTIFY_URL (which may be a secret, like an ntfy topic) is never repeated.
    expect(JSON.stringify(errors)).not.toContain(new URL(env.NOTIFY_URL!).pathname);
  });

  it("waits 10 s after the first failed attempt, doubling up to an hour, each wait within ± 20 %", () => {
    const low = () => 0;
    const high = () => 0.999_999;
    expect([1, 2, 3, 4].map((n) => retryDelay(n, low))).toEqual([8_000, 16_000, 32_000, 64_000]);
    expect([1, 2, 3].map((n) => Math.round(retryDelay(n, high) / 1000))).toEqual([12, 24, 48]);
    expect(retryDelay(9, low)).toBe(0.8 * 2_560_000);
    expect(retryDelay(10, low)).toBe(0.8 * OUTBOX.retryMaxMs);
    expect(retryDelay(40, high)).toBeLessThanOrEqual(1.2 * OUTBOX.retryMaxMs);
  });

  it("makes the last attempt a day after the event occurred, then gives it up and tries no more", async () => {
    const rt = freshRuntime("give-up");
    receiver.answer(() => 500);
    await completeGoal(rt, "never heard");
    const first = await attempted(rt, 1);

    // Five seconds short of a day: the next attempt is due on the deadline itself, not after it.
    await age(rt, DAY - 5_000);
    await dueNow(rt);
    await fireAlarm(rt);
    const second = await attempted(rt, 2);
    expect(second.next_attempt_at).toBe(first.occurred_at - (DAY - 5_000) + DAY);

    // The deadline comes: that attempt fails too, and the event is given up.
    await age(rt, 5_000);
    await dueNow(rt);
    await fireAlarm(rt);
    await vi.waitFor(async () => expect((await outbox(rt))[0]).toMatchObject({ state: "given_up", attempts: 3, next_attempt_at: null }));
    expect((await outbox(rt))[0].given_up_at).not.toBeNull();
    expect(await counters(rt)).toMatchObject({ given_up: 1, delivered: 0 });
    expect(value(await rt.notificationStatus())).toMatchObject({
      pending: 0,
      given_up: 1,
      given_up_recent: [{ type: "goal_completed", attempts: 3, last_error: "the receiver answered HTTP 500", data: { name: "never heard" } }],
    });
    // Nothing is due any more: a given-up event never wakes the alarm again.
    expect(await withSql(rt, (sql) => sql.exec(`SELECT min(next_attempt_at) AS due FROM notify_outbox`).one().due)).toBeNull();
  });

  it("keeps the newest 50 given-up events for the dashboard, counting all of them", async () => {
    const rt = freshRuntime("given-up-kept");
    receiver.answer(() => 500);
    await withSql(rt, (sql) => {
      for (let i = 1; i <= 52; i++) enqueueNotification(sql, "goal_completed", { goal_id: i, name: `g${i}`, tasks_completed: 1, tasks_cancelled: 0 }, Date.now() - DAY);
    });
    // Three runs of 20 take all 52 (the alarm, re-armed by the first, may run some of them itself).
    await runInDurableObject(stubOf(rt), async (instance: Runtime) => {
      for (let run = 0; run < 3; run++) await instance.alarm();
    });
    await vi.waitFor(async () => expect((await outbox(rt)).every((r) => r.state === "given_up")).toBe(true));
    const rows = await outbox(rt);
    expect(rows.map((r) => JSON.parse(r.data).goal_id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 3));
    expect(await counters(rt)).toMatchObject({ given_up: 52 });
  });
});

describe("the bound", () => {
  it("keeps at most 1,000 undelivered events: the oldest make room, and the dropped ones are counted", async () => {
    const rt = freshRuntime("bound");
    const now = Date.now();
    const { left, oldest, newest } = await withSql(rt, (sql) => {
      for (let i = 1; i <= OUTBOX.maxPending + 5; i++) {
        enqueueNotification(sql, "breaker_opened", {
          agent_id: `agent-${i}`,
          from_state: "CLOSED",
          reason: "5 failures within 60 s (last: timeout)",
          trip_count: 1,
          cooldown_until: new Date(now + 300_000).toISOString(),
          fallback_agent: "generalist",
        }, now);
      }
      const ids = sql.exec<{ agent: string }>(`SELECT json_extract(data, '$.agent_id') AS agent FROM notify_outbox ORDER BY id`).toArray();
      return { left: ids.length, oldest: ids[0].agent, newest: ids.at(-1)!.agent };
    });
    expect({ left, oldest, newest }).toEqual({ left: OUTBOX.maxPending, oldest: "agent-6", newest: `agent-${OUTBOX.maxPending + 5}` });
    expect(await counters(rt)).toMatchObject({ dropped: 5, last_dropped_at: now });
    expect(value(await rt.notificationStatus())).toMatchObject({ pending: OUTBOX.maxPending, dropped: 5 });
  });

  it("cuts every text in an event's data to 500 characters", async () => {
    const rt = freshRuntime("cut");
    value(await rt.tripBreaker("verbose", "x".repeat(5_000)));
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1));
    const reason = receiver.events()[0].data.reason as string;
    expect(reason).toHaveLength(OUTBOX.textMax);
    expect(reason).toMatch(/^manual trip: x+…$/);
  });
});

describe("restarts and slow receivers", () => {
  it("never holds up calls while a receiver hangs, and sends again after a restart mid-delivery: nothing is lost", async () => {
    const userId = `restart-${crypto.randomUUID()}`;
    const stub = () => env.RUNTIME.getByName(userId) as unknown as RuntimeApi;
    receiver.answer((_request, index) => (index === 0 ? "hang" : 204));
    await completeGoal(stub(), "delivered twice");
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1));

    // The POST hangs inside the alarm; the object goes on answering calls meanwhile.
    const other = value(await stub().createTask({ title: "written while the receiver hangs" }));
    expect(value(await stub().getTask(other.id)).status).toBe("pending");

    // What an eviction or a deployment does to the object: it is reset, the POST in flight with it.
    await runInDurableObject(stubOf(stub()), (_instance, state) => state.abort("restart for the test")).catch(() => {});
    const rt = stub();
    const [inFlight] = await outbox(rt);
    expect(inFlight).toMatchObject({ state: "pending", attempts: 1, last_error: null });
    // It was marked in flight when it was handed out: due again once a delivery must have ended.
    expect(inFlight.next_attempt_at).toBe(inFlight.last_attempt_at! + OUTBOX.inFlightMs);

    await dueNow(rt);
    await fireAlarm(rt);
    await vi.waitFor(async () => expect(await outbox(rt)).toEqual([]));
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1].headers["webhook-id"]).toBe(receiver.received[0].headers["webhook-id"]);
    expect(receiver.verify(receiver.received[1])).toMatchObject({ type: "goal_completed", data: { name: "delivered twice" } });
    expect(await counters(rt)).toMatchObject({ delivered: 1 });
  });
});

describe("turned off", () => {
  it("drops what waited, counted, and records nothing while NOTIFY_URL is unset or invalid", async () => {
    const rt = freshRuntime("off");
    receiver.answer(() => 503);
    await completeGoal(rt, "waiting");
    await attempted(rt, 1);
    // What a Runtime started without a valid NOTIFY_URL does first (runtime.ts, the constructor).
    const after = await withSql(rt, (sql) => {
      configureOutbox(sql, false, Date.now());
      enqueueNotification(sql, "goal_completed", { goal_id: 9, name: "unseen", tasks_completed: 1, tasks_cancelled: 0 }, Date.now());
      const rows = sql.exec(`SELECT count(*) AS n FROM notify_outbox`).one().n;
      configureOutbox(sql, true, Date.now());
      return rows;
    });
    expect(after).toBe(0);
    expect(await counters(rt)).toMatchObject({ dropped: 1, delivered: 0 });
  });
});
