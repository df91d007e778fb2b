/**
 * What a grant says about who signed in; the tools read the user id from it, never from tool
 * input. An OAuth grant carries the user only: the owner, who may act as any agent. An agent key
 * (./agent-keys.ts) carries the user and the agent the key was made for.
 */
import { passwordStamp } from "./password";

export interface AuthProps extends Record<string, unknown> {
  userId: string;
  /**
   * Set by the consent page: the stamp of the owner password the grant was given under. A grant
   * without one was not made by the consent page (tests, tools, agent keys) and is not tied to
   * the password.
   */
  passwordStamp?: string;
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

const GRANT_STAMP = "oauth-grant";

/** The props of a grant the owner gives on the consent page now. */
export async function ownerGrantProps(env: Pick<Cloudflare.Env, "OWNER_PASSWORD">): Promise<AuthProps> {
  const stamp = await passwordStamp(env.OWNER_PASSWORD, GRANT_STAMP);
  return stamp === null ? { userId: OWNER_USER_ID } : { userId: OWNER_USER_ID, passwordStamp: stamp };
}

/**
 * Whether a grant still stands: one given under an owner password that has changed since does not
 * (docs/security.md, "Changing the owner password"). Checked on every MCP request and every refresh.
 */
export async function grantIsCurrent(props: Partial<AuthProps> | undefined, env: Pick<Cloudflare.Env, "OWNER_PASSWORD">): Promise<boolean> {
  if (props?.passwordStamp === undefined) return true;
  return props.passwordStamp === (await passwordStamp(env.OWNER_PASSWORD, GRANT_STAMP));
}
