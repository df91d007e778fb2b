/**
 * Waiting instead of polling (docs/tasks.md, docs/relay.md). A call that finds nothing for its
 * caller may wait here instead of being asked again and again. A waiter is a *topic* and an
 * *attempt* (try again now: an answer, or null for "still nothing"). Every successful write of the
 * object *pokes* the topics it may concern: their waiters are tried again in the order they came,
 * the longest-waiting first, each attempt on its own (one transaction), and a waiter is answered as
 * soon as its attempt answers. So two waiters can never be handed the same thing: the first one's
 * attempt has already taken it when the second one's runs. A waiter not served by its deadline is
 * let go with null, and its call answers as it would have without waiting.
 *
 * An attempt may also put its waiter to sleep until a time (an agent whose circuit breaker is
 * OPEN cannot be served before its cooldown ends): pokes pass it by until then, unless they
 * concern its agent (a write to that agent's breaker).
 *
 * This module knows nothing of tasks or batons. Waiters live in the object's memory only: nothing
 * about a wait is stored, and nothing depends on it for correctness. A restarted object has none
 * (the calls that waited fail and are retried by their clients).
 */
import { exhausted, invalid } from "./kernel/errors";
import { LIMITS } from "./kernel/limits";

export interface Topic {
  /** Waiters with the same key share one `mayServe` check per poke. */
  readonly key: string;
  /** A cheap check (a few index reads): false when no waiter of this topic could be served now. */
  mayServe(): boolean;
}

/** What a caller adds to a call to let it wait. */
export interface Waiting {
  /** Wait up to this many seconds (0..LIMITS.waitSecondsMax) for something to answer with. */
  wait_seconds?: number;
}

/** What an attempt may tell about its waiter besides its answer. */
export interface AttemptControl {
  /** Nothing can serve this waiter before `until` (ms): skip it until then. */
  sleepUntil(until: number): void;
}

export type Attempt<T> = (control: AttemptControl) => T | null;

/** A registered wait: its answer, and a way to withdraw it (the call failed after registering). */
export interface Registration<T> {
  answer: Promise<T | null>;
  cancel(): void;
}

interface Waiter {
  readonly topic: Topic;
  /** The agent the waiter waits as, if any: a poke for that agent wakes it from sleep. */
  readonly agent: string | undefined;
  asleepUntil: number;
  attempt: Attempt<unknown>;
  settle(result: { answer: unknown } | { error: unknown }): void;
}

/** What a poke concerns: topics by key, and the agent whose state changed (or every agent), if any. */
export interface Poke {
  concerns(key: string): boolean;
  /** An agent whose breaker changed: its sleeping waiters are tried too. */
  agent?: string;
  /** Time itself moved (the alarm): every sleeping waiter is tried too. */
  everyone?: boolean;
  now: number;
}

export class Waiters {
  /** In arrival order: a Set iterates in insertion order. */
  private readonly waiting = new Set<Waiter>();

  constructor(readonly capacity: number = LIMITS.waitersPerObject) {}

  get size(): number {
    return this.waiting.size;
  }

  /**
   * Registers a waiter at once (synchronously, so that no write can come between the caller's
   * own first look and the registration); its answer is the first non-null answer of `attempt`
   * during a poke, or null after `seconds`. Throws `resource_exhausted` when `capacity` calls
   * already wait.
   */
  wait<T>(topic: Topic, seconds: number, attempt: Attempt<T>, agent?: string): Registration<T> {
    assertWaitSeconds(seconds);
    if (this.waiting.size >= this.capacity) {
      throw exhausted(`${this.capacity} calls are already waiting here; ask again later, or without wait_seconds`);
    }
    let waiter!: Waiter;
    const answer = new Promise<T | null>((resolve, reject) => {
      const timer = setTimeout(() => waiter.settle({ answer: null }), seconds * 1000);
      waiter = {
        topic,
        agent,
        asleepUntil: 0,
        attempt,
        settle: (result) => {
          if (!this.waiting.delete(waiter)) return;
          clearTimeout(timer);
          if ("error" in result) reject(result.error);
          else resolve(result.answer as T | null);
        },
      };
      this.waiting.add(waiter);
    });
    return { answer, cancel: () => waiter.settle({ answer: null }) };
  }

  /**
   * Tries again, longest-waiting first, every waiter whose topic the poke concerns, that is not
   * asleep, and whose topic may serve now; answers those whose attempt answers. An attempt that
   * throws (a bug) fails only its own call. Synchronous: nothing else runs in the object meanwhile.
   */
  poke(poke: Poke): void {
    const checked = new Map<string, boolean>();
    for (const waiter of [...this.waiting]) {
      if (!this.waiting.has(waiter)) continue;
      const { topic } = waiter;
      if (!poke.concerns(topic.key)) continue;
      if (waiter.asleepUntil > poke.now && !poke.everyone && (poke.agent === undefined || poke.agent !== waiter.agent)) continue;
      let may = checked.get(topic.key);
      if (may === undefined) {
        may = mayServe(topic);
        checked.set(topic.key, may);
      }
      if (!may) continue;
      let answer: unknown;
      try {
        answer = waiter.attempt({ sleepUntil: (until) => (waiter.asleepUntil = until) });
      } catch (error) {
        waiter.settle({ error });
        continue;
      }
      if (answer === null) continue;
      waiter.settle({ answer });
      // What this waiter took may have been the last thing another topic's check saw: look again.
      checked.clear();
    }
  }
}

/** A check that throws says nothing: let the attempts run, and fail one by one if they must. */
function mayServe(topic: Topic): boolean {
  try {
    return topic.mayServe();
  } catch {
    return true;
  }
}

export function assertWaitSeconds(seconds: number): void {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > LIMITS.waitSecondsMax) {
    throw invalid("wait_seconds", `0..${LIMITS.waitSecondsMax}`);
  }
}
