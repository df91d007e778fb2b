/**
 * OAuth for tests inside workerd: a real client registration, authorization request with PKCE,
 * grant and token exchange through the Worker's own token endpoint, without the consent page
 * (which has tests of its own). Lets a test act as any user id.
 */
import { getOAuthApi } from "@cloudflare/workers-oauth-provider";
import { env, exports } from "cloudflare:workers";
import { oauthOptionsFor } from "../../src/index";

export const ORIGIN = "http://localhost:8787";
export const MCP_URL = `${ORIGIN}/mcp`;
export const REDIRECT_URI = "http://127.0.0.1:9999/callback";

/** Calls the Worker as a client over HTTP would: with a Host header, which workerd's test
 * requests otherwise lack and the MCP handler's Host check requires. */
export function workerFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const headers = new Headers(request.headers);
  headers.set("Host", new URL(request.url).host);
  return exports.default.fetch(new Request(request, { headers }));
}

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const raw = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return { verifier, challenge };
}

export function authorizeUrl(clientId: string, challenge: string, state = "xyz"): string {
  const url = new URL(`${ORIGIN}/authorize`);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", clientId);
  url.searchParams.set("redirect_uri", REDIRECT_URI);
  url.searchParams.set("code_challenge", challenge);
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("resource", MCP_URL);
  url.searchParams.set("state", state);
  return url.toString();
}

export async function registerClient(name = "Test Client"): Promise<string> {
  const oauth = getOAuthApi(oauthOptionsFor(MCP_URL), env);
  const client = await oauth.createClient({ clientName: name, redirectUris: [REDIRECT_URI], tokenEndpointAuthMethod: "none" });
  return client.clientId;
}

/** The token request that redeems `code` (a POST to /oauth/token), for the resource it was asked for. */
export function codeExchange(clientId: string, code: string, verifier: string, resource = MCP_URL): RequestInit {
  return {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, client_id: clientId, code_verifier: verifier, resource }),
  };
}

export async function exchangeCode(clientId: string, code: string, verifier: string) {
  const response = await workerFetch(`${ORIGIN}/oauth/token`, codeExchange(clientId, code, verifier));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** An access token for `userId`, as if that user had signed in. */
export async function tokenFor(userId: string): Promise<string> {
  const oauth = getOAuthApi(oauthOptionsFor(MCP_URL), env);
  const clientId = await registerClient();
  const { verifier, challenge } = await pkcePair();
  const authRequest = await oauth.parseAuthRequest(new Request(authorizeUrl(clientId, challenge)));
  const { redirectTo } = await oauth.completeAuthorization({
    request: authRequest,
    userId,
    metadata: {},
    scope: authRequest.scope,
    props: { userId },
  });
  const code = new URL(redirectTo).searchParams.get("code")!;
  const { body } = await exchangeCode(clientId, code, verifier);
  return String(body.access_token);
}
