/**
 * Changing OWNER_PASSWORD (docs/security.md, "Changing the owner password"): every dashboard
 * session and every OAuth grant given under the old password ends — the one lever an owner has
 * after the password may have leaked. The Worker is called with the same bindings but another
 * password, as after `wrangler secret put OWNER_PASSWORD`.
 */
import { getOAuthApi } from "@cloudflare/workers-oauth-provider";
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ownerGrantProps, OWNER_USER_ID } from "../src/auth/grant";
import worker, { oauthOptionsFor } from "../src/index";
import { authorizeUrl, codeExchange, MCP_URL, ORIGIN, pkcePair, registerClient } from "./helpers/oauth";

const OLD = env.OWNER_PASSWORD!;
const NEW = "a brand new owner password, long enough";

/** The Worker as deployed with `password` as its OWNER_PASSWORD. */
function fetchWith(password: string, url: string, init: RequestInit = {}): Promise<Response> {
  const request = new Request(url, { redirect: "manual", ...init });
  const headers = new Headers(request.headers);
  headers.set("Host", new URL(url).host);
  const passed = new Request(request, { headers }) as Request<unknown, IncomingRequestCfProperties>;
  return worker.fetch!(passed, { ...env, OWNER_PASSWORD: password }, createExecutionContext()) as Promise<Response>;
}

async function dashboardSession(): Promise<string> {
  const response = await fetchWith(OLD, `${ORIGIN}/login`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN, "CF-Connecting-IP": `198.51.100.${Math.floor(Math.random() * 250)}-${crypto.randomUUID()}` },
    body: new URLSearchParams({ password: OLD }),
  });
  expect(response.status).toBe(303);
  return response.headers.get("Set-Cookie")!.split(";")[0];
}

/** A grant as the consent page gives it, under the current (old) password: its access and refresh token. */
async function consentedTokens(): Promise<{ access: string; refresh: string; clientId: string }> {
  const oauth = getOAuthApi(oauthOptionsFor(MCP_URL), env);
  const clientId = await registerClient();
  const { verifier, challenge } = await pkcePair();
  const authRequest = await oauth.parseAuthRequest(new Request(authorizeUrl(clientId, challenge)));
  const { redirectTo } = await oauth.completeAuthorization({
    request: authRequest,
    userId: OWNER_USER_ID,
    metadata: {},
    scope: authRequest.scope,
    props: await ownerGrantProps(env),
  });
  const code = new URL(redirectTo).searchParams.get("code")!;
  const body = (await (await fetchWith(OLD, `${ORIGIN}/oauth/token`, codeExchange(clientId, code, verifier))).json()) as Record<string, string>;
  return { access: body.access_token, refresh: body.refresh_token, clientId };
}

const ping = (password: string, token: string) =>
  fetchWith(password, MCP_URL, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
  });

const refresh = (password: string, clientId: string, token: string) =>
  fetchWith(password, `${ORIGIN}/oauth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: token, client_id: clientId, resource: MCP_URL }),
  });

describe("changing the owner password", () => {
  it("ends every dashboard session opened with the old one", async () => {
    const cookie = await dashboardSession();
    expect((await fetchWith(OLD, `${ORIGIN}/app`, { headers: { Cookie: cookie } })).status).toBe(200);
    const after = await fetchWith(NEW, `${ORIGIN}/app`, { headers: { Cookie: cookie } });
    expect(after.status).toBe(303);
    expect(after.headers.get("Location")).toBe("/");
    // Scripts get the plain 401, and nothing can be posted with the old session either.
    expect((await fetchWith(NEW, `${ORIGIN}/export`, { headers: { Cookie: cookie } })).status).toBe(401);
    // Signing in with the new password works at once.
    const fresh = await fetchWith(NEW, `${ORIGIN}/login`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN, "CF-Connecting-IP": `198.51.100.7-${crypto.randomUUID()}` },
      body: new URLSearchParams({ password: NEW }),
    });
    expect(fresh.status).toBe(303);
  });

  it("ends every OAuth grant given under the old one: its access token is refused at once, its refresh token revokes it", async () => {
    const { access, refresh: refreshToken, clientId } = await consentedTokens();
    expect((await ping(OLD, access)).status).toBe(200);

    const refused = await ping(NEW, access);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("WWW-Authenticate")).toMatch(/^Bearer error="invalid_token".*resource_metadata="http:\/\/localhost:8787\/\.well-known\/oauth-protected-resource\/mcp"$/);

    const renewed = await refresh(NEW, clientId, refreshToken);
    expect(renewed.status).toBe(400);
    expect(((await renewed.json()) as Record<string, string>).error).toBe("invalid_grant");
    // The grant is gone for good: even under the old password again, neither token works.
    expect((await refresh(OLD, clientId, refreshToken)).status).toBe(400);
    expect((await ping(OLD, access)).status).toBe(401);
  });

  it("leaves grants given under the current password alone", async () => {
    const { access, refresh: refreshToken, clientId } = await consentedTokens();
    const renewed = await refresh(OLD, clientId, refreshToken);
    expect(renewed.status).toBe(200);
    const { access_token } = (await renewed.json()) as Record<string, string>;
    expect((await ping(OLD, access_token)).status).toBe(200);
    expect(access).not.toBe(access_token);
  });
});

