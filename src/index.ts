/**
 * Worker entry: the OAuth provider in front, the stateless MCP endpoint behind it, and the
 * Durable Object classes the bindings name.
 */
import { OAuthProvider } from "@cloudflare/workers-oauth-provider";
import { env } from "cloudflare:workers";
import { handleAuthorize, type EnvWithOAuth } from "./auth/authorize";
import { mcpApiHandler } from "./mcp/server";

export { LoginThrottle } from "./auth/throttle";
export { Runtime } from "./runtime/runtime";

export const oauthOptions = {
  // Only requests to /mcp and the endpoints below it (/mcp/core, …) need a token; everything else
  // is discovery and sign-in. The provider covers a resource's descendants: one resource, /mcp,
  // and a token for it, serve every endpoint (docs/tools.md, "Endpoints").
  apiRoute: "/mcp",
  apiHandler: mcpApiHandler,
  defaultHandler: {
    fetch: (request: Request, env: Cloudflare.Env) => {
      const url = new URL(request.url);
      if (url.pathname === "/authorize") return handleAuthorize(request, env as EnvWithOAuth);
      if (url.pathname === "/") return Response.redirect(new URL("/mcp", url).toString(), 302);
      return new Response("Not Found", { status: 404 });
    },
  },
  authorizeEndpoint: "/authorize",
  tokenEndpoint: "/oauth/token",
  // Dynamic client registration: how Claude Code, Cursor and the Inspector introduce themselves.
  clientRegistrationEndpoint: "/oauth/register",
  // Tokens are bound to this exact URL (RFC 8707); it must be what clients type, localhost ≠ 127.0.0.1.
  resourceMetadata: { resource: env.MCP_RESOURCE },
};

export default new OAuthProvider(oauthOptions);
