/**
 * Agent keys in the Worker (docs/security.md, "Agent keys"): the key string, and checking a key
 * that a request presents as its bearer token. The OAuth provider hands us every bearer it did not
 * issue (`resolveExternalToken`), so a key rides on the same protected routes as a token, and a
 * wrong, revoked or expired one gets the provider's usual 401 with `WWW-Authenticate`.
 *
 * A key reads `ark_<user>_<key id>_<secret>`: the user whose Runtime object holds the key's record
 * (URI-encoded; `owner` on a personal instance), 12 base32 characters naming the record, and 32 of
 * secret (160 random bits). Only the secret's SHA-256 is stored. The key has no colons, so the
 * provider never takes it for one of its own tokens (`user:grant:secret`) and spends no KV read on it.
 *
 * Every request with a key is confirmed by the user's Runtime object, where revocation is written,
 * so a revoked key is refused on its next call from anywhere. The Worker keeps, per isolate, only
 * what never changes about a key it has seen (its user, its secret's hash, its agent, roles,
 * endpoint set and expiry): with it, the provider lets a known key through without a round trip,
 * and the request's first call into the Runtime confirms the key in that same trip
 * (src/mcp/key-confirmation.ts); a request that makes no such call asks once. An unknown key is
 * asked about before anything is served. Also cached: which users have ever had a key (a KV
 * marker written before their first key), so that a made-up user in a key never brings a Durable
 * Object, and its storage, into being.
 */
import { ExternalTokenError, type ResolveExternalTokenResult } from "@cloudflare/workers-oauth-provider";
import { KEY_RECHECK_HEADER, type AgentProps, type AuthProps } from "./grant";

export const AGENT_KEY_PREFIX = "ark_";
const KEY_ID_CHARS = 12;
const SECRET_CHARS = 32;
/** Longer than any key we make (a user id of up to 200 characters, URI-encoded): refused unread. */
const MAX_KEY_CHARS = 1_024;
const KEY_SHAPE = /^ark_([A-Za-z0-9%._~-]+)_([a-z2-7]{12})_([a-z2-7]{32})$/;

/** A new key: the string shown once, its record's id and the hash that is stored. */
export interface MintedKey {
  key: string;
  keyId: string;
  secretHash: string;
}

export interface ParsedKey {
  userId: string;
  keyId: string;
  secret: string;
}

/** What the user's Runtime answers about a key (src/runtime/keys/model.ts, KeyCheck). */
export type KeyCheckAnswer = { ok: true; grant: AgentProps; expires_at: number | null } | { ok: false; reason: "unknown" | "revoked" | "expired" };

/** Asks the Runtime object of `userId` about a key (wired in src/index.ts). */
export type KeyChecker = (env: Cloudflare.Env, userId: string, keyId: string, secretHash: string) => Promise<KeyCheckAnswer>;

function base32(length: number): string {
  // RFC 4648 base32, lower case: 5 bits of each random byte, URL- and header-safe.
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  return Array.from(crypto.getRandomValues(new Uint8Array(length)), (b) => alphabet[b & 31]).join("");
}

export async function secretHash(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The user as a key spells it: URI-encoded, and !'()* too, so that a key pastes into any shell line. */
const userPart = (userId: string) => encodeURIComponent(userId).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export async function mintAgentKey(userId: string): Promise<MintedKey> {
  const keyId = base32(KEY_ID_CHARS);
  const secret = base32(SECRET_CHARS);
  return { key: `${keyPrefix(userId, keyId)}_${secret}`, keyId, secretHash: await secretHash(secret) };
}

/** What a key string says, or null when it is not one of our keys. */
export function parseAgentKey(token: string): ParsedKey | null {
  if (token.length > MAX_KEY_CHARS || !token.startsWith(AGENT_KEY_PREFIX)) return null;
  const match = KEY_SHAPE.exec(token);
  if (!match) return null;
  try {
    const userId = decodeURIComponent(match[1]);
    return userId.length > 0 ? { userId, keyId: match[2], secret: match[3] } : null;
  } catch {
    return null;
  }
}

/** The part of a key that names it without giving it away, as lists show it: `ark_owner_<key id>`. */
export const keyPrefix = (userId: string, keyId: string) => `${AGENT_KEY_PREFIX}${userPart(userId)}_${keyId}`;

// ─── users that have keys ───

const KEY_USER_PREFIX = "agent-key-user:";
/** Users known in this isolate to have had a key. A marker is never removed, so this never goes stale. */
const keyUsers = new Set<string>();
const MAX_CACHED_USERS = 1_000;

function remember(userId: string): void {
  if (keyUsers.size >= MAX_CACHED_USERS) keyUsers.clear();
  keyUsers.add(userId);
}

/** Marks `userId` as a user with keys; call before storing the user's first key. */
export async function rememberKeyUser(env: Cloudflare.Env, userId: string): Promise<void> {
  if (keyUsers.has(userId)) return;
  await env.OAUTH_KV.put(`${KEY_USER_PREFIX}${userId}`, "1");
  remember(userId);
}

async function isKeyUser(env: Cloudflare.Env, userId: string): Promise<boolean> {
  if (keyUsers.has(userId)) return true;
  if ((await env.OAUTH_KV.get(`${KEY_USER_PREFIX}${userId}`)) === null) return false;
  remember(userId);
  return true;
}

// ─── keys this isolate has seen ───

/** What never changes about a key: enough to let it through until the Runtime confirms it. */
interface KnownKey {
  userId: string;
  secretHash: string;
  grant: AgentProps;
  expiresAt: number | null;
}

const knownKeys = new Map<string, KnownKey>();
const MAX_KNOWN_KEYS = 1_000;

function knownKey(parsed: ParsedKey, hash: string, now: number): KnownKey | undefined {
  const known = knownKeys.get(parsed.keyId);
  if (!known || known.userId !== parsed.userId || !sameHash(known.secretHash, hash)) return undefined;
  return known.expiresAt === null || known.expiresAt > now ? known : undefined;
}

/** Drops what this isolate knows of a key: its next request is checked before anything is served. */
export function forgetAgentKey(keyId: string): void {
  knownKeys.delete(keyId);
}

function sameHash(a: string, b: string): boolean {
  const encoder = new TextEncoder();
  return a.length === b.length && crypto.subtle.timingSafeEqual(encoder.encode(a), encoder.encode(b));
}

// ─── the provider's hook ───

/** Whether a request to `path` is inside the endpoint set `endpoint` (`/mcp` covers every one). */
export const withinEndpoint = (path: string, endpoint: string) => path === endpoint || path.startsWith(`${endpoint}/`);

/**
 * `resolveExternalToken` for the provider serving `resource`: the key's user and agent as the
 * grant's props (src/auth/grant.ts), or null (the provider answers 401 invalid_token), or an
 * ExternalTokenError saying why to the key's own holder (only once its secret matched). A key
 * this isolate knows is let through marked `unconfirmed`, for the request to confirm.
 */
export async function resolveAgentKey(
  input: { token: string; request: Request; env: Cloudflare.Env },
  resource: string,
  check: KeyChecker,
): Promise<ResolveExternalTokenResult | null> {
  const parsed = parseAgentKey(input.token);
  if (!parsed) return null;
  const hash = await secretHash(parsed.secret);
  const known = knownKey(parsed, hash, Date.now());
  let props: AuthProps;
  if (known) {
    props = { userId: parsed.userId, agent: known.grant, unconfirmed: { key_id: parsed.keyId, secret_hash: hash } };
  } else {
    if (!(await isKeyUser(input.env, parsed.userId))) return null;
    const answer = await check(input.env, parsed.userId, parsed.keyId, hash);
    if (!answer.ok) {
      if (answer.reason === "unknown") return null;
      forgetAgentKey(parsed.keyId);
      const description = answer.reason === "revoked" ? "This agent key was revoked." : "This agent key has expired.";
      throw new ExternalTokenError("invalid_token", { description, statusCode: 401 });
    }
    if (knownKeys.size >= MAX_KNOWN_KEYS) knownKeys.clear();
    knownKeys.set(parsed.keyId, { userId: parsed.userId, secretHash: hash, grant: answer.grant, expiresAt: answer.expires_at });
    props = { userId: parsed.userId, agent: answer.grant };
  }
  const { endpoint } = props.agent!;
  if (!withinEndpoint(new URL(input.request.url).pathname, endpoint)) {
    throw new ExternalTokenError("insufficient_scope", {
      description: `This agent key works on ${endpoint} only.`,
      statusCode: 403,
    });
  }
  // An opaque key has no audience of its own: it is made for this instance's one resource.
  return { props, audience: resource };
}

/**
 * Serves a request to the provider (`serve`); when the handler answers that the Runtime refused a
 * key let through unconfirmed (KEY_RECHECK_HEADER), forgets the key and serves the request's copy
 * again, so that the provider checks the key afresh and refuses it in its own words.
 */
export async function serveCheckingKeys(request: Request, serve: (request: Request) => Promise<Response>): Promise<Response> {
  const bearer = /^Bearer[\t ]+(\S+)$/i.exec(request.headers.get("Authorization") ?? "")?.[1];
  const parsed = bearer === undefined ? null : parseAgentKey(bearer);
  if (!parsed || !knownKeys.has(parsed.keyId)) return serve(request);
  const copy = request.clone();
  const response = await serve(request);
  if (!response.headers.has(KEY_RECHECK_HEADER)) return response;
  await response.body?.cancel();
  forgetAgentKey(parsed.keyId);
  return serve(copy);
}
