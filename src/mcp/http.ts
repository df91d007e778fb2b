/**
 * One MCP endpoint over Streamable HTTP, stateless: every request gets a fresh server from the
 * factory (./server.ts), for the user the OAuth provider authenticated.
 *
 * Two protocol generations arrive here. Requests of the 2026-07-28 revision go to
 * `createMcpHandler` from agents/mcp/server. Requests of the 2025 revisions, which the SDK v1 and
 * v2 clients send by default, are answered by the SDK's own stateless transport in JSON mode, the
 * way the SDK documents for routing legacy traffic beside `createMcpHandler` (`isLegacyRequest`).
 * The agents lane would answer them as an SSE stream — three stream wrappers and a keep-alive timer
 * per call — which costs more than the tool call itself (docs/architecture.md, "Speed"). The JSON
 * lane applies the same Host and Origin checks as the agents lane (DNS rebinding), and the OAuth
 * provider in front of both adds CORS and has already checked the token. One JSON body cannot
 * carry notifications before the result, so a 2025 request that asks for progress (a progress
 * token) is streamed by the agents lane as before.
 *
 * A request with an agent key the provider let through unconfirmed (src/auth/agent-keys.ts) is
 * confirmed by the user's Runtime before its answer leaves (`confirmed`, ./key-confirmation.ts).
 */
import {
  hostHeaderValidationResponse,
  isJSONRPCRequest,
  isLegacyRequest,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type McpServer,
} from "@modelcontextprotocol/server";
import { createMcpHandler } from "agents/mcp/server";
import { grantIsCurrent, KEY_RECHECK_HEADER, type AuthProps } from "../auth/grant";
import { readBytes } from "../auth/read-body";
import { runtimeOf } from "../runtime/api";
import { mayRenderApps } from "./app";
import { runAsGrant, runForClient } from "./context";
import { KeyConfirmation } from "./key-confirmation";

/** The largest request body read (the SDK's own default). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

type Factory = (context: { era: "legacy" | "modern"; authInfo?: AuthInfo; requestInfo?: Request }) => McpServer;
export type EndpointHandler = (request: Request, env: Cloudflare.Env, ctx: ExecutionContext) => Promise<Response>;

export function endpointHandler(route: string, factory: Factory): EndpointHandler {
  const modern = createMcpHandler(factory, { route, legacy: "reject" });
  const streamed = createMcpHandler(factory, { route });
  return (request, env, ctx) =>
    asGrantee(env, ctx, async (userId, key) => {
      if (!(await grantIsCurrent(grantOf(ctx), env))) return stalePassword(request);
      if (request.method !== "POST") return confirmed(key, "first", () => modern(request, env, ctx));
      // Counted as it arrives: a chunked body has no Content-Length to refuse it by.
      const bytes = await readBytes(request, MAX_BODY_BYTES);
      if (bytes === null) return jsonRpcError(413, -32600, "Request body too large");
      const text = new TextDecoder().decode(bytes);
      const body = parseJson(text);
      return runForClient(mayRenderApps(body), async () => {
        if (body !== undefined && (await isLegacyRequest(request, body))) {
          if (asksForProgress(body)) return confirmed(key, "first", () => streamed(new Request(request, { body: text }), env, ctx));
          const when = readsData(body) ? "by its calls" : "alongside";
          return rejection(request) ?? confirmed(key, when, () => serveLegacy(factory, request, body, authInfoOf(ctx, userId)));
        }
        // The body was read to classify the request; the agents lane reads it again.
        return confirmed(key, "first", () => modern(new Request(request, { body: text }), env, ctx));
      });
    });
}

/** A path below /mcp that is no endpoint: 404, once the bearer is known to be good. */
export const notFound: EndpointHandler = (_request, env, ctx) =>
  asGrantee(env, ctx, (_userId, key) => confirmed(key, "first", async () => new Response("Not Found", { status: 404 })));

/** Runs `serve` as the grant's user, with the confirmation of its agent key when it still needs one. */
function asGrantee(
  env: Cloudflare.Env,
  ctx: ExecutionContext,
  serve: (userId: string, key: KeyConfirmation | undefined) => Promise<Response>,
): Promise<Response> {
  const grant = grantOf(ctx);
  if (grant === undefined) return Promise.resolve(jsonRpcError(500, -32603, "Internal server error"));
  const key = grant.unconfirmed && new KeyConfirmation(runtimeOf(env, grant.userId), grant.unconfirmed);
  return runAsGrant(grant, key, () => serve(grant.userId, key));
}

/**
 * Serves a request whose agent key is still unconfirmed (none: just serves it). "first": asks the
 * Runtime before serving — a streamed answer cannot be taken back. "by its calls": the tools'
 * first call into the Runtime confirms it in the same round trip (asked after serving if none
 * did). "alongside": asks while serving a request that reads no data. Refused: the answer is
 * dropped and the entry has the provider refuse the key (KEY_RECHECK_HEADER).
 */
async function confirmed(key: KeyConfirmation | undefined, when: "first" | "by its calls" | "alongside", serve: () => Promise<Response>): Promise<Response> {
  if (!key) return serve();
  if (when === "first") await key.confirm();
  if (key.refused) return keyRecheck();
  const asking = when === "alongside" ? key.confirm() : undefined;
  const response = await serve();
  await asking;
  await key.confirm();
  if (!key.refused) return response;
  await response.body?.cancel();
  return keyRecheck();
}

const keyRecheck = () => new Response(null, { status: 401, headers: { [KEY_RECHECK_HEADER]: "1" } });

/** Methods whose handlers read the user's data, and so call into the Runtime (which confirms a key on the way). */
const READS_DATA = new Set(["tools/call", "resources/read", "resources/list", "prompts/get", "completion/complete"]);

function readsData(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((message) => READS_DATA.has((message as { method?: unknown } | null)?.method as string));
}

/** A JSON-RPC request (or a batch holding one) that carries `_meta.progressToken`. */
function asksForProgress(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((message) => {
    const meta = (message as { params?: { _meta?: { progressToken?: unknown } } } | null)?.params?._meta;
    return meta?.progressToken !== undefined;
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A 2025-era request: one fresh server, one JSON answer. */
async function serveLegacy(factory: Factory, request: Request, parsedBody: unknown, authInfo: AuthInfo): Promise<Response> {
  const server = factory({ era: "legacy", authInfo, requestInfo: request });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  // One JSON exchange cannot carry a request from the server to the client (sampling,
  // elicitation): answer it as failed at once, as the agents lane does, instead of waiting.
  const send = transport.send.bind(transport);
  transport.send = async (message, options) => {
    if (!isJSONRPCRequest(message)) return send(message, options);
    transport.onmessage?.({
      jsonrpc: "2.0",
      id: message.id,
      error: { code: -32603, message: "server-to-client requests are not available on a stateless endpoint" },
    });
  };
  try {
    await server.connect(transport);
    return await transport.handleRequest(request, { authInfo, parsedBody });
  } catch (error) {
    console.error("MCP request failed:", error instanceof Error ? error.message : String(error));
    return jsonRpcError(500, -32603, "Internal server error");
  } finally {
    await Promise.all([transport.close().catch(() => {}), server.close().catch(() => {})]);
  }
}

/**
 * DNS rebinding protection, the rules of the agents lane: a local endpoint answers only to local
 * Host names, a workers.dev endpoint only to its own; a browser Origin must be local or the
 * workers.dev host itself.
 */
function rejection(request: Request): Response | undefined {
  const { hostname } = new URL(request.url);
  const local = localhostAllowedHostnames().includes(hostname);
  const workersDev = hostname.endsWith(".workers.dev");
  const hosts = local ? localhostAllowedHostnames() : workersDev ? [hostname] : undefined;
  const hostRejection = hosts ? hostHeaderValidationResponse(request, hosts) : undefined;
  if (hostRejection) return hostRejection;
  return originValidationResponse(request, workersDev ? [...localhostAllowedOrigins(), hostname] : localhostAllowedOrigins());
}

/** The grant's props (its user, the password it was given under, and the agent of an agent key); the provider puts them on the context. */
function grantOf(ctx: ExecutionContext): AuthProps | undefined {
  const props = (ctx as { props?: Partial<AuthProps> }).props;
  if (typeof props?.userId !== "string" || props.userId.length === 0) return undefined;
  return {
    userId: props.userId,
    ...(props.passwordStamp && { passwordStamp: props.passwordStamp }),
    ...(props.agent && { agent: props.agent }),
    ...(props.unconfirmed && { unconfirmed: props.unconfirmed }),
  };
}

/**
 * A token whose grant was given under an owner password that has changed since: refused as an
 * invalid token, with the challenge that sends the client back to sign in (its refresh token is
 * refused too, and the grant revoked then: src/index.ts).
 */
function stalePassword(request: Request): Response {
  const metadata = `${new URL(request.url).origin}/.well-known/oauth-protected-resource/mcp`;
  const description = "the owner password changed since this client was allowed; sign in again";
  const challenge = `Bearer error="invalid_token", error_description="${description}", resource_metadata="${metadata}"`;
  return Response.json({ error: "invalid_token", error_description: description }, { status: 401, headers: { "WWW-Authenticate": challenge } });
}

/** The verified token as the SDK describes it (what the agents lane derives from `ctx.auth`). */
function authInfoOf(ctx: ExecutionContext, userId: string): AuthInfo {
  const auth = (ctx as { auth?: { token?: string; clientId?: string; scope?: string[]; expiresAt?: number; audience?: string } }).auth;
  return {
    token: auth?.token ?? "",
    clientId: auth?.clientId ?? "",
    scopes: [...(auth?.scope ?? [])],
    ...(auth?.expiresAt !== undefined && { expiresAt: auth.expiresAt }),
    ...(auth?.audience !== undefined && { resource: new URL(auth.audience) }),
    extra: { props: { userId } },
  };
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
}
