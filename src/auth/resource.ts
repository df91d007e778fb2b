/**
 * Which URL is the MCP endpoint? Every token is bound to it (RFC 8707), so it must be the URL the
 * client connects to, exactly.
 *
 * - `MCP_RESOURCE` unset: the origin the request arrived on, plus `/mcp`. On Cloudflare a request
 *   cannot choose its host: only the hosts routed to this Worker (its workers.dev name, its custom
 *   domains) reach it, so a deploy needs no setting. One Worker on two hosts is two resources, each
 *   with its own tokens.
 * - `MCP_RESOURCE` set: it wins. A request on any other origin is answered with a clear refusal
 *   naming the configured URL, instead of tokens that fail later without saying why (the classic:
 *   `127.0.0.1` when the server says `localhost`).
 *
 * Pure: no bindings, no I/O, so both rules are unit-tested directly (test/resource.test.ts).
 */

/** The path of the MCP endpoint; the resource covers it and every path below it (`/mcp/…`). */
export const MCP_PATH = "/mcp";

export type Endpoint =
  /** Serve the request; tokens are bound to `resource`. */
  | { kind: "served"; resource: string }
  /** The request came to an origin that does not serve the endpoint; `mcpUrl` is the right URL. */
  | { kind: "elsewhere"; mcpUrl: string; message: string }
  /** `MCP_RESOURCE` cannot be used: the operator must fix it. */
  | { kind: "misconfigured"; message: string };

const SETTING_HELP =
  "Set MCP_RESOURCE to the URL of this server's /mcp endpoint, e.g. https://mcp.example.com/mcp, " +
  "or leave it unset to use the URL the Worker is served from.";

/** The endpoint for a request to `requestUrl`, given the `MCP_RESOURCE` setting (maybe unset). */
export function mcpEndpoint(requestUrl: string, configured: string | undefined): Endpoint {
  const here = new URL(requestUrl);
  const setting = configured?.trim();
  if (setting) {
    const resource = canonicalResource(setting);
    if (resource === null) return { kind: "misconfigured", message: `MCP_RESOURCE is "${setting}", which is not usable. ${SETTING_HELP}` };
    if (new URL(resource).origin !== here.origin) {
      return {
        kind: "elsewhere",
        mcpUrl: resource,
        message:
          `This server's MCP endpoint is ${resource} (its MCP_RESOURCE), not on ${here.origin}. ` +
          `Connect your client to ${resource}: tokens are bound to that exact URL.`,
      };
    }
    return { kind: "served", resource };
  }
  if (!acceptedScheme(here)) {
    // Plain http to a public host (e.g. http://….workers.dev): tokens must not travel in the clear.
    const secure = `https://${here.host}${MCP_PATH}`;
    return {
      kind: "elsewhere",
      mcpUrl: secure,
      message: `This server accepts plain http only on localhost. Connect your client to ${secure}.`,
    };
  }
  return { kind: "served", resource: `${here.origin}${MCP_PATH}` };
}

/**
 * The answer to a request that the endpoint cannot serve. Wrong origin: 400 with the right URL in
 * the body. Not 421 Misdirected Request, which would say exactly this: Node's fetch (undici, under
 * the MCP SDKs) retries a 421 on a fresh connection and fails with a body-length error, so the
 * client would never read the message.
 * Misconfiguration: 500, the operator's to fix; the message names the setting, never a secret.
 *
 * A client in a browser page (an inspector, a web app) reads the answer only under CORS, and its
 * POST with a token is preceded by a preflight: the preflight is allowed, and the answer readable
 * from any origin. It carries no credential and nothing private — only where the endpoint is.
 */
export function refusal(endpoint: Exclude<Endpoint, { kind: "served" }>, request: Request): Response {
  const cors = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers") ?? "Authorization, Content-Type",
    "Access-Control-Max-Age": "86400",
  };
  if (request.method === "OPTIONS" && request.headers.has("Access-Control-Request-Method")) {
    return new Response(null, { status: 204, headers: { ...cors, "Cache-Control": "no-store" } });
  }
  const headers = { ...cors, "Content-Type": "application/json", "Cache-Control": "no-store" };
  if (endpoint.kind === "misconfigured") {
    return new Response(JSON.stringify({ error: "server_error", error_description: endpoint.message }), { status: 500, headers });
  }
  const body = { error: "misdirected_request", error_description: endpoint.message, mcp_url: endpoint.mcpUrl };
  return new Response(JSON.stringify(body), { status: 400, headers });
}

/**
 * `MCP_RESOURCE` as the provider wants it (lowercase scheme and host, no default port), or null
 * when it is not an https URL (http: loopback only) of a `/mcp` endpoint without query or fragment.
 * The path must be `/mcp`: the endpoint is served there and the resource must cover it.
 */
function canonicalResource(setting: string): string | null {
  let url: URL;
  try {
    url = new URL(setting);
  } catch {
    return null;
  }
  if (!acceptedScheme(url) || url.username || url.password || url.search || url.hash || url.pathname !== MCP_PATH) return null;
  return `${url.origin}${MCP_PATH}`;
}

/** https anywhere; http only on a loopback host (`wrangler dev`), as the OAuth provider requires. */
function acceptedScheme(url: URL): boolean {
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname));
}

function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === "localhost" || host === "[::1]") return true;
  const ipv4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return ipv4 !== null && ipv4.slice(1).every((octet) => Number(octet) <= 255);
}

/**
 * A person's browser opening a page on an origin that does not serve the endpoint (typically
 * `http://127.0.0.1:8787/`, the address wrangler prints, when the server is `localhost`) is sent
 * to the same page on the endpoint's origin instead of a JSON refusal. Only a navigation (GET or
 * HEAD asking for HTML); API clients keep the 400 that names the URL. The path and query are kept
 * as sent, never resolved against anything, so no request can send the browser to another host.
 */
export function pageRedirect(request: Request, endpoint: Extract<Endpoint, { kind: "elsewhere" }>): Response | null {
  if (request.method !== "GET" && request.method !== "HEAD") return null;
  const navigation = request.headers.get("Sec-Fetch-Mode") === "navigate" || (request.headers.get("Accept") ?? "").includes("text/html");
  if (!navigation) return null;
  const { pathname, search } = new URL(request.url);
  const location = `${new URL(endpoint.mcpUrl).origin}${pathname}${search}`;
  // 307, not permanent: MCP_RESOURCE may change, and a browser would remember a 308.
  return new Response(null, { status: 307, headers: { Location: location, "Cache-Control": "no-store" } });
}
