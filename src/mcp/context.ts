/**
 * What a tool handler works with: the calling user's own Runtime Durable Object, the Worker's
 * settings, and who is calling. The user comes from the grant (the OAuth provider puts its props
 * on the request, for a token or an agent key; ./http.ts runs the request as that grant), never
 * from tool input, so one user's calls can only ever reach that user's data.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { AgentProps, AuthProps } from "../auth/grant";
import { runtimeOf, type RuntimeApi } from "../runtime/api";
import type { KeyConfirmation } from "./key-confirmation";

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

/** Whether the client of the request may render MCP Apps (./app.ts `mayRenderApps`). */
const requestApps = new AsyncLocalStorage<boolean>();

/** Runs `serve` for a client that may (or, as it declared, does not) render MCP Apps. */
export function runForClient<T>(apps: boolean, serve: () => T): T {
  return requestApps.run(apps, serve);
}

/** Unknown (no request body read, as for a GET) counts as may: a client ignores what it cannot render. */
export const clientMayRenderApps = (): boolean => requestApps.getStore() ?? true;

interface RequestGrant {
  grant: AuthProps;
  /** An agent key still to be confirmed by the Runtime during this request (./key-confirmation.ts). */
  key?: KeyConfirmation;
}

const requestGrant = new AsyncLocalStorage<RequestGrant>();

/** Runs `serve` (one MCP request, and everything it starts) as the grant's user and caller. */
export function runAsGrant<T>(grant: AuthProps, key: KeyConfirmation | undefined, serve: () => T): T {
  return requestGrant.run({ grant, key }, serve);
}

function grantOfRequest(): RequestGrant {
  const store = requestGrant.getStore();
  if (store === undefined || store.grant.userId.length === 0) {
    // The OAuth provider only lets authenticated requests reach /mcp; a request without a user
    // is a wiring bug, and must never fall back to a shared object.
    throw new Error("authenticated request without a user id");
  }
  return store;
}

export function userIdOfRequest(): string {
  return grantOfRequest().grant.userId;
}

export function callerOfRequest(): Caller {
  const { agent } = grantOfRequest().grant;
  return agent ? { kind: "agent", ...agent } : { kind: "owner" };
}

/** The user's Runtime as this request's handlers call it (through the key's confirmation while it is pending). */
export function runtimeOfRequest(env: Cloudflare.Env): RuntimeApi {
  const { grant, key } = grantOfRequest();
  return key?.runtime ?? runtimeOf(env, grant.userId);
}
