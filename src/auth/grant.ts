/**
 * What a grant says about who signed in; the tools read the user id from it, never from tool
 * input. An OAuth grant carries the user only: the owner, who may act as any agent. An agent key
 * (./agent-keys.ts) carries the user and the agent the key was made for.
 */
export interface AuthProps extends Record<string, unknown> {
  userId: string;
  /** Set when the bearer is an agent key: the call acts as this agent only. */
  agent?: AgentProps;
  /**
   * Set when the Worker knew the key from an earlier request and has not asked the user's Runtime
   * about it yet: the request's first call into the Runtime confirms it in the same round trip
   * (src/mcp/key-confirmation.ts), or the request asks once if it makes no such call.
   */
  unconfirmed?: UnconfirmedKey;
}

export interface UnconfirmedKey {
  key_id: string;
  secret_hash: string;
}

/**
 * A handler's answer when the Runtime refused a key the Worker had let through from what it knew:
 * the entry (src/index.ts) forgets the key and asks the OAuth provider again, which then checks
 * the key afresh and answers as it answers any refused bearer (401 with its challenge).
 */
export const KEY_RECHECK_HEADER = "X-Agent-Key-Recheck";

/** Who an agent key's bearer is (docs/security.md, "Agent keys"). */
export interface AgentProps {
  key_id: string;
  agent_id: string;
  /** The roles it may ask for; null: any. */
  roles: string[] | null;
  /** The endpoint set it works on: `/mcp` (all) or one below it, e.g. `/mcp/core`. */
  endpoint: string;
}

/** A personal instance has one user. An upstream identity provider would supply others. */
export const OWNER_USER_ID = "owner";
