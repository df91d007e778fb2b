/**
 * A sliding-window counter (pure: the Durable Object in throttle.ts keeps it): at most `limit`
 * events in any `windowMs`, exactly, not an estimate. It keeps the time of each event in the
 * window, so the limits it serves are bounded (MAX_WINDOW_LIMIT).
 */
export const MAX_WINDOW_LIMIT = 10_000;

export interface Window {
  windowMs: number;
  /** Times of the events still in the window, oldest first. */
  times: number[];
}

/** `at` is the event's ticket: pass it to giveBack() if the event did not happen after all. */
export type Taken = { ok: true; at: number } | { ok: false; retryAfterSeconds: number };

/** Records an event at `now` if fewer than `limit` happened in the last `windowMs`. */
export function take(window: Window | undefined, limit: number, windowMs: number, now: number): { taken: Taken; next?: Window } {
  const times = (window?.times ?? []).filter((time) => time > now - windowMs);
  if (times.length >= limit) {
    // The count falls below the limit when the (length - limit + 1)th oldest event leaves the window.
    const frees = times[times.length - limit] + windowMs;
    return { taken: { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((frees - now) / 1000)) } };
  }
  return { taken: { ok: true, at: now }, next: { windowMs, times: [...times, now] } };
}

/** Takes back one event recorded at `at`. */
export function giveBack(window: Window | undefined, at: number): Window | undefined {
  if (!window) return undefined;
  const index = window.times.lastIndexOf(at);
  if (index < 0) return window;
  const times = window.times.filter((_, i) => i !== index);
  return times.length ? { windowMs: window.windowMs, times } : undefined;
}

/** When the stored window may be deleted: its newest event has left it. */
export function forgetAt(window: Window): number {
  return (window.times.at(-1) ?? 0) + window.windowMs;
}
