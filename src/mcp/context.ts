/**
 * What a tool handler works with: the calling user's own Runtime Durable Object and the
 * Worker's settings. The user comes from the OAuth grant (the provider puts its props on the
 * request; ./http.ts runs the request as that user), never from tool input, so one user's calls
 * can only ever reach that user's data.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { RuntimeApi } from "../runtime/api";

export interface ToolContext {
  runtime: RuntimeApi;
  env: Cloudflare.Env;
}

const requestUser = new AsyncLocalStorage<string>();
/** Whether the client of the request may render MCP Apps (./app.ts `mayRenderApps`). */
const requestApps = new AsyncLocalStorage<boolean>();

/** Runs `serve` (one MCP request, and everything it starts) as the user of the grant. */
export function runAsUser<T>(userId: string, serve: () => T): T {
  return requestUser.run(userId, serve);
}

/** Runs `serve` for a client that may (or, as it declared, does not) render MCP Apps. */
export function runForClient<T>(apps: boolean, serve: () => T): T {
  return requestApps.run(apps, serve);
}

/** Unknown (no request body read, as for a GET) counts as may: a client ignores what it cannot render. */
export const clientMayRenderApps = (): boolean => requestApps.getStore() ?? true;

export function userIdOfRequest(): string {
  const userId = requestUser.getStore();
  if (userId === undefined || userId.length === 0) {
    // The OAuth provider only lets authenticated requests reach /mcp; a request without a user
    // is a wiring bug, and must never fall back to a shared object.
    throw new Error("authenticated request without a user id");
  }
  return userId;
}
