/**
 * Delivering notifications to NOTIFY_URL (docs/owner.md#notifications): the Runtime's one
 * outgoing request. The alarm hands over the due events (notify/outbox.ts); each is POSTed as
 * JSON, signed per Standard Webhooks with NOTIFY_SECRET, all of a batch at once, each bounded by
 * OUTBOX.timeoutMs, and what the receiver did comes back as outcomes for the outbox to record.
 * Nothing here throws: a failing, slow or unreachable receiver is an outcome like any other.
 */
import { Webhook } from "standardwebhooks";
import { OUTBOX } from "./notify/model";
import type { DeliveryOutcome, DueNotification } from "./notify/outbox";

/** Where notifications go, read from the Worker's settings when the Runtime starts. */
export type NotifyTarget =
  | { state: "off" }
  | { state: "invalid"; problem: string }
  | { state: "on"; url: string; host: string; signer: Webhook | null };

/** The target as the dashboard may show it: the host only (a URL's path or query may be a secret, e.g. an ntfy topic). */
export type NotifyTargetView = { state: "off" } | { state: "invalid"; problem: string } | { state: "on"; host: string; signed: boolean };

/** Hosts a plain-http NOTIFY_URL may name: a receiver on this machine (development, tests). */
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;
const SECRET_PREFIX = "whsec_";
/** Standard Webhooks: a key of 24 to 64 random bytes. */
const KEY_BYTES = { min: 24, max: 64 };

export function notifyTarget(url: string | undefined, secret: string | undefined): NotifyTarget {
  if (!url?.trim()) return { state: "off" };
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return { state: "invalid", problem: "NOTIFY_URL is not a URL." };
  }
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && LOOPBACK.test(parsed.hostname))) {
    return { state: "invalid", problem: "NOTIFY_URL must be an https URL (plain http only for localhost, 127.0.0.1 or [::1])." };
  }
  if (parsed.username || parsed.password) return { state: "invalid", problem: "NOTIFY_URL must not carry a user name or password." };
  if (!secret?.trim()) return { state: "on", url: parsed.href, host: parsed.host, signer: null };
  const signer = signerOf(secret.trim());
  if (!signer) {
    return { state: "invalid", problem: `NOTIFY_SECRET must be ${SECRET_PREFIX} followed by the base64 of ${KEY_BYTES.min} to ${KEY_BYTES.max} random bytes.` };
  }
  return { state: "on", url: parsed.href, host: parsed.host, signer };
}

function signerOf(secret: string): Webhook | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  try {
    const bytes = atob(secret.slice(SECRET_PREFIX.length)).length;
    if (bytes < KEY_BYTES.min || bytes > KEY_BYTES.max) return null;
    return new Webhook(secret);
  } catch {
    return null;
  }
}

export function targetView(target: NotifyTarget): NotifyTargetView {
  return target.state === "on" ? { state: "on", host: target.host, signed: target.signer !== null } : target;
}

/** POSTs every event of the batch at once; resolves when each has an outcome (OUTBOX.timeoutMs at most). */
export function deliver(target: Extract<NotifyTarget, { state: "on" }>, batch: readonly DueNotification[]): Promise<DeliveryOutcome[]> {
  return Promise.all(batch.map((event) => post(target, event)));
}

async function post(target: Extract<NotifyTarget, { state: "on" }>, event: DueNotification): Promise<DeliveryOutcome> {
  // Signed when sent, not when written: receivers refuse a webhook-timestamp minutes old.
  const sentAt = new Date();
  const headers = new Headers({
    "Content-Type": "application/json",
    "User-Agent": "agent-runtime-notifications",
    "webhook-id": event.message_id,
    "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
  });
  if (target.signer) headers.set("webhook-signature", target.signer.sign(event.message_id, sentAt, event.body));
  try {
    const response = await fetch(target.url, {
      method: "POST",
      headers,
      body: event.body,
      // A redirect is the receiver's misconfiguration, and following it would send the event elsewhere.
      redirect: "manual",
      signal: AbortSignal.timeout(OUTBOX.timeoutMs),
    });
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) return { id: event.id, delivered: true };
    return { id: event.id, delivered: false, error: `the receiver answered HTTP ${response.status}` };
  } catch (error) {
    return { id: event.id, delivered: false, error: failure(error, target) };
  }
}

/** Why a POST got no answer, in words that never repeat the URL (its path may be a secret). */
function failure(error: unknown, target: Extract<NotifyTarget, { state: "on" }>): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${OUTBOX.timeoutMs / 1000} s`;
  const message = error instanceof Error ? error.message : String(error);
  return `could not reach ${target.host}: ${message.split(target.url).join(target.host)}`;
}
