/**
 * Failed-password throttling, one Durable Object per client IP so the count is exact however many
 * Worker isolates serve the requests. An attempt is counted as a failure *before* the password is
 * checked and forgiven on success, so a burst of parallel guesses cannot slip past the limit.
 *
 * Policy: FREE_FAILURES failures are free; after that every further attempt waits, doubling from
 * BASE_DELAY up to MAX_DELAY. Failures older than FORGET_AFTER are forgotten.
 */
import { DurableObject } from "cloudflare:workers";

export const FREE_FAILURES = 5;
const BASE_DELAY_MS = 30_000;
const MAX_DELAY_MS = 60 * 60_000;
const FORGET_AFTER_MS = 60 * 60_000;

interface ThrottleState {
  failures: number;
  lastFailureAt: number;
}

export type Admission = { admitted: true } | { admitted: false; retryAfterSeconds: number };

/**
 * Whose failures count together. The IP comes from CF-Connecting-IP, set by Cloudflare's edge
 * and by wrangler dev (never X-Forwarded-For, which a client could rotate). An IPv6 host usually
 * holds a whole /64, so IPv6 addresses are counted by their /64 prefix.
 */
export function throttleKey(ip: string | null): string {
  if (!ip) return "unknown";
  if (!ip.includes(":")) return ip;
  const [head, tail = ""] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = ip.includes("::") && tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

export function delayAfter(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (failures - FREE_FAILURES));
}

export class LoginThrottle extends DurableObject {
  /** Admits an attempt (and provisionally counts it as a failure), or says how long to wait. */
  admit(): Admission {
    const now = Date.now();
    let state = this.ctx.storage.kv.get<ThrottleState>("state") ?? { failures: 0, lastFailureAt: 0 };
    if (now - state.lastFailureAt > FORGET_AFTER_MS) state = { failures: 0, lastFailureAt: 0 };
    const waitUntil = state.lastFailureAt + delayAfter(state.failures);
    if (now < waitUntil) return { admitted: false, retryAfterSeconds: Math.ceil((waitUntil - now) / 1000) };
    this.ctx.storage.kv.put("state", { failures: state.failures + 1, lastFailureAt: now });
    return { admitted: true };
  }

  /** The admitted attempt was right: forget the failures. */
  succeeded(): void {
    this.ctx.storage.kv.delete("state");
  }
}
