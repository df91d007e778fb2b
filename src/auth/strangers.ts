/**
 * What anyone may do before signing in, bounded (docs/security.md): this runs in front of the OAuth
 * provider, so nothing a stranger sends is parsed whole or stored past these limits.
 *
 * - POST to the registration endpoint: a body of at most 8 KiB, a short name, few redirect URIs
 *   (registration.ts), else 400; at most CLIENT_REGISTRATIONS_PER_HOUR registrations per address
 *   per hour, else 429 with Retry-After.
 * - GET of the authorization endpoint (it stores a pending request): at most
 *   AUTHORIZE_REQUESTS_PER_HOUR per address per hour, else 429 with Retry-After.
 *
 * An address is an IPv4 address or an IPv6 /64 (throttleKey). Counts are exact: one LoginThrottle
 * object per address and purpose holds a sliding window of the last hour.
 */
import { messagePage, pageResponse } from "./consent-page";
import { readBytes } from "./read-body";
import { MAX_REGISTRATION_BYTES, registrationProblem } from "./registration";
import { requesterKey, throttleName } from "./throttle";
import { MAX_WINDOW_LIMIT } from "./window";

export const DEFAULT_CLIENT_REGISTRATIONS_PER_HOUR = 10;
export const DEFAULT_AUTHORIZE_REQUESTS_PER_HOUR = 60;
const HOUR_MS = 60 * 60_000;

/** A positive whole number from a var, at most MAX_WINDOW_LIMIT; the default when unset or not one. */
export function perHour(value: string | number | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && value !== "" && Number.isInteger(parsed) && parsed >= 1 ? Math.min(parsed, MAX_WINDOW_LIMIT) : fallback;
}

/** The endpoints as the OAuth provider is configured with them. */
export interface Endpoints {
  clientRegistrationEndpoint: string;
  authorizeEndpoint: string;
}

/** Applies the strangers' limits to `request`, then hands it (or the body already read) to `next`. */
export async function guardStrangers(
  request: Request,
  env: Cloudflare.Env,
  endpoints: Endpoints,
  next: (request: Request) => Promise<Response>,
): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (request.method === "POST" && pathname === endpoints.clientRegistrationEndpoint) return register(request, env, next);
  if (request.method === "GET" && pathname === endpoints.authorizeEndpoint) {
    const limit = perHour(env.AUTHORIZE_REQUESTS_PER_HOUR, DEFAULT_AUTHORIZE_REQUESTS_PER_HOUR);
    const taken = await env.LOGIN_THROTTLE.getByName(throttleName("authorize", requesterKey(request))).take(limit, HOUR_MS);
    if (!taken.ok) {
      const message = `Too many authorization requests from your network. Try again in ${taken.retryAfterSeconds} seconds.`;
      return pageResponse(messagePage("Please wait", message), 429, new Headers({ "Retry-After": String(taken.retryAfterSeconds) }));
    }
  }
  return next(request);
}

async function register(request: Request, env: Cloudflare.Env, next: (request: Request) => Promise<Response>): Promise<Response> {
  const body = await readBytes(request, MAX_REGISTRATION_BYTES);
  if (!body) return oauthError(request, 400, "invalid_client_metadata", `The registration request is larger than ${MAX_REGISTRATION_BYTES / 1024} KiB.`);
  const problem = registrationProblem(body);
  if (problem) return oauthError(request, 400, "invalid_client_metadata", problem);

  const limit = perHour(env.CLIENT_REGISTRATIONS_PER_HOUR, DEFAULT_CLIENT_REGISTRATIONS_PER_HOUR);
  const window = env.LOGIN_THROTTLE.getByName(throttleName("register", requesterKey(request)));
  const taken = await window.take(limit, HOUR_MS);
  if (!taken.ok) {
    const description = `Too many client registrations from your network (${limit} an hour). Try again in ${taken.retryAfterSeconds} seconds.`;
    return oauthError(request, 429, "temporarily_unavailable", description, { "Retry-After": String(taken.retryAfterSeconds) });
  }
  const response = await next(new Request(request.url, { method: "POST", headers: request.headers, body }));
  // Only a stored client counts: a registration the provider refused stored nothing.
  if (response.status !== 201) await window.giveBack(taken.at);
  return response;
}

/**
 * An OAuth error body (RFC 7591 §3.2.2), readable by browser-based clients like the provider's
 * own answers are: the Origin is reflected (no credentials are involved) and Retry-After exposed.
 */
function oauthError(request: Request, status: number, error: string, description: string, extra: Record<string, string> = {}): Response {
  const headers = new Headers({ "Content-Type": "application/json", "Cache-Control": "no-store", ...extra });
  const origin = request.headers.get("Origin");
  if (origin) {
    headers.set("Access-Control-Allow-Origin", origin);
    headers.set("Access-Control-Expose-Headers", "Retry-After");
    headers.set("Vary", "Origin");
  }
  return new Response(JSON.stringify({ error, error_description: description }), { status, headers });
}
