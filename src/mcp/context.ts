/**
 * What a tool handler works with: the calling user's own Runtime Durable Object and the
 * Worker's settings. The user comes from the OAuth grant (`getMcpAuthContext`), never from
 * tool input, so one user's calls can only ever reach that user's data.
 */
import { getMcpAuthContext } from "agents/mcp/server";
import type { AuthProps } from "../auth/grant";
import type { RuntimeApi } from "../runtime/api";

export interface ToolContext {
  runtime: RuntimeApi;
  env: Cloudflare.Env;
}

export function userIdOfRequest(): string {
  const props = getMcpAuthContext()?.props as Partial<AuthProps> | undefined;
  if (typeof props?.userId !== "string" || props.userId.length === 0) {
    // The OAuth provider only lets authenticated requests reach /mcp; a grant without a user
    // is a wiring bug, and must never fall back to a shared object.
    throw new Error("authenticated request without a user id");
  }
  return props.userId;
}
