/**
 * What the model-based tests share (docs/testing.md): bounded fast-check runs with replay, and
 * checking a call's outcome against the code the model expects.
 */
import type fc from "fast-check";
import { expect } from "vitest";
import type { ErrorCode, Outcome } from "../../src/runtime/kernel/errors";

/** Set to the `{ seed, path }` a failure printed to replay exactly that run. */
export const REPLAY = undefined as { seed: number; path: string } | undefined;

/**
 * Bounded runs; shrinking a failure is cut off after a minute, so the seed and the smallest
 * counterexample found so far are always printed before the test's own timeout.
 */
export const settings = <T>(numRuns: number): fc.Parameters<T> =>
  REPLAY ? { seed: REPLAY.seed, path: REPLAY.path, endOnFailure: true } : { numRuns, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true };

export const pick = <T>(list: readonly T[], n: number): T | undefined => (list.length === 0 ? undefined : list[n % list.length]);

/** What a call is expected to answer: success, or one of the error codes that apply. */
export type Expected = "ok" | ErrorCode | readonly ErrorCode[];

/** Checks `outcome` against `expected`; returns the value of a success. */
export function expectOutcome<T>(outcome: Outcome<T>, expected: Expected, what: string): T | undefined {
  if (expected === "ok") {
    expect(outcome, what).toMatchObject({ ok: true });
    return outcome.ok ? outcome.value : undefined;
  }
  const codes: readonly ErrorCode[] = typeof expected === "string" ? [expected] : expected;
  expect(outcome.ok, `${what}: expected ${codes.join(" or ")}`).toBe(false);
  if (!outcome.ok) expect(codes, `${what}: ${outcome.error.code}: ${outcome.error.message}`).toContain(outcome.error.code);
  return undefined;
}
