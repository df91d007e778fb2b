/**
 * Worker entry: the OAuth provider in front, the stateless MCP endpoint behind it, and the
 * Durable Object classes the bindings name.
 */
import { OAuthProvider } from "@cloudflare/workers-oauth-provider";
import { createMcpHandler } from "agents/mcp/server";
import { env } from "cloudflare:workers";
import { handleAuthorize } from "./auth/authorize";
import { handleDashboard, isDashboardPath } from "./dashboard/routes";
import type { Env, EnvWithOAuth } from "./env";
import { createServer } from "./mcp/server";

export { LoginThrottle } from "./auth/throttle";
export { Runtime } from "./runtime/runtime";

const mcpHandler = createMcpHandler(createServer, { route: "/mcp" });

export const oauthOptions = {
  // Only requests under /mcp need a token; everything else is discovery and sign-in.
  apiRoute: "/mcp",
  // The provider wants an object with fetch, not the handler function itself.
  apiHandler: { fetch: (request: Request, env: Env, ctx: ExecutionContext) => mcpHandler(request, env, ctx) },
  defaultHandler: {
    fetch: (request: Request, env: Env) => {
      const url = new URL(request.url);
      if (url.pathname === "/authorize") return handleAuthorize(request, env as EnvWithOAuth);
      // The owner's dashboard: `/` (sign-in), /app, /assets, /live, /export, /import (src/dashboard/).
      if (isDashboardPath(url.pathname)) return handleDashboard(request, env);
      return new Response("Not Found", { status: 404 });
    },
  },
  authorizeEndpoint: "/authorize",
  tokenEndpoint: "/oauth/token",
  // Dynamic client registration: how Claude Code, Cursor and the Inspector introduce themselves.
  clientRegistrationEndpoint: "/oauth/register",
  // Tokens are bound to this exact URL (RFC 8707); it must be what clients type, localhost ≠ 127.0.0.1.
  resourceMetadata: { resource: (env as unknown as Env).MCP_RESOURCE },
};

export default new OAuthProvider<Env>(oauthOptions);
