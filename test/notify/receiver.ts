/**
 * A fake webhook receiver for the workerd tests: the outside world, so it may be faked. The
 * Runtime Durable Objects run in the tests' own isolate, so replacing `globalThis.fetch` for
 * NOTIFY_URL's origin intercepts their POSTs. (The test plugin no longer has a fetch mock; the
 * Workers docs point to MSW's `@msw/cloudflare` for outbound requests, which is not in the tree
 * and would do no more here.) Every other request goes to the real fetch. The receiver records
 * each request and answers as the test says.
 */
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach } from "vitest";

export interface Received {
  headers: Record<string, string>;
  body: string;
}

/**
 * How the receiver answers one request: a status, "hang" (never answers: the sender's own timeout
 * ends it), "timeout" (as if that timeout had just fired) or "unreachable" (no connection).
 */
export type Answer = number | "hang" | "timeout" | "unreachable";

export interface FakeReceiver {
  readonly received: Received[];
  /** The answer to the n-th request (0-based) from now on; default 204. */
  answer(by: (request: Received, index: number) => Answer): void;
  /** The bodies received, parsed. */
  events(): { type: string; occurred_at: string; data: Record<string, unknown> }[];
  /** Verifies one request's signature with NOTIFY_SECRET, as a receiver would; returns the parsed body. */
  verify(request: Received): unknown;
}

/** Installs the receiver around every test of the calling file; events() are that test's. */
export function useReceiver(): FakeReceiver {
  const origin = new URL(env.NOTIFY_URL!).origin;
  const received: Received[] = [];
  let answerOf: (request: Received, index: number) => Answer = () => 204;
  const realFetch = globalThis.fetch;

  const fake = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    if (new URL(request.url).origin !== origin) return realFetch(input, init);
    // Recorded before anything is awaited, so `received` is in the order the requests were sent.
    const entry: Received = { headers: Object.fromEntries(request.headers), body: String(init?.body) };
    received.push(entry);
    const answer = answerOf(entry, received.length - 1);
    if (answer === "timeout") throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
    if (answer === "unreachable") throw new TypeError("Network connection lost.");
    if (answer === "hang") {
      return new Promise((_resolve, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason)));
    }
    return new Response(null, { status: answer });
  };

  beforeEach(() => {
    received.length = 0;
    answerOf = () => 204;
    globalThis.fetch = fake as typeof fetch;
  });
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  return {
    received,
    answer(by) {
      answerOf = by;
    },
    events: () => received.map((r) => JSON.parse(r.body)),
    verify: (request) => new Webhook(env.NOTIFY_SECRET!).verify(request.body, request.headers),
  };
}
