/**
 * OAuth attacks against `wrangler dev` (SPEC §3): each is refused and nothing is issued — no
 * code, no token. The provider (@cloudflare/workers-oauth-provider) does most of the refusing;
 * these tests prove it does so as this Worker wires it, over HTTP, as a real client would meet it.
 *
 * Access tokens live 60 s here (ACCESS_TOKEN_TTL_SECONDS, a testing aid) so that the last test
 * can watch one expire. The other tests use their tokens at once.
 */
import { createHash, randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  codeFromRedirect,
  discover,
  codeExchange as exchangeParams,
  exchangeCode,
  openConsent,
  registerClient,
  useDevServer,
  submitConsent,
  tokenRequest,
  type Discovery,
  type PendingConsent,
  type RegisteredClient,
} from "./harness";

const server = useDevServer({ vars: { ACCESS_TOKEN_TTL_SECONDS: "60" } });
let discovery: Discovery;
/** A token obtained first, for the expiry test at the end, and when it was issued (at the latest). */
let early: { accessToken: string; expiresIn: number; issuedBy: number };

beforeAll(async () => {
  discovery = await discover(server);
  const { pending, code } = await approvedCode();
  const { status, body } = await tokenRequest(discovery, codeExchange(pending, code));
  expect(status).toBe(200);
  early = { accessToken: String(body.access_token), expiresIn: Number(body.expires_in), issuedBy: Date.now() };
  expect((await mcpWith(early.accessToken)).status).toBe(200);
});

/** Registration, consent page and Allow with the owner password: a fresh authorization code. */
async function approvedCode(client?: RegisteredClient): Promise<{ pending: PendingConsent; code: string }> {
  const pending = await openConsent(server, discovery, client ?? (await registerClient(discovery)));
  const answer = await submitConsent(pending, { password: server.ownerPassword, decision: "approve" });
  return { pending, code: codeFromRedirect(answer, pending, discovery) };
}

/** The token request the legitimate client would send for `code`. */
const codeExchange = (pending: PendingConsent, code: string) => exchangeParams(server, pending, code);

/** A token request that must be refused: 400 with `error`, and no token of any kind in the answer. */
async function expectRefused(params: Record<string, string>, error: string) {
  const { status, body } = await tokenRequest(discovery, params);
  expect(status).toBe(400);
  expect(body.error).toBe(error);
  expect(body.access_token).toBeUndefined();
  expect(body.refresh_token).toBeUndefined();
}

/** POST /mcp initialize with a bearer token, at `url` (the MCP URL unless another is given). */
function mcpWith(token: string, url = server.mcpUrl) {
  return fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "attacks", version: "1" } },
    }),
  });
}

/** GET /authorize with `params` changed from a well-formed request; the raw answer, redirects not followed. */
async function authorizeWith(client: RegisteredClient, change: (params: URLSearchParams) => void) {
  const verifier = randomBytes(32).toString("base64url");
  const params = new URLSearchParams({
    response_type: "code",
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    state: "st",
    resource: server.mcpUrl,
  });
  change(params);
  const url = new URL(discovery.authServer.authorization_endpoint);
  url.search = params.toString();
  const response = await fetch(url, { redirect: "manual" });
  return { response, html: await response.text() };
}

describe("authorization codes", () => {
  it("refuses a replayed code, and revokes the tokens the first exchange issued (RFC 6749 §4.1.2)", async () => {
    const { pending, code } = await approvedCode();
    const first = await exchangeCode(server, discovery, pending, code);
    expect((await mcpWith(first.accessToken)).status).toBe(200);

    await expectRefused(codeExchange(pending, code), "invalid_grant");
    // A replay means the code leaked: the grant is gone, with what it issued.
    expect((await mcpWith(first.accessToken)).status).toBe(401);
    await expectRefused({ grant_type: "refresh_token", refresh_token: first.refreshToken, client_id: first.clientId }, "invalid_grant");
  });

  it("refuses a code redeemed by another client, and the code stays good for its own client", async () => {
    const { pending, code } = await approvedCode();
    const other = await registerClient(discovery, "other client");
    await expectRefused({ ...codeExchange(pending, code), client_id: other.clientId, redirect_uri: other.redirectUri }, "invalid_grant");
    await expectRefused({ ...codeExchange(pending, code), client_id: other.clientId }, "invalid_grant");
    expect((await exchangeCode(server, discovery, pending, code)).accessToken).not.toBe("");
  });

  it("refuses a code exchanged without its PKCE verifier (RFC 7636 §4.5)", async () => {
    const { pending, code } = await approvedCode();
    const { code_verifier: _, ...withoutVerifier } = codeExchange(pending, code);
    await expectRefused(withoutVerifier, "invalid_request");
  });

  it("refuses a code exchanged with a redirect_uri other than the one it was issued for", async () => {
    const { pending, code } = await approvedCode();
    // Same loopback host, other path: registered ports may vary on loopback (RFC 8252 §7.3), paths may not.
    const elsewhere = new URL(pending.client.redirectUri);
    elsewhere.pathname = "/elsewhere";
    await expectRefused({ ...codeExchange(pending, code), redirect_uri: elsewhere.toString() }, "invalid_grant");
  });
});

describe("authorization requests", () => {
  it("gives a request without PKCE, or with plain PKCE, no consent page: an error goes back to the registered redirect URI, with no code", async () => {
    const client = await registerClient(discovery);
    for (const [label, change] of [
      ["no PKCE", (p: URLSearchParams) => (p.delete("code_challenge"), p.delete("code_challenge_method"))],
      ["plain PKCE", (p: URLSearchParams) => (p.set("code_challenge", randomBytes(32).toString("base64url")), p.set("code_challenge_method", "plain"))],
    ] as const) {
      const { response, html } = await authorizeWith(client, change);
      expect(response.status, label).toBe(302);
      expect(html, label).not.toContain('type="password"');
      const location = new URL(response.headers.get("Location")!);
      expect(`${location.origin}${location.pathname}`, label).toBe(client.redirectUri);
      expect(location.searchParams.get("error"), label).toBe("invalid_request");
      expect(location.searchParams.get("code"), label).toBeNull();
    }
  });

  it("never redirects to a redirect_uri the client did not register, even to report an error", async () => {
    const client = await registerClient(discovery);
    for (const [label, change] of [
      ["another host", (p: URLSearchParams) => p.set("redirect_uri", "https://evil.example/callback")],
      ["another host, and no PKCE", (p: URLSearchParams) => (p.set("redirect_uri", "https://evil.example/callback"), p.delete("code_challenge"))],
      ["another loopback path", (p: URLSearchParams) => p.set("redirect_uri", client.redirectUri.replace("/callback", "/steal"))],
    ] as const) {
      const { response, html } = await authorizeWith(client, change);
      expect(response.status, label).toBe(400);
      expect(response.headers.get("Location"), label).toBeNull();
      expect(html, label).toContain("Invalid redirect URI");
      expect(html, label).not.toContain('type="password"');
    }
  });
});

describe("the consent form", () => {
  it("issues no code for a form posted without the page's cookie, or from another origin, and the real form still works", async () => {
    const pending = await openConsent(server, discovery, await registerClient(discovery));
    const post = (headers: Record<string, string>) =>
      fetch(pending.authorizeUrl, {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams({ handle: pending.handle, decision: "approve", password: server.ownerPassword }),
      });
    for (const [label, headers] of [
      ["no cookie", {}],
      ["another origin", { Cookie: pending.cookie, Origin: "https://evil.example" }],
      ["a cross-site request", { Cookie: pending.cookie, "Sec-Fetch-Site": "cross-site" }],
    ] as const) {
      const response = await post(headers);
      expect(response.status, label).toBe(403);
      expect(response.headers.get("Location"), label).toBeNull();
      await response.arrayBuffer();
    }
    const real = await submitConsent(pending, { password: server.ownerPassword, decision: "approve" });
    expect(codeFromRedirect(real, pending, discovery)).not.toBe("");
  });
});

describe("tokens", () => {
  it("issues no token for another resource (RFC 8707): not at /authorize, not at the token endpoint", async () => {
    const client = await registerClient(discovery);
    const { response } = await authorizeWith(client, (p) => p.set("resource", "https://evil.example/mcp"));
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("Location")!);
    expect(location.searchParams.get("error")).toBe("invalid_target");
    expect(location.searchParams.get("code")).toBeNull();

    const { pending, code } = await approvedCode();
    await expectRefused({ ...codeExchange(pending, code), resource: "https://evil.example/mcp" }, "invalid_target");
  });

  it("refuses a token presented at an origin it was not issued for", async () => {
    const { pending, code } = await approvedCode();
    const tokens = await exchangeCode(server, discovery, pending, code);
    // The same server, reached as 127.0.0.1: not the configured http://localhost:…/mcp, so the
    // request is refused before any token is looked at, naming where the endpoint is (400).
    // Without MCP_RESOURCE each origin is its own resource and the token is refused with 401
    // (test/e2e/deploy.test.ts).
    const response = await mcpWith(tokens.accessToken, `http://127.0.0.1:${server.port}/mcp`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ mcp_url: server.mcpUrl });
    expect((await mcpWith(tokens.accessToken)).status).toBe(200);
  });

  it("refuses a refresh token used again after its successor was used", async () => {
    const { pending, code } = await approvedCode();
    const first = await exchangeCode(server, discovery, pending, code);
    const refresh = (token: string) => ({ grant_type: "refresh_token", refresh_token: token, client_id: first.clientId, resource: server.mcpUrl });
    const second = await tokenRequest(discovery, refresh(first.refreshToken));
    expect(second.status).toBe(200);
    // The provider keeps the previous refresh token valid until the new one is first used (so a
    // client that lost the answer can retry); once the client has used its successor, it is dead.
    const third = await tokenRequest(discovery, refresh(String(second.body.refresh_token)));
    expect(third.status).toBe(200);
    await expectRefused(refresh(first.refreshToken), "invalid_grant");
  });

  // Last in the file: most of its wait has passed during the tests above.
  it("refuses an access token once it has expired", async () => {
    expect(early.expiresIn).toBe(60);
    const expired = early.issuedBy + (early.expiresIn + 2) * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expired - Date.now())));
    const response = await mcpWith(early.accessToken);
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toContain("invalid_token");
  });
});
