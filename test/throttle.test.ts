/**
 * The counting behind every limit at the sign-in door (docs/security.md): the failed-password
 * streak of one address and the sliding window, as pure policies over simulated time, then the
 * LoginThrottle object that keeps them (exact under parallel requests, cleaned up by its alarm).
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as streak from "../src/auth/streak";
import { LoginThrottle } from "../src/auth/throttle";
import * as window from "../src/auth/window";

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
/** Failures an address gets before it must wait (docs/security.md), stated here: raising it in src must fail. */
const FREE_FAILURES = 5;

/** Guesses an address gets in `span` if it tries whenever it is let through, every guess wrong. */
function greedyGuesses(span: number): number {
  let state: streak.Streak | undefined;
  let guesses = 0;
  for (let now = 0; now < span; ) {
    const { admission, next } = streak.admit(state, now);
    if (admission.admitted) (state = next), guesses++;
    else now += admission.retryAfterSeconds * 1000;
  }
  return guesses;
}

/** The same, but pausing until the streak is forgotten whenever the wait has reached its longest. */
function pausingGuesses(span: number): number {
  let state: streak.Streak | undefined;
  let guesses = 0;
  for (let now = 0; now < span; ) {
    const { admission, next } = streak.admit(state, now);
    if (!admission.admitted) now += admission.retryAfterSeconds * 1000;
    else {
      state = next;
      guesses++;
      if (streak.delayAfter(state!.failures) === streak.MAX_DELAY_MS) now = streak.forgetAt(state!) + 1;
    }
  }
  return guesses;
}

describe("the failed-password streak of one address", () => {
  it("lets FREE_FAILURES attempts through, then makes each wait, doubling up to an hour", () => {
    let state: streak.Streak | undefined;
    for (let i = 0; i < FREE_FAILURES; i++) {
      const { admission, next } = streak.admit(state, 1000);
      expect(admission.admitted).toBe(true);
      state = next;
    }
    expect(streak.admit(state, 1000).admission).toEqual({ admitted: false, retryAfterSeconds: 30 });
    expect(streak.delayAfter(FREE_FAILURES + 1)).toBe(60_000);
    expect(streak.delayAfter(40)).toBe(streak.MAX_DELAY_MS);
  });

  it("never forgets a streak when a wait ends, only after a quiet period far longer than the longest wait", () => {
    expect(streak.FORGET_AFTER_MS).toBeGreaterThan(streak.MAX_DELAY_MS);
    for (let failures = FREE_FAILURES; failures <= 20; failures++) {
      const state = { failures, lastFailureAt: 0 };
      // Right when the wait is over, and an hour later still, the streak goes on.
      for (const at of [streak.delayAfter(failures), streak.MAX_DELAY_MS + HOUR]) {
        expect(streak.admit(state, at).next?.failures, `${failures} failures, at ${at} ms`).toBe(failures + 1);
      }
      expect(streak.admit(state, streak.FORGET_AFTER_MS + 1).next?.failures).toBe(1);
    }
  });

  it("gives an address guessing as fast as it is let through about one guess an hour, and pausing gains it nothing", () => {
    const week = 7 * DAY;
    const greedy = greedyGuesses(week);
    // The first streak (5 free, then 30 s … 32 min), then one an hour.
    expect(greedy).toBeLessThanOrEqual(12 + 7 * 24);
    expect(pausingGuesses(week)).toBeLessThanOrEqual(greedy);
    // Were a streak forgotten as soon as the longest wait ends, pausing would give 12 guesses
    // every two hours or so, ~140 a day. Now it gives 12 a day.
    expect(pausingGuesses(DAY)).toBeLessThanOrEqual(12);
  });

  it("takes back a withdrawn attempt's failure without shortening the wait", () => {
    const state = { failures: 7, lastFailureAt: 5000 };
    expect(streak.withdraw(state)).toEqual({ failures: 6, lastFailureAt: 5000 });
    expect(streak.withdraw({ failures: 1, lastFailureAt: 5000 })).toBeUndefined();
  });
});

describe("the sliding window", () => {
  it("allows `limit` events in any window and says when the next one fits", () => {
    let state: window.Window | undefined;
    for (let i = 0; i < 3; i++) {
      const { taken, next } = window.take(state, 3, HOUR, i * 60_000);
      expect(taken.ok).toBe(true);
      state = next;
    }
    // The oldest event (at 0) leaves the window at one hour.
    expect(window.take(state, 3, HOUR, 10 * 60_000).taken).toEqual({ ok: false, retryAfterSeconds: 50 * 60 });
    expect(window.take(state, 3, HOUR, HOUR - 1).taken.ok).toBe(false);
    expect(window.take(state, 3, HOUR, HOUR).taken.ok).toBe(true);
  });

  it("never allows more than `limit` in any window, and refuses only when `limit` are in it, however the events are spread", () => {
    // Random gaps from none (a burst) to over an hour, random limits: the window's own definition checked after each.
    const gaps = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 1, max: 2 * HOUR })), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), gaps, (limit, spacing) => {
        let state: window.Window | undefined;
        const accepted: number[] = [];
        let now = 0;
        for (const gap of spacing) {
          now += gap;
          const inWindow = accepted.filter((t) => t > now - HOUR).length;
          const { taken, next } = window.take(state, limit, HOUR, now);
          expect(taken.ok, `at ${now} with ${inWindow} in the window`).toBe(inWindow < limit);
          if (taken.ok) (state = next), accepted.push(now);
        }
        for (const start of accepted) expect(accepted.filter((t) => t >= start && t < start + HOUR).length).toBeLessThanOrEqual(limit);
      }),
      { numRuns: 200 },
    );
  });

  it("frees the slot of an event given back", () => {
    const first = window.take(undefined, 1, HOUR, 1000);
    expect(first.taken.ok && window.take(first.next, 1, HOUR, 2000).taken.ok).toBe(false);
    const after = window.giveBack(first.next, 1000);
    expect(window.take(after, 1, HOUR, 2000).taken.ok).toBe(true);
  });
});

describe("the LoginThrottle object", () => {
  const fresh = () => env.LOGIN_THROTTLE.getByName(`test:${crypto.randomUUID()}`);

  it("admits exactly `limit` of many parallel requests", async () => {
    const stub = fresh();
    const results = await Promise.all(Array.from({ length: 25 }, () => stub.take(10, HOUR)));
    expect(results.filter((result) => result.ok)).toHaveLength(10);
  });

  it("admits exactly FREE_FAILURES of many parallel password attempts", async () => {
    const stub = fresh();
    const results = await Promise.all(Array.from({ length: 20 }, () => stub.admit()));
    expect(results.filter((result) => result.admitted)).toHaveLength(FREE_FAILURES);
  });

  it("arms its alarm for when its state can be forgotten, and the alarm then deletes it", async () => {
    const stub = fresh();
    await stub.take(5, HOUR);
    await stub.admit();
    const alarm = await runInDurableObject(stub, (_instance: LoginThrottle, state) => state.storage.getAlarm());
    // The later of the two: the streak's quiet day.
    expect(alarm).toBeGreaterThan(Date.now() + DAY - HOUR);

    // A live state survives the alarm (it re-arms); a stale one is deleted.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_instance: LoginThrottle, state) => state.storage.kv.get("streak"))).toBeTruthy();
    await runInDurableObject(stub, (_instance: LoginThrottle, state) => {
      state.storage.kv.put("streak", { failures: 9, lastFailureAt: Date.now() - DAY - 1 });
      state.storage.kv.put("window", { windowMs: HOUR, times: [Date.now() - HOUR - 1] });
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = await runInDurableObject(stub, async (_instance: LoginThrottle, state) => ({
      keys: [...state.storage.kv.list()].length,
      alarm: await state.storage.getAlarm(),
    }));
    expect(left).toEqual({ keys: 0, alarm: null });
  });
});
