/**
 * Making agent keys (docs/security.md, "Agent keys"): the owner's form as a key request, and the
 * one way a key is issued — minted in the Worker (src/auth/agent-keys.ts), its user marked as one
 * with keys, its record (the secret's hash, never the secret) stored in the user's Runtime.
 */
import { mintAgentKey, rememberKeyUser } from "../auth/agent-keys";
import { ENDPOINTS } from "../mcp/endpoints";
import { runtimeOf } from "../runtime/api";
import { mapOutcome, type Outcome } from "../runtime/kernel/errors";
import type { AgentKey } from "../runtime/keys/model";

/** What the owner asks for; checked by the Runtime (src/runtime/keys/model.ts). */
export interface KeyRequest {
  agent_id: string;
  roles?: string[];
  endpoint?: string;
  /** Epoch ms; absent: never. */
  expires_at?: number;
}

export interface IssuedKey {
  /** The key itself: shown once, stored nowhere. */
  key: string;
  record: AgentKey;
}

/** The expiries the form offers, in days; "" is never. */
export const EXPIRY_DAYS = [1, 7, 30, 90, 365] as const;

export const ENDPOINT_PATHS = Object.keys(ENDPOINTS);

export async function issueAgentKey(env: Cloudflare.Env, userId: string, request: KeyRequest): Promise<Outcome<IssuedKey>> {
  const minted = await mintAgentKey(userId);
  // The marker first: a stored key always has its user marked (the check looks there first).
  await rememberKeyUser(env, userId);
  const stored = await runtimeOf(env, userId).createAgentKey({ ...request, key_id: minted.keyId, secret_hash: minted.secretHash });
  return mapOutcome(stored, (record) => ({ key: minted.key, record }));
}

/** The create form as a key request, or what is wrong with it (in the form's own words). */
export function keyRequestOf(form: FormData, now = Date.now()): { ok: true; request: KeyRequest } | { ok: false; message: string } {
  const agentId = String(form.get("agent_id") ?? "").trim();
  if (!agentId) return { ok: false, message: "Name the agent the key is for." };
  const roles = String(form.get("roles") ?? "")
    .split(/[,\n]/)
    .map((role) => role.trim())
    .filter((role) => role.length > 0);
  const endpoint = String(form.get("endpoint") ?? "/mcp");
  if (!ENDPOINT_PATHS.includes(endpoint)) return { ok: false, message: `There is no endpoint ${endpoint}.` };
  const days = String(form.get("expires_in_days") ?? "");
  if (days !== "" && !EXPIRY_DAYS.some((d) => String(d) === days)) return { ok: false, message: "Choose an expiry from the list." };
  return {
    ok: true,
    request: {
      agent_id: agentId,
      ...(roles.length > 0 && { roles }),
      endpoint,
      ...(days !== "" && { expires_at: now + Number(days) * 86_400_000 }),
    },
  };
}
