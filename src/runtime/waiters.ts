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

interface Waiter {
  readonly topic: Topic;
  attempt(): unknown;
  settle(result: { answer: unknown } | { error: unknown }): void;
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
   * own first look and the registration) and resolves with the first non-null answer of `attempt`
   * during a poke, or with null after `seconds`. Throws `resource_exhausted` when `capacity`
   * calls already wait.
   */
  wait<T>(topic: Topic, seconds: number, attempt: () => T | null): Promise<T | null> {
    assertWaitSeconds(seconds);
    if (this.waiting.size >= this.capacity) {
      throw exhausted(`${this.capacity} calls are already waiting here; ask again later, or without wait_seconds`);
    }
    return new Promise<T | null>((resolve, reject) => {
      const timer = setTimeout(() => waiter.settle({ answer: null }), seconds * 1000);
      const waiter: Waiter = {
        topic,
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
  }

  /**
   * Tries again, longest-waiting first, every waiter whose topic `concerns` accepts and whose
   * topic may serve now; answers those whose attempt answers. An attempt that throws (a bug)
   * fails only its own call. Synchronous: nothing else runs in the object meanwhile.
   */
  poke(concerns: (key: string) => boolean): void {
    const checked = new Map<string, boolean>();
    for (const waiter of [...this.waiting]) {
      if (!this.waiting.has(waiter)) continue;
      const { topic } = waiter;
      if (!concerns(topic.key)) continue;
      let may = checked.get(topic.key);
      if (may === undefined) {
        may = mayServe(topic);
        checked.set(topic.key, may);
      }
      if (!may) continue;
      let answer: unknown;
      try {
        answer = waiter.attempt();
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
