import type { OAuthHelpers } from "@cloudflare/workers-oauth-provider";
import type { LoginThrottle } from "./auth/throttle";
import type { Runtime } from "./runtime/runtime";

/** The Worker's bindings (wrangler.toml) and settings (SPEC §2). */
export interface Env {
  RUNTIME: DurableObjectNamespace<Runtime>;
  LOGIN_THROTTLE: DurableObjectNamespace<LoginThrottle>;
  OAUTH_KV: KVNamespace;
  MCP_RESOURCE: string;
  OWNER_PASSWORD?: string;
  ANTHROPIC_API_KEY?: string;
  ANTHROPIC_BASE_URL?: string;
  ANTHROPIC_MODEL?: string;
  /** Testing aid: lowers the shortest lease from 60 s to 1..60 s (docs/tasks.md). */
  LEASE_MIN_SECONDS?: string;
  /** Client registrations allowed per address per hour (default 10; docs/security.md). */
  CLIENT_REGISTRATIONS_PER_HOUR?: string;
  /** GET /authorize requests allowed per address per hour (default 60; docs/security.md). */
  AUTHORIZE_REQUESTS_PER_HOUR?: string;
  /** Testing aid: access tokens live this many seconds, 60..3600 (default 3600; docs/security.md). */
  ACCESS_TOKEN_TTL_SECONDS?: string;
}

/** What a grant carries; the tools read the user id from it, never from tool input. */
export interface AuthProps extends Record<string, unknown> {
  userId: string;
}

/** What the provider hands its default handler: the bindings plus its helpers. */
export type EnvWithOAuth = Env & { OAUTH_PROVIDER: OAuthHelpers };
