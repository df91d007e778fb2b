/** What a grant says about who signed in; the tools read the user id from it, never from tool input. */
export interface AuthProps extends Record<string, unknown> {
  userId: string;
}

/** A personal instance has one user. An upstream identity provider would supply others. */
export const OWNER_USER_ID = "owner";
