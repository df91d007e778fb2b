/**
 * Agent keys (docs/security.md, "Agent keys"): credentials the owner makes for headless agents and
 * scripts, each for one agent_id, optionally limited to roles, to one endpoint set and in time.
 * This domain keeps their records — the SHA-256 of each secret, never the secret — and answers who
 * a key belongs to. The key string itself (its format, the secret, the hash) is made and read in
 * the Worker (src/auth/agent-keys.ts); what a keyed call may do is enforced by the tools.
 */
import { invalid } from "../kernel/errors";
import { LIMITS } from "../kernel/limits";

export const KEY_LIMITS = {
  /** Keys kept per user, revoked and expired ones included (the oldest of those make room). */
  keys: 100,
  roles: 16,
  role: 64,
  agentId: LIMITS.agentId,
  /** How often a key's last use is written at most: a check within it is a read only. */
  lastUseEveryMs: 60_000,
} as const;

/** The role that means the person who owns the instance (SPEC §14): never an agent's. */
export const OWNER_ROLE = "owner";

/** The endpoint set a key works on when none is named: `/mcp`, which covers every endpoint. */
export const ALL_ENDPOINTS = "/mcp";

export type KeyStatus = "active" | "expired" | "revoked";

/** A key as the owner's list shows it; times are ISO 8601 UTC. */
export interface AgentKey {
  key_id: string;
  agent_id: string;
  /** The roles it may ask for; null: any. */
  roles: string[] | null;
  endpoint: string;
  status: KeyStatus;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** Who a live key's bearer is: what a keyed call acts as. */
export interface AgentKeyGrant {
  key_id: string;
  agent_id: string;
  roles: string[] | null;
  endpoint: string;
}

export type KeyRefusal = "unknown" | "revoked" | "expired";

/**
 * The answer to a key check: its grant and expiry (epoch ms, or null), or why it does not sign in
 * (`unknown` also for a wrong secret).
 */
export type KeyCheck = { ok: true; grant: AgentKeyGrant; expires_at: number | null } | { ok: false; reason: KeyRefusal };

/** One call of a keyed request, checked in the object first: the call's value, or why the key was refused. */
export type KeyedCall = { value: unknown } | { refused: KeyRefusal };

/** A key to store, as the Worker made it: its id and the hash of its secret. */
export interface NewAgentKey {
  key_id: string;
  /** SHA-256 of the secret, lower-case hex. */
  secret_hash: string;
  agent_id: string;
  roles?: readonly string[];
  /** An endpoint's path, e.g. `/mcp/core`; default `/mcp` (all). */
  endpoint?: string;
  /** Epoch ms; absent: it never expires. */
  expires_at?: number;
}

export interface AgentKeyRow {
  id: string;
  secret_hash: string;
  agent_id: string;
  roles: string | null;
  endpoint: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  [key: string]: SqlStorageValue;
}

export const KEY_ID = /^[a-z2-7]{12}$/;
export const SECRET_HASH = /^[0-9a-f]{64}$/;
const ENDPOINT = /^\/mcp(\/[a-z][a-z0-9-]{0,31})?$/;
/** On one line: no control characters or Unicode line breaks (as agent ids in tools). */
const ONE_LINE = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/;

function oneLineName(field: string, value: string, max: number): string {
  if (value.length < 1 || value.length > max) throw invalid(field, `1 to ${max} characters`);
  if (!/\S/.test(value)) throw invalid(field, "a name, not blank");
  if (!ONE_LINE.test(value)) throw invalid(field, "a name on one line, without control characters");
  return value;
}

/** The key's roles, checked: 1..16 distinct one-line names, never `owner`; none given: null (any). */
export function keyRoles(roles: readonly string[] | undefined): string[] | null {
  if (roles === undefined) return null;
  if (roles.length < 1 || roles.length > KEY_LIMITS.roles) throw invalid("roles", `1 to ${KEY_LIMITS.roles} roles, or none for any`);
  const checked = roles.map((role, i) => oneLineName(`roles[${i}]`, role, KEY_LIMITS.role));
  if (checked.includes(OWNER_ROLE)) throw invalid("roles", `"${OWNER_ROLE}" is the owner's, never an agent's`);
  return [...new Set(checked)];
}

/** Checks a new key's fields; returns what is stored. */
export function checkNewKey(
  input: NewAgentKey,
  now: number,
): Pick<AgentKeyRow, "id" | "secret_hash" | "agent_id" | "roles" | "endpoint" | "expires_at"> {
  if (!KEY_ID.test(input.key_id)) throw invalid("key_id", "12 base32 characters");
  if (!SECRET_HASH.test(input.secret_hash)) throw invalid("secret_hash", "a SHA-256 in hex");
  const endpoint = input.endpoint ?? ALL_ENDPOINTS;
  if (!ENDPOINT.test(endpoint)) throw invalid("endpoint", "the path of an endpoint, e.g. /mcp or /mcp/core");
  if (input.expires_at !== undefined && (!Number.isSafeInteger(input.expires_at) || input.expires_at <= now)) {
    throw invalid("expires_at", "a time in the future");
  }
  const roles = keyRoles(input.roles);
  return {
    id: input.key_id,
    secret_hash: input.secret_hash,
    agent_id: oneLineName("agent_id", input.agent_id, KEY_LIMITS.agentId),
    roles: roles === null ? null : JSON.stringify(roles),
    endpoint,
    expires_at: input.expires_at ?? null,
  };
}

export function statusOf(row: AgentKeyRow, now: number): KeyStatus {
  if (row.revoked_at !== null) return "revoked";
  if (row.expires_at !== null && row.expires_at <= now) return "expired";
  return "active";
}

export const grantOf = (row: AgentKeyRow): AgentKeyGrant => ({
  key_id: row.id,
  agent_id: row.agent_id,
  roles: row.roles === null ? null : (JSON.parse(row.roles) as string[]),
  endpoint: row.endpoint,
});
