/** What a grant says about who signed in; the tools read the user id from it, never from tool input. */
import { passwordStamp } from "./password";

export interface AuthProps extends Record<string, unknown> {
  userId: string;
  /**
   * Set by the consent page: the stamp of the owner password the grant was given under. A grant
   * without one was not made by the consent page (tests, tools) and is not tied to the password.
   */
  passwordStamp?: string;
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
