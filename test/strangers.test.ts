/**
 * What anyone may do before signing in (SPEC §3, docs/security.md), through the real Worker:
 * registration's size, name and redirect URI limits, registrations and authorization requests
 * per address per hour with the product's defaults, when registered clients expire, and where
 * /authorize may send errors.
 */
import { getOAuthApi } from "@cloudflare/workers-oauth-provider";
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker, { oauthOptionsFor } from "../src/index";
import { authorizeUrl, codeExchange, MCP_URL, ORIGIN, pkcePair, REDIRECT_URI, registerClient } from "./helpers/oauth";

/** As SPEC §3 and docs/security.md state them (not read from src: raising one there must fail here). */
const DEFAULT_CLIENT_REGISTRATIONS_PER_HOUR = 10;
const DEFAULT_AUTHORIZE_REQUESTS_PER_HOUR = 60;
const CLIENT_REGISTRATION_TTL_SECONDS = 30 * 24 * 60 * 60;

/** The Worker with the product's default limits (vitest.config.ts raises them for other tests). */
const PRODUCT_ENV = { ...env, CLIENT_REGISTRATIONS_PER_HOUR: undefined, AUTHORIZE_REQUESTS_PER_HOUR: undefined };
const call = (address: string, input: string, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  headers.set("CF-Connecting-IP", address);
  headers.set("Host", new URL(input).host);
  return worker.fetch(new Request(input, { ...init, headers, redirect: "manual" }) as Request<unknown, IncomingRequestCfProperties>, PRODUCT_ENV, createExecutionContext());
};
const ip = () => `192.0.2.${Math.floor(Math.random() * 250)}-${crypto.randomUUID()}`;

const register = (address: string, metadata: Record<string, unknown> | string) =>
  call(address, `${ORIGIN}/oauth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: typeof metadata === "string" ? metadata : JSON.stringify(metadata),
  });
const client = (extra: Record<string, unknown> = {}) => ({
  client_name: "Stranger",
  redirect_uris: [REDIRECT_URI],
  token_endpoint_auth_method: "none",
  ...extra,
});

async function expectMetadataRefusal(response: Response, mentions: string) {
  expect(response.status).toBe(400);
  const body = (await response.json()) as { error: string; error_description: string };
  expect(body.error).toBe("invalid_client_metadata");
  expect(body.error_description).toContain(mentions);
}

describe("client registration limits", () => {
  it("refuses a body over 8 KiB with 400 invalid_client_metadata", async () => {
    const body = JSON.stringify(client({ software_id: "x".repeat(8 * 1024) }));
    await expectMetadataRefusal(await register(ip(), body), "8 KiB");
  });

  it("refuses an oversized body sent in chunks without a Content-Length", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(4 * 1024));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 3; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    // @ts-expect-error: duplex is required for a stream body, not yet in the lib types
    const response = await call(ip(), `${ORIGIN}/oauth/register`, { method: "POST", body, duplex: "half" });
    await expectMetadataRefusal(response, "8 KiB");
  });

  it("accepts a client_name of 100 characters and refuses 101, localised variants too", async () => {
    expect((await register(ip(), client({ client_name: "n".repeat(100) }))).status).toBe(201);
    await expectMetadataRefusal(await register(ip(), client({ client_name: "n".repeat(101) })), "client_name");
    await expectMetadataRefusal(await register(ip(), client({ "client_name#ja": "名".repeat(101) })), "client_name#ja");
  });

  it("accepts 5 redirect URIs and refuses 6", async () => {
    const uris = (n: number) => Array.from({ length: n }, (_, i) => `http://127.0.0.1:9999/callback/${i}`);
    expect((await register(ip(), client({ redirect_uris: uris(5) }))).status).toBe(201);
    await expectMetadataRefusal(await register(ip(), client({ redirect_uris: uris(6) })), "redirect_uris");
  });

  it(`allows ${DEFAULT_CLIENT_REGISTRATIONS_PER_HOUR} registrations per address per hour, then answers 429 with Retry-After`, async () => {
    const address = ip();
    for (let i = 0; i < DEFAULT_CLIENT_REGISTRATIONS_PER_HOUR; i++) expect((await register(address, client())).status).toBe(201);
    const refused = await register(address, client());
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(((await refused.json()) as { error: string }).error).toBe("temporarily_unavailable");
    // Another address is not affected.
    expect((await register(ip(), client())).status).toBe(201);
  });

  it("counts the addresses of one IPv6 /64 together", async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:7`;
    for (let i = 0; i < DEFAULT_CLIENT_REGISTRATIONS_PER_HOUR; i++) expect((await register(`${prefix}::${i + 1}`, client())).status).toBe(201);
    expect((await register(`${prefix}:0:0:0:ff`, client())).status).toBe(429);
  });

  it("does not count registrations the provider refused: they stored nothing", async () => {
    const address = ip();
    // Plain http to a host that is not this computer is never a valid redirect URI.
    for (let i = 0; i < DEFAULT_CLIENT_REGISTRATIONS_PER_HOUR + 2; i++) {
      expect((await register(address, client({ redirect_uris: ["http://evil.example/callback"] }))).status).toBe(400);
    }
    expect((await register(address, client())).status).toBe(201);
  });
});

describe("registered clients expire", () => {
  it(`stores a dynamically registered client for ${CLIENT_REGISTRATION_TTL_SECONDS / 86400} days`, async () => {
    const response = await register(ip(), client());
    const { client_id, client_id_issued_at } = (await response.json()) as { client_id: string; client_id_issued_at: number };
    const { keys } = await env.OAUTH_KV.list({ prefix: `client:${client_id}` });
    expect(keys).toHaveLength(1);
    expect(keys[0].expiration).toBeGreaterThanOrEqual(client_id_issued_at + CLIENT_REGISTRATION_TTL_SECONDS);
    expect(keys[0].expiration).toBeLessThanOrEqual(client_id_issued_at + CLIENT_REGISTRATION_TTL_SECONDS + 60);
  });

  it("renews a client that uses the token endpoint once less than half of its lifetime is left", async () => {
    const registered = (await (await register(ip(), client())).json()) as { client_id: string };
    const key = `client:${registered.client_id}`;
    // Pretend the registration is 20 days old: 10 days left.
    const now = Math.floor(Date.now() / 1000);
    const record = (await env.OAUTH_KV.get<Record<string, unknown>>(key, "json"))!;
    await env.OAUTH_KV.put(key, JSON.stringify({ ...record, registrationExpiresAt: now + 10 * 86400 }), { expirationTtl: 10 * 86400 });

    // A sign-in: authorization request, grant, code exchange at the token endpoint.
    const oauth = getOAuthApi(oauthOptionsFor(MCP_URL), env);
    const { verifier, challenge } = await pkcePair();
    const authRequest = await oauth.parseAuthRequest(new Request(authorizeUrl(registered.client_id, challenge)));
    const { redirectTo } = await oauth.completeAuthorization({ request: authRequest, userId: "owner", metadata: {}, scope: [], props: { userId: "owner" } });
    const exchanged = await call(ip(), `${ORIGIN}/oauth/token`, codeExchange(registered.client_id, new URL(redirectTo).searchParams.get("code")!, verifier));
    expect(exchanged.status).toBe(200);
    const renewed = (await env.OAUTH_KV.get<{ registrationExpiresAt: number }>(key, "json"))!;
    expect(renewed.registrationExpiresAt).toBeGreaterThanOrEqual(now + CLIENT_REGISTRATION_TTL_SECONDS);
  });
});

describe("authorization requests", () => {
  it(`allows ${DEFAULT_AUTHORIZE_REQUESTS_PER_HOUR} GET /authorize per address per hour, then answers 429 with Retry-After`, async () => {
    const clientId = await registerClient();
    const { challenge } = await pkcePair();
    const url = authorizeUrl(clientId, challenge);
    const address = ip();
    for (let i = 0; i < DEFAULT_AUTHORIZE_REQUESTS_PER_HOUR; i++) {
      const page = await call(address, url);
      expect(page.status).toBe(200);
      await page.arrayBuffer();
    }
    const refused = await call(address, url);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(refused.headers.get("X-Frame-Options")).toBe("DENY");
    expect(await refused.text()).not.toContain('type="password"');
    expect((await call(ip(), url)).status).toBe(200);
  });

  it("never redirects to a redirect_uri the client did not register, whatever else is wrong", async () => {
    const clientId = await registerClient();
    const { challenge } = await pkcePair();
    for (const mutate of [
      (url: URL) => url.searchParams.set("redirect_uri", "https://evil.example/callback"),
      // An unregistered redirect plus an error that would otherwise be redirected (no PKCE).
      (url: URL) => (url.searchParams.set("redirect_uri", "https://evil.example/callback"), url.searchParams.delete("code_challenge")),
      (url: URL) => (url.searchParams.set("redirect_uri", "http://127.0.0.1:9999/elsewhere"), url.searchParams.set("resource", "https://evil.example/mcp")),
    ]) {
      const url = new URL(authorizeUrl(clientId, challenge));
      mutate(url);
      const response = await call(ip(), url.toString());
      expect(response.status, url.search).toBe(400);
      expect(response.headers.get("Location"), url.search).toBeNull();
      expect(await response.text()).toContain("Invalid redirect URI");
    }
  });

  it("requires PKCE S256 from a client with a secret too", async () => {
    const registered = await register(ip(), client({ token_endpoint_auth_method: "client_secret_basic" }));
    expect(registered.status).toBe(201);
    const { client_id } = (await registered.json()) as { client_id: string };
    const { challenge } = await pkcePair();
    const url = new URL(authorizeUrl(client_id, challenge));
    expect((await call(ip(), url.toString())).status).toBe(200);
    url.searchParams.delete("code_challenge");
    url.searchParams.delete("code_challenge_method");
    const response = await call(ip(), url.toString());
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("Location")!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get("error")).toBe("invalid_request");
    expect(location.searchParams.get("code")).toBeNull();
  });

  it("sends errors of a request with a registered redirect_uri back to that URI only", async () => {
    const clientId = await registerClient();
    const { challenge } = await pkcePair();
    const url = new URL(authorizeUrl(clientId, challenge, "s-1"));
    url.searchParams.delete("code_challenge");
    url.searchParams.delete("code_challenge_method");
    const response = await call(ip(), url.toString());
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("Location")!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get("error")).toBe("invalid_request");
    expect(location.searchParams.get("state")).toBe("s-1");
    expect(location.searchParams.get("code")).toBeNull();
  });
});
