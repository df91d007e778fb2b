/**
 * LoginThrottle: one Durable Object per key, so every count at the sign-in door is exact however
 * many Worker isolates serve the requests. An object keeps one of two kinds of state, named by
 * its key (throttleName):
 *
 * - a failed-password streak of one address (`password:<address>`, policy in streak.ts);
 * - a sliding window of events (policy in window.ts): client registrations and authorization
 *   requests of one address (`register:<address>`, `authorize:<address>`) and the failed
 *   passwords of all addresses together (`password:*`).
 *
 * State that can no longer matter is deleted by the object's alarm, so strangers leave nothing
 * behind for longer than their limit remembers them.
 */
import { DurableObject } from "cloudflare:workers";
import * as streak from "./streak";
import * as window from "./window";

export { FREE_FAILURES } from "./streak";
export type { Admission } from "./streak";
export type { Taken } from "./window";

/** The object that counts `what` for `key` (an address from throttleKey, or `*` for all). */
export function throttleName(what: "password" | "register" | "authorize", key: string): string {
  return `${what}:${key}`;
}

/**
 * Whose requests count together. The IP comes from CF-Connecting-IP, set by Cloudflare's edge
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

/** The key of the requester's address. */
export const requesterKey = (request: Request) => throttleKey(request.headers.get("CF-Connecting-IP"));

export class LoginThrottle extends DurableObject {
  // ── a failed-password streak ──

  /** Admits an attempt (and provisionally counts it as a failure), or says how long to wait. */
  async admit(): Promise<streak.Admission> {
    const { admission, next } = streak.admit(this.streak(), Date.now());
    if (next) await this.save(next, this.window());
    return admission;
  }

  /** The admitted attempt was never checked: take its failure back. */
  async withdraw(): Promise<void> {
    await this.save(streak.withdraw(this.streak()), this.window());
  }

  /** The admitted attempt was right: forget the failures. */
  async succeeded(): Promise<void> {
    await this.save(undefined, this.window());
  }

  // ── a sliding window of events ──

  /** Records an event if fewer than `limit` happened in the last `windowMs`. */
  async take(limit: number, windowMs: number): Promise<window.Taken> {
    const { taken, next } = window.take(this.window(), limit, windowMs, Date.now());
    if (next) await this.save(this.streak(), next);
    return taken;
  }

  /** The event recorded at `at` did not happen after all (e.g. the registration was refused). */
  async giveBack(at: number): Promise<void> {
    await this.save(this.streak(), window.giveBack(this.window(), at));
  }

  /** Deletes whatever can no longer matter; arms itself again for what is left. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const kept = this.streak();
    const win = this.window();
    await this.save(kept && streak.forgetAt(kept) > now ? kept : undefined, win && window.forgetAt(win) > now ? win : undefined);
  }

  private streak(): streak.Streak | undefined {
    return this.ctx.storage.kv.get<streak.Streak>("streak");
  }

  private window(): window.Window | undefined {
    return this.ctx.storage.kv.get<window.Window>("window");
  }

  private async save(kept: streak.Streak | undefined, win: window.Window | undefined): Promise<void> {
    if (kept) this.ctx.storage.kv.put("streak", kept);
    else this.ctx.storage.kv.delete("streak");
    if (win) this.ctx.storage.kv.put("window", win);
    else this.ctx.storage.kv.delete("window");
    const forget = Math.max(kept ? streak.forgetAt(kept) : 0, win ? window.forgetAt(win) : 0);
    if (forget) return this.ctx.storage.setAlarm(forget);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }
}
