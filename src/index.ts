/**
 * Worker entry: the OAuth provider in front, the stateless MCP endpoint behind it, and the
 * Durable Object classes the bindings name.
 */
import { OAuthError, OAuthProvider, type OAuthProviderOptions } from "@cloudflare/workers-oauth-provider";
import { env } from "cloudflare:workers";
import { resolveAgentKey, serveCheckingKeys, type KeyChecker } from "./auth/agent-keys";
import { handleAuthorize, type EnvWithOAuth } from "./auth/authorize";
import { grantIsCurrent } from "./auth/grant";
import { accessTokenTtlSeconds, CLIENT_REGISTRATION_TTL_SECONDS } from "./auth/lifetimes";
import { mcpEndpoint, pageRedirect, refusal } from "./auth/resource";
import { guardStrangers } from "./auth/strangers";
import { handleDashboard, isDashboardPath } from "./dashboard/routes";
import { mcpApiHandler } from "./mcp/server";
import { runtimeOf } from "./runtime/api";

export { LoginThrottle } from "./auth/throttle";
export { Runtime } from "./runtime/runtime";

/** Everything but the resource, which depends on where the Worker is served (oauthOptionsFor). */
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
      // The owner's dashboard: `/` (sign-in), /app, /assets, /live, /export, /import (src/dashboard/).
      if (isDashboardPath(url.pathname)) return handleDashboard(request, env);
      return new Response("Not Found", { status: 404 });
    },
  },
  authorizeEndpoint: "/authorize",
  tokenEndpoint: "/oauth/token",
  // Dynamic client registration: how Claude Code, Cursor and the Inspector introduce themselves.
  clientRegistrationEndpoint: "/oauth/register",
  // A registered client unused for 30 days expires; the provider renews it on token requests.
  clientRegistrationTTL: CLIENT_REGISTRATION_TTL_SECONDS,
  // One hour; ACCESS_TOKEN_TTL_SECONDS shortens it for tests (docs/security.md).
  accessTokenTTL: accessTokenTtlSeconds(env.ACCESS_TOKEN_TTL_SECONDS),
  // A grant given under an owner password that has changed since is over: invalid_grant makes the
  // provider revoke it with all its tokens (docs/security.md, "Changing the owner password").
  tokenExchangeCallback: async ({ grantType, props, env }) => {
    if (grantType === "refresh_token" && !(await grantIsCurrent(props, env))) {
      throw new OAuthError("invalid_grant", { description: "the owner password changed since this client was allowed; sign in again" });
    }
  },
} satisfies Omit<OAuthProviderOptions, "resourceMetadata">;

// ─── the endpoint's URL: MCP_RESOURCE, or the origin the Worker is served from (docs/deploy.md) ───

/** The provider's options for one MCP endpoint URL (`resource`, from src/auth/resource.ts). */
export function oauthOptionsFor(resource: string): OAuthProviderOptions {
  return {
    ...oauthOptions,
    // Tokens are bound to this exact URL (RFC 8707); it covers /mcp and every path below it.
    resourceMetadata: { resource },
    // Client ID Metadata Documents (preferred by the 2026-07-28 MCP revision) on deployed, https
    // instances only: a local server keeps dynamic registration alone, which works offline and
    // fetches nothing on a client's behalf. Needs global_fetch_strictly_public (wrangler.toml).
    clientIdMetadataDocumentEnabled: resource.startsWith("https:"),
    // Agent keys (docs/security.md): a bearer the provider did not issue is checked against the
    // records in its user's Runtime object, on every request, so a revocation holds at once.
    resolveExternalToken: ({ token, request, env }) => resolveAgentKey({ token, request, env }, resource, checkKey),
  };
}

const checkKey: KeyChecker = (env, userId, keyId, secretHash) => runtimeOf(env, userId).checkAgentKey(keyId, secretHash);

/** One provider per endpoint URL, built on first use: a Worker is reached on very few origins. */
const providers = new Map<string, OAuthProvider>();
const MAX_PROVIDERS = 16;

function providerFor(resource: string): OAuthProvider {
  let provider = providers.get(resource);
  if (!provider) {
    if (providers.size >= MAX_PROVIDERS) providers.delete(providers.keys().next().value!);
    provider = new OAuthProvider(oauthOptionsFor(resource));
    providers.set(resource, provider);
  }
  return provider;
}

export default {
  fetch(request, env, ctx) {
    const endpoint = mcpEndpoint(request.url, env.MCP_RESOURCE);
    if (endpoint.kind === "elsewhere") return pageRedirect(request, endpoint) ?? refusal(endpoint, request);
    if (endpoint.kind !== "served") return refusal(endpoint, request);
    // A copy of env per request: the provider stores its helpers (for one resource) on the env it
    // is given, and the shared env object must not keep another origin's helpers.
    const provider = providerFor(endpoint.resource);
    // The limits on what strangers may do (registration, /authorize) apply before the provider
    // parses or stores anything: src/auth/strangers.ts.
    // A known agent key is confirmed during the request; if it was refused, it is asked again.
    return guardStrangers(request, env, oauthOptions, (passed) => serveCheckingKeys(passed, (once) => provider.fetch(once, { ...env }, ctx)));
  },
} satisfies ExportedHandler<Cloudflare.Env>;
