/**
 * The dashboard's sign-in session and its defences against cross-site requests.
 *
 * A session is a random id in a cookie (`HttpOnly`, `SameSite=Strict`, `Max-Age`; over https
 * `__Host-` and `Secure`, so no other subdomain or plain-http page can set or read it). Only the
 * id's SHA-256 is stored, in OAUTH_KV with the same expiry, next to a per-session CSRF token that
 * every page embeds and every POST must send back. Signing out deletes the record. The record
 * also keeps a stamp of the owner password it was opened with (auth/password.ts): changing
 * OWNER_PASSWORD ends every session.
 *
 * A state-changing request must also come from one of our own pages: its Origin must be ours (or,
 * without one, Sec-Fetch-Site must say same-origin). With SameSite=Strict that is three separate
 * reasons a cross-site form cannot act as the owner.
 */
import { passwordStamp } from "../auth/password";

/** How long a sign-in lasts. There is no "remember me": the owner signs in again after this. */
export const SESSION_SECONDS = 12 * 60 * 60;
const KEY_PREFIX = "dashboard-session:";

export interface Session {
  /** The value of the cookie (only ever compared as its hash in storage). */
  id: string;
  /** Goes into every form and the X-CSRF-Token header of every script POST. */
  csrf: string;
  expiresAt: number;
}

interface StoredSession {
  csrf: string;
  expiresAt: number;
  /** The owner password's stamp when the session began. */
  password: string;
}

const SESSION_STAMP = "dashboard-session";

const isHttps = (request: Request) => new URL(request.url).protocol === "https:";

/** `__Host-ar_session` over https (requires Secure, Path=/, no Domain); `ar_session` over http. */
export const cookieName = (request: Request) => (isHttps(request) ? "__Host-ar_session" : "ar_session");

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function storageKey(id: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id));
  return KEY_PREFIX + [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function cookieValue(request: Request, name: string): string | null {
  for (const part of (request.headers.get("Cookie") ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return null;
}

function setCookie(request: Request, value: string, maxAge: number): string {
  const secure = isHttps(request) ? "; Secure" : "";
  return `${cookieName(request)}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

/** Starts a session; returns it and the Set-Cookie header value. */
export async function createSession(request: Request, env: Cloudflare.Env): Promise<{ session: Session; cookie: string }> {
  const session: Session = { id: randomId(), csrf: randomId(), expiresAt: Date.now() + SESSION_SECONDS * 1000 };
  const password = await passwordStamp(env.OWNER_PASSWORD, SESSION_STAMP);
  if (password === null) throw new Error("a session needs an owner password (sign-in checks it first)");
  const stored: StoredSession = { csrf: session.csrf, expiresAt: session.expiresAt, password };
  await env.OAUTH_KV.put(await storageKey(session.id), JSON.stringify(stored), { expirationTtl: SESSION_SECONDS });
  return { session, cookie: setCookie(request, session.id, SESSION_SECONDS) };
}

/** The request's live session, or null (no cookie, unknown, or expired). */
export async function readSession(request: Request, env: Cloudflare.Env): Promise<Session | null> {
  const id = cookieValue(request, cookieName(request));
  if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
  const stored = await env.OAUTH_KV.get<StoredSession>(await storageKey(id), "json");
  // KV expiry is lazy by up to a minute; the stored time is exact.
  if (!stored || stored.expiresAt <= Date.now()) return null;
  if (stored.password !== (await passwordStamp(env.OWNER_PASSWORD, SESSION_STAMP))) return null;
  return { id, csrf: stored.csrf, expiresAt: stored.expiresAt };
}

/** Ends the session; returns the Set-Cookie header value that clears the cookie. */
export async function endSession(request: Request, env: Cloudflare.Env, session: Session | null): Promise<string> {
  if (session) await env.OAUTH_KV.delete(await storageKey(session.id));
  return setCookie(request, "", 0);
}

/**
 * Could this request come from one of our own pages? Browsers send Origin with every POST and
 * WebSocket handshake. Where it is missing or "null" (a no-referrer policy turns it into "null";
 * so does a sandboxed frame), Sec-Fetch-Site decides, which a page cannot forge. A request with
 * neither is not from a browser page at all and is refused too.
 */
export function fromOwnPage(request: Request): boolean {
  const origin = request.headers.get("Origin");
  if (origin !== null && origin !== "null") return origin === new URL(request.url).origin;
  return request.headers.get("Sec-Fetch-Site") === "same-origin";
}

/** The CSRF token a POST carries (form field or header) matches the session's, in constant time. */
export async function csrfMatches(session: Session, sent: string | null): Promise<boolean> {
  if (!sent) return false;
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(sent)),
    crypto.subtle.digest("SHA-256", encoder.encode(session.csrf)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}
