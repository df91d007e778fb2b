/**
 * Where the MCP endpoint is (docs/deploy.md): MCP_RESOURCE when set, otherwise the origin the
 * Worker is served from. The rule itself, then the real Worker with and without the setting.
 */
import { getOAuthApi } from "@cloudflare/workers-oauth-provider";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { mcpEndpoint } from "../src/auth/resource";
import worker, { oauthOptionsFor } from "../src/index";
import { codeExchange, MCP_URL, ORIGIN, pkcePair, REDIRECT_URI, workerFetch } from "./helpers/oauth";

const DEPLOYED = "https://agent-runtime.alice.workers.dev";
const CUSTOM = "https://mcp.example.com";

/** The Worker as deployed without MCP_RESOURCE (the test env sets it, as `npm start` does). */
const unsetEnv = () => ({ ...env, MCP_RESOURCE: undefined });

/** A request as it reaches the Worker on Cloudflare: the URL's host is the host that routed it. */
function deployedFetch(input: string | URL, init?: RequestInit, workerEnv: Cloudflare.Env = unsetEnv()): Promise<Response> {
  const request = new Request(input, init);
  const headers = new Headers(request.headers);
  headers.set("Host", new URL(request.url).host);
  return Promise.resolve(worker.fetch!(new Request(request, { headers }) as Request<unknown, IncomingRequestCfProperties>, workerEnv, createExecutionContext()));
}

describe("the endpoint's URL", () => {
  it("is the request's origin + /mcp when MCP_RESOURCE is unset, whatever the path asked for", () => {
    expect(mcpEndpoint(`${DEPLOYED}/mcp/core`, undefined)).toEqual({ kind: "served", resource: `${DEPLOYED}/mcp` });
    expect(mcpEndpoint(`${CUSTOM}/.well-known/oauth-protected-resource/mcp`, undefined)).toEqual({ kind: "served", resource: `${CUSTOM}/mcp` });
    expect(mcpEndpoint("http://localhost:8787/authorize?x=1", "")).toEqual({ kind: "served", resource: "http://localhost:8787/mcp" });
    expect(mcpEndpoint("http://127.0.0.1:9000/mcp", "  ")).toEqual({ kind: "served", resource: "http://127.0.0.1:9000/mcp" });
  });

  it("never derives a plain-http resource on a public host: it names the https URL instead", () => {
    const endpoint = mcpEndpoint("http://agent-runtime.alice.workers.dev/mcp", undefined);
    expect(endpoint).toMatchObject({ kind: "elsewhere", mcpUrl: `${DEPLOYED}/mcp` });
  });

  it("is MCP_RESOURCE when set, in the provider's canonical spelling", () => {
    expect(mcpEndpoint(`${CUSTOM}/mcp`, `${CUSTOM}/mcp`)).toEqual({ kind: "served", resource: `${CUSTOM}/mcp` });
    expect(mcpEndpoint(`${CUSTOM}/oauth/token`, "HTTPS://MCP.Example.COM:443/mcp")).toEqual({ kind: "served", resource: `${CUSTOM}/mcp` });
  });

  it("refuses another origin when MCP_RESOURCE is set, naming the configured URL", () => {
    const endpoint = mcpEndpoint(`${DEPLOYED}/mcp`, `${CUSTOM}/mcp`);
    expect(endpoint).toMatchObject({ kind: "elsewhere", mcpUrl: `${CUSTOM}/mcp` });
    if (endpoint.kind !== "elsewhere") throw new Error("unreachable");
    expect(endpoint.message).toContain(`${CUSTOM}/mcp`);
    expect(endpoint.message).toContain(DEPLOYED);
    // localhost ≠ 127.0.0.1, and another port is another origin.
    expect(mcpEndpoint("http://127.0.0.1:8787/mcp", MCP_URL)).toMatchObject({ kind: "elsewhere", mcpUrl: MCP_URL });
    expect(mcpEndpoint("http://localhost:9000/mcp", MCP_URL)).toMatchObject({ kind: "elsewhere", mcpUrl: MCP_URL });
  });

  it("calls an unusable MCP_RESOURCE a misconfiguration, naming the setting", () => {
    for (const setting of ["mcp.example.com", `${CUSTOM}/`, `${CUSTOM}/api/mcp`, `${CUSTOM}/mcp/`, `${CUSTOM}/mcp?x=1`, "http://mcp.example.com/mcp", "ftp://mcp.example.com/mcp"]) {
      const endpoint = mcpEndpoint(`${CUSTOM}/mcp`, setting);
      expect(endpoint, setting).toMatchObject({ kind: "misconfigured" });
      if (endpoint.kind === "misconfigured") expect(endpoint.message).toContain(`MCP_RESOURCE is "${setting}"`);
    }
  });
});

describe("a request on another origin than MCP_RESOURCE", () => {
  for (const [what, path, init] of [
    ["an MCP call", "/mcp", { method: "POST", body: "{}" }],
    ["the protected resource metadata", "/.well-known/oauth-protected-resource/mcp", {}],
    ["the token endpoint", "/oauth/token", { method: "POST", body: "grant_type=refresh_token" }],
    ["the consent page", "/authorize", {}],
  ] as const) {
    it(`gets 400 naming the configured URL, for ${what}`, async () => {
      // The test env's MCP_RESOURCE is http://localhost:8787/mcp, as under `npm start`.
      const response = await workerFetch(`http://127.0.0.1:8787${path}`, init);
      expect(response.status).toBe(400);
      const body = (await response.json()) as Record<string, string>;
      expect(body).toMatchObject({ error: "misdirected_request", mcp_url: MCP_URL });
      expect(body.error_description).toContain(`Connect your client to ${MCP_URL}`);
    });
  }

  describe("opened in a browser", () => {
    const browser = { Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Sec-Fetch-Mode": "navigate" };

    it("sends the browser to the same page on the configured origin, query included", async () => {
      for (const path of ["/", "/app/goals/3?view=table", "/authorize?client_id=c&state=s"]) {
        for (const method of ["GET", "HEAD"]) {
          const response = await workerFetch(`http://127.0.0.1:8787${path}`, { method, headers: browser, redirect: "manual" });
          expect(response.status, `${method} ${path}`).toBe(307);
          expect(response.headers.get("Location")).toBe(`${ORIGIN}${path}`);
        }
      }
    });

    it("never sends it to another host, whatever the path looks like", async () => {
      const response = await workerFetch("http://127.0.0.1:8787//evil.example/app", { headers: browser, redirect: "manual" });
      expect(response.status).toBe(307);
      const location = new URL(response.headers.get("Location")!);
      expect(location.origin).toBe(ORIGIN);
      expect(location.pathname).toBe("//evil.example/app");
    });

    it("keeps the JSON 400 for what is not a page: API clients, a page's own fetches, writes", async () => {
      const notPages: RequestInit[] = [
        { headers: { Accept: "application/json" } },
        { headers: { Accept: "*/*", "Sec-Fetch-Mode": "cors" } },
        { method: "POST", headers: browser, body: "{}" },
      ];
      for (const init of notPages) {
        const response = await workerFetch("http://127.0.0.1:8787/mcp", { ...init, redirect: "manual" });
        expect(response.status, JSON.stringify(init)).toBe(400);
        expect(await response.json()).toMatchObject({ error: "misdirected_request", mcp_url: MCP_URL });
      }
    });
  });

  it("is readable by a client in a browser page of any origin: the preflight is allowed and the 400 carries CORS headers", async () => {
    const preflight = await workerFetch(`http://127.0.0.1:8787/mcp`, {
      method: "OPTIONS",
      headers: { Origin: "http://localhost:6274", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    expect(preflight.headers.get("Access-Control-Allow-Headers")).toBe("authorization, content-type, mcp-protocol-version");
    const response = await workerFetch(`http://127.0.0.1:8787/mcp`, { method: "POST", body: "{}", headers: { Origin: "http://localhost:6274" } });
    expect(response.status).toBe(400);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(((await response.json()) as Record<string, string>).mcp_url).toBe(MCP_URL);
  });

  it("is served as usual on the configured origin", async () => {
    const response = await workerFetch(`${ORIGIN}/.well-known/oauth-protected-resource/mcp`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ resource: MCP_URL });
  });

  it("answers 500 naming the setting when MCP_RESOURCE is unusable", async () => {
    const broken = { ...env, MCP_RESOURCE: "https://mcp.example.com/api" };
    const response = await deployedFetch(`${CUSTOM}/mcp`, { method: "POST", body: "{}" }, broken);
    expect(response.status).toBe(500);
    expect(((await response.json()) as Record<string, string>).error_description).toContain('MCP_RESOURCE is "https://mcp.example.com/api"');
  });
});

describe("a deployed Worker without MCP_RESOURCE", () => {
  it("publishes protected resource metadata for the origin it is reached on", async () => {
    for (const origin of [DEPLOYED, CUSTOM]) {
      const response = await deployedFetch(`${origin}/.well-known/oauth-protected-resource/mcp`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ resource: `${origin}/mcp`, authorization_servers: [origin] });
    }
  });

  it("challenges /mcp and the paths below it with the one resource metadata of /mcp", async () => {
    for (const path of ["/mcp", "/mcp/core"]) {
      const response = await deployedFetch(`${DEPLOYED}${path}`, { method: "POST", body: "{}" });
      expect(response.status, path).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toContain(`resource_metadata="${DEPLOYED}/.well-known/oauth-protected-resource/mcp"`);
    }
  });

  it("advertises Client ID Metadata Documents over https, and only dynamic registration on a local http server", async () => {
    const deployed = (await (await deployedFetch(`${DEPLOYED}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(deployed).toMatchObject({
      issuer: DEPLOYED,
      client_id_metadata_document_supported: true,
      registration_endpoint: `${DEPLOYED}/oauth/register`,
    });
    const local = (await (await workerFetch(`${ORIGIN}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(local.client_id_metadata_document_supported).not.toBe(true);
    expect(local.registration_endpoint).toBe(`${ORIGIN}/oauth/register`);
  });

  it("opens the consent page on each origin for that origin's resource, with one env shared by every request", async () => {
    // On Cloudflare every request of an isolate gets the same env object; the provider's helpers
    // for one origin must not stay on it for the next origin.
    const shared = unsetEnv();
    for (const origin of [DEPLOYED, CUSTOM, DEPLOYED]) {
      const oauth = getOAuthApi(oauthOptionsFor(`${origin}/mcp`), env);
      const client = await oauth.createClient({ clientName: "Two Origins", redirectUris: [REDIRECT_URI], tokenEndpointAuthMethod: "none" });
      const { challenge } = await pkcePair();
      const url = new URL(`${origin}/authorize`);
      url.search = new URLSearchParams({
        response_type: "code",
        client_id: client.clientId,
        redirect_uri: REDIRECT_URI,
        code_challenge: challenge,
        code_challenge_method: "S256",
        resource: `${origin}/mcp`,
      }).toString();
      const page = await deployedFetch(url, {}, shared);
      expect(page.status, origin).toBe(200);
      expect(await page.text()).toContain("Allow Two Origins to use Agent Runtime?");
    }
  });

  it("binds a token to the origin that issued it: it works there and nowhere else", async () => {
    const resource = `${DEPLOYED}/mcp`;
    const oauth = getOAuthApi(oauthOptionsFor(resource), env);
    const client = await oauth.createClient({ clientName: "Deployed", redirectUris: [REDIRECT_URI], tokenEndpointAuthMethod: "none" });
    const { verifier, challenge } = await pkcePair();
    const authorize = new URL(`${DEPLOYED}/authorize`);
    for (const [key, value] of Object.entries({
      response_type: "code",
      client_id: client.clientId,
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: "S256",
      resource,
    })) authorize.searchParams.set(key, value);
    const authRequest = await oauth.parseAuthRequest(new Request(authorize));
    const { redirectTo } = await oauth.completeAuthorization({ request: authRequest, userId: "owner", metadata: {}, scope: authRequest.scope, props: { userId: "owner" } });
    const tokenResponse = await deployedFetch(`${DEPLOYED}/oauth/token`, codeExchange(client.clientId, new URL(redirectTo).searchParams.get("code")!, verifier, resource));
    expect(tokenResponse.status).toBe(200);
    const token = String(((await tokenResponse.json()) as Record<string, unknown>).access_token);

    const mcp = new Client({ name: "deployed-test", version: "1.0.0" });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(resource), {
        fetch: (input, init) => deployedFetch(input instanceof Request ? input.url : String(input), init),
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    expect((await mcp.listTools()).tools.length).toBeGreaterThan(0);
    await mcp.close();

    // The same token on another origin of the same Worker (another resource): refused.
    const elsewhere = await deployedFetch(`${CUSTOM}/mcp`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(elsewhere.status).toBe(401);
  });
});
