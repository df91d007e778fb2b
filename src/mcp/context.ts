/**
 * What a tool handler works with: the calling user's own Runtime Durable Object, the Worker's
 * settings, and who is calling. The user comes from the grant (the OAuth provider puts its props
 * on the request, for a token or an agent key; ./http.ts runs the request as that grant), never
 * from tool input, so one user's calls can only ever reach that user's data.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { AgentProps, AuthProps } from "../auth/grant";
import type { RuntimeApi } from "../runtime/api";

/**
 * Who a call comes from: the owner (signed in with OAuth), who may act as any agent, or an agent
 * signed in with its own key, who acts as that agent only (./caller.ts has the rules).
 */
export type Caller = { kind: "owner" } | ({ kind: "agent" } & AgentProps);

export interface ToolContext {
  runtime: RuntimeApi;
  env: Cloudflare.Env;
  caller: Caller;
}

const requestGrant = new AsyncLocalStorage<AuthProps>();

/** Runs `serve` (one MCP request, and everything it starts) as the grant's user and caller. */
export function runAsGrant<T>(grant: AuthProps, serve: () => T): T {
  return requestGrant.run(grant, serve);
}

function grantOfRequest(): AuthProps {
  const grant = requestGrant.getStore();
  if (grant === undefined || grant.userId.length === 0) {
    // The OAuth provider only lets authenticated requests reach /mcp; a request without a user
    // is a wiring bug, and must never fall back to a shared object.
    throw new Error("authenticated request without a user id");
  }
  return grant;
}

export function userIdOfRequest(): string {
  return grantOfRequest().userId;
}

export function callerOfRequest(): Caller {
  const { agent } = grantOfRequest();
  return agent ? { kind: "agent", ...agent } : { kind: "owner" };
}
