/**
 * The failed-password streak of one address (pure: the Durable Object in throttle.ts keeps it).
 *
 * FREE_FAILURES failures are free; after that every further attempt waits, doubling from
 * BASE_DELAY up to MAX_DELAY after the last failure. An attempt is counted as a failure when it
 * is admitted, *before* the password is checked, and forgiven on success, so a burst of parallel
 * guesses cannot slip past the limit.
 *
 * A streak is forgotten only after FORGET_AFTER without a failure, far longer than the longest
 * wait. Were it forgotten when the longest wait ends (as it once was), an attacker would get a
 * fresh set of free guesses every two hours; now pausing never beats guessing at the slowest
 * pace, which is one guess an hour.
 */
export const FREE_FAILURES = 5;
export const BASE_DELAY_MS = 30_000;
export const MAX_DELAY_MS = 60 * 60_000;
export const FORGET_AFTER_MS = 24 * 60 * 60_000;

export interface Streak {
  failures: number;
  lastFailureAt: number;
}

export type Admission = { admitted: true } | { admitted: false; retryAfterSeconds: number };

/** How long the next attempt waits after `failures` failures in a row. */
export function delayAfter(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (failures - FREE_FAILURES));
}

/** The streak as it stands at `now`: nothing once it has been quiet for FORGET_AFTER. */
export function current(streak: Streak | undefined, now: number): Streak | undefined {
  return streak && now - streak.lastFailureAt <= FORGET_AFTER_MS ? streak : undefined;
}

/** Admits an attempt at `now` (and counts it as a failure until it succeeds), or says how long to wait. */
export function admit(streak: Streak | undefined, now: number): { admission: Admission; next?: Streak } {
  const state = current(streak, now) ?? { failures: 0, lastFailureAt: 0 };
  const waitUntil = state.lastFailureAt + delayAfter(state.failures);
  if (now < waitUntil) return { admission: { admitted: false, retryAfterSeconds: Math.ceil((waitUntil - now) / 1000) } };
  return { admission: { admitted: true }, next: { failures: state.failures + 1, lastFailureAt: now } };
}

/**
 * An admitted attempt that was never checked (another limit refused it): its failure is taken
 * back. Its time stays, so the next wait can only be as long as or longer than it should be.
 */
export function withdraw(streak: Streak | undefined): Streak | undefined {
  if (!streak || streak.failures <= 1) return undefined;
  return { failures: streak.failures - 1, lastFailureAt: streak.lastFailureAt };
}

/** When the stored streak may be deleted. */
export function forgetAt(streak: Streak): number {
  return streak.lastFailureAt + FORGET_AFTER_MS;
}
