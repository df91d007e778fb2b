/**
 * The Worker's bindings (wrangler.toml) and settings (README, configuration), declared once for
 * every module as `Cloudflare.Env`: `env` from "cloudflare:workers" and the Durable Objects'
 * `this.env` are typed by it, so no module casts its environment.
 */
import type { LoginThrottle } from "./auth/throttle";
import type { Runtime } from "./runtime/runtime";

declare global {
  namespace Cloudflare {
    interface Env {
      RUNTIME: DurableObjectNamespace<Runtime>;
      LOGIN_THROTTLE: DurableObjectNamespace<LoginThrottle>;
      OAUTH_KV: KVNamespace;
      /** The MCP endpoint's URL; unset, it is derived from the request's origin (src/auth/resource.ts). */
      MCP_RESOURCE?: string;
      OWNER_PASSWORD?: string;
      ANTHROPIC_API_KEY?: string;
      ANTHROPIC_BASE_URL?: string;
      ANTHROPIC_MODEL?: string;
      /** Model calls for decomposition per user per UTC day (default 100; docs/decomposition.md). */
      DECOMPOSE_DAILY_LIMIT?: string;
      /** Testing aid: lowers the shortest lease from 60 s to 1..60 s (docs/tasks.md). */
      LEASE_MIN_SECONDS?: string;
      /** Client registrations allowed per address per hour (default 10; docs/security.md). */
      CLIENT_REGISTRATIONS_PER_HOUR?: string;
      /** GET /authorize requests allowed per address per hour (default 60; docs/security.md). */
      AUTHORIZE_REQUESTS_PER_HOUR?: string;
      /** Testing aid: access tokens live this many seconds, 60..3600 (default 3600; docs/security.md). */
      ACCESS_TOKEN_TTL_SECONDS?: string;
      /** Where notifications are POSTed: https (http only for loopback); unset, none are recorded or sent (docs/owner.md). */
      NOTIFY_URL?: string;
      /** Signs notifications per Standard Webhooks: `whsec_` + base64 of 24..64 random bytes (docs/owner.md). */
      NOTIFY_SECRET?: string;
    }
  }
}

export {};
