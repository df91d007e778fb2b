/**
 * Deploying without a Cloudflare account (docs/deploy.md): the bundle `wrangler deploy` would
 * upload builds and fits the free plan, and `npm run deploy` (scripts/deploy.mjs) does the right
 * wrangler calls in the right order, with wrangler replaced by a stub that records them
 * (test/e2e/stubs/wrangler.mjs).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import {
  chooseMcpUrl,
  choosePassword,
  configuredResource,
  generatePassword,
  hasSecret,
  parseDeployOutput,
  readHidden,
} from "../../scripts/deploy.mjs";
import { authorize, callTool, connectV2, useDevServer } from "./harness";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SCRIPT = join(ROOT, "scripts", "deploy.mjs");
const STUB = join(ROOT, "test", "e2e", "stubs", "wrangler.mjs");
const BIN = join(ROOT, "node_modules", ".bin");
/** Workers Free: 3 MiB per Worker after compression. */
const FREE_PLAN_LIMIT = 3 * 1024 * 1024;

const workDirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  workDirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of workDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    // stdin is a pipe, not a terminal: the script must not wait for typing.
    child.stdin.end();
  });
}

// ───────────────────────────── the bundle ─────────────────────────────

describe("wrangler deploy --dry-run", () => {
  it("builds the bundle without an account or a KV namespace id, under the free plan's 3 MiB compressed", async () => {
    const outdir = tempDir("agent-runtime-dry-run-");
    const result = await run(join(BIN, "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
      ...process.env,
      PATH: `${BIN}:${process.env.PATH ?? ""}`,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_HIDE_BANNER: "true",
      NO_COLOR: "1",
    });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain("env.OAUTH_KV");

    // What would be uploaded: the modules (source maps and wrangler's README are not).
    const modules = readdirSync(outdir).filter((file) => /\.(m?js|wasm)$/.test(file));
    expect(modules).toContain("index.js");
    const raw = modules.reduce((sum, file) => sum + statSync(join(outdir, file)).size, 0);
    const gzip = modules.reduce((sum, file) => sum + gzipSync(readFileSync(join(outdir, file))).length, 0);
    console.log(`bundle: ${(raw / 1024).toFixed(0)} KiB, gzip ${(gzip / 1024).toFixed(0)} KiB (free plan limit 3072 KiB)`);
    expect(gzip).toBeLessThan(FREE_PLAN_LIMIT);
  });
});

// ───────────────────────────── the Worker without MCP_RESOURCE ─────────────────────────────

describe("wrangler dev without MCP_RESOURCE, as a deployed Worker runs", () => {
  const server = useDevServer({ deriveResource: true });

  it("signs a client in and serves its tools at the URL the client uses", async () => {
    const { accessToken } = await authorize(server!);
    const client = await connectV2(server!, accessToken);
    const goal = await callTool<{ id: number }>(client, "create_goal", { name: "Deploy", description: "served on a derived resource" });
    expect(goal.id).toBeGreaterThan(0);
    await client.close();
  });

  it("names each origin's own endpoint: the Worker sees the host the client used", async () => {
    for (const origin of [server!.origin, `http://127.0.0.1:${server!.port}`]) {
      const response = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`);
      expect(await response.json()).toMatchObject({ resource: `${origin}/mcp`, authorization_servers: [origin] });
    }
  });

  it("refuses a token issued for one origin on another (RFC 8707 audience)", async () => {
    const { accessToken } = await authorize(server!);
    const response = await fetch(`http://127.0.0.1:${server!.port}/mcp`, {
      method: "POST",
      headers: { Authorization: `Bearer ${accessToken}`, "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    await response.arrayBuffer();
    expect(response.status).toBe(401);
  });
});

// ───────────────────────────── the script's parts ─────────────────────────────

describe("the deploy script reads wrangler's answers", () => {
  it("takes the Worker's name and targets from the last deploy entry of wrangler's output file", () => {
    const text = [
      JSON.stringify({ type: "wrangler-session", version: 1 }),
      "not json",
      JSON.stringify({ type: "deploy", worker_name: "agent-runtime", targets: ["https://agent-runtime.alice.workers.dev"] }),
      "",
    ].join("\n");
    expect(parseDeployOutput(text)).toEqual({ workerName: "agent-runtime", targets: ["https://agent-runtime.alice.workers.dev"] });
    expect(parseDeployOutput(JSON.stringify({ type: "wrangler-session" }))).toBeNull();
  });

  it("prefers a custom domain, then a whole-host route, then workers.dev, and skips what is no URL", () => {
    const targets = [
      "https://agent-runtime.alice.workers.dev",
      "schedule: 0 * * * *",
      "example.com/api/* (zone name: example.com)",
      "agents.example.com/* (zone name: example.com)",
      "mcp.example.com (custom domain - zone name: example.com)",
    ];
    expect(chooseMcpUrl(targets, undefined)).toEqual({
      url: "https://mcp.example.com/mcp",
      others: ["https://agents.example.com/mcp", "https://agent-runtime.alice.workers.dev/mcp"],
    });
    expect(chooseMcpUrl(["https://agent-runtime.alice.workers.dev"], undefined)).toEqual({ url: "https://agent-runtime.alice.workers.dev/mcp", others: [] });
    expect(chooseMcpUrl(["schedule: 0 * * * *"], undefined)).toEqual({ url: null, others: [] });
  });

  it("names MCP_RESOURCE when the deploy sets it, since it wins in the Worker too", () => {
    expect(chooseMcpUrl(["https://agent-runtime.alice.workers.dev"], "https://mcp.example.com/mcp").url).toBe("https://mcp.example.com/mcp");
    const toml = `name = "x"\n[vars]\nANTHROPIC_MODEL = "m"\nMCP_RESOURCE = "https://mcp.example.com/mcp"\n[[kv_namespaces]]\nbinding = "OAUTH_KV"\n`;
    expect(configuredResource(toml)).toBe("https://mcp.example.com/mcp");
    expect(configuredResource(`[vars]\n# MCP_RESOURCE = "https://old.example.com/mcp"\n[dev]\nMCP_RESOURCE = "no"\n`)).toBeUndefined();
    expect(configuredResource("", ["--var", "MCP_RESOURCE:https://a.example.com/mcp"])).toBe("https://a.example.com/mcp");
    expect(configuredResource(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))).toBeUndefined();
  });

  it("finds OWNER_PASSWORD in `wrangler secret list --format json`, and refuses to guess from anything else", () => {
    expect(hasSecret(JSON.stringify([{ name: "ANTHROPIC_API_KEY", type: "secret_text" }, { name: "OWNER_PASSWORD", type: "secret_text" }]))).toBe(true);
    expect(hasSecret("[]")).toBe(false);
    expect(hasSecret(`[\n  { "name": "ANTHROPIC_API_KEY", "type": "secret_text" }\n]\n`)).toBe(false);
    expect(() => hasSecret("✘ [ERROR] Worker not found")).toThrow();
  });

  it("generates passwords of at least 16 characters, a new one every time", () => {
    const a = generatePassword();
    expect(a.length).toBeGreaterThanOrEqual(16);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(generatePassword()).not.toBe(a);
  });
});

/** A terminal: answers each prompt with the next keystrokes, and keeps what was shown. */
function terminal(answers: string[]) {
  const input = Object.assign(new PassThrough(), { isTTY: true, rawMode: false, setRawMode(mode: boolean) { input.rawMode = mode; } });
  let shown = "";
  const output = new Writable({
    write(chunk, _encoding, done) {
      shown += String(chunk);
      if (/: $/.test(String(chunk)) && answers.length > 0) {
        const next = answers.shift()!;
        setImmediate(() => input.write(next));
      }
      done();
    },
  });
  return { input, output, shown: () => shown };
}

describe("the deploy script asks for the owner password", () => {
  it("reads typed text without echoing it, with Backspace, and leaves raw mode afterwards", async () => {
    const term = terminal(["secret-typo\u007f\u007f\u007f\u007fword\r"]);
    await expect(readHidden("Password: ", term.input, term.output)).resolves.toBe("secret-word");
    expect(term.shown()).toBe("Password: \n");
    expect(term.input.rawMode).toBe(false);
  });

  it("treats Ctrl-C as cancelling", async () => {
    const term = terminal(["abc\u0003"]);
    await expect(readHidden("Password: ", term.input, term.output)).rejects.toMatchObject({ code: "cancelled" });
  });

  it("takes a typed password of 16 or more characters, typed twice the same", async () => {
    const term = terminal(["too short\r", "correct horse battery staple\r", "correct horse battery stapel\r", "correct horse battery staple\r", "correct horse battery staple\r"]);
    await expect(choosePassword(term.input, term.output)).resolves.toEqual({ password: "correct horse battery staple", generated: false });
    expect(term.shown()).toContain("Too short: at least 16 characters.");
    expect(term.shown()).toContain("The two differ.");
    expect(term.shown()).not.toContain("horse");
  });

  it("generates one when Enter alone is pressed, or when no one is at a terminal", async () => {
    const term = terminal(["\r"]);
    const typed = await choosePassword(term.input, term.output);
    expect(typed).toMatchObject({ generated: true });
    expect(typed!.password.length).toBeGreaterThanOrEqual(16);
    const piped = Object.assign(new PassThrough(), { isTTY: false });
    await expect(choosePassword(piped, new PassThrough())).resolves.toMatchObject({ generated: true });
  });
});

// ───────────────────────────── npm run deploy, against the stub ─────────────────────────────

interface StubCall {
  args: string[];
  settings: Record<string, string | null>;
  stdin?: string;
}

/** A Cloudflare account stand-in that lives across runs (its secrets), like the real one. */
function account() {
  const state = tempDir("agent-runtime-account-");
  const log = join(state, "calls.ndjson");
  return {
    deploy: (options: { args?: string[]; env?: Record<string, string> } = {}) =>
      run(process.execPath, [SCRIPT, ...(options.args ?? [])], {
        ...process.env,
        WRANGLER_BIN: STUB,
        STUB_STATE: state,
        STUB_LOG: log,
        ...options.env,
      }),
    /** Every wrangler call so far, and forgets them. */
    calls(): StubCall[] {
      if (!existsSync(log)) return [];
      const calls = readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line) as StubCall);
      rmSync(log);
      return calls;
    },
  };
}

describe("npm run deploy", () => {
  it("answers --help (and -h) with what it does and how to pass wrangler's options, calling no wrangler", async () => {
    const cloud = account();
    for (const flag of ["--help", "-h"]) {
      const result = await cloud.deploy({ args: [flag] });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("Usage: npm run deploy");
      expect(result.stdout).toContain("npm run deploy -- --name my-runtime");
      expect(result.stdout).toContain("npx wrangler deploy --help");
    }
    expect(cloud.calls()).toEqual([]);
  });

  it("stops before deploying when wrangler is not logged in, and says how to log in", async () => {
    const cloud = account();
    const result = await cloud.deploy({ env: { STUB_LOGGED_IN: "0" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("npx wrangler login");
    expect(cloud.calls().map((call) => call.args)).toEqual([["whoami", "--json"]]);
  });

  it("deploys, sets a generated OWNER_PASSWORD once, prints it once, and prints the MCP URL", async () => {
    const cloud = account();
    const result = await cloud.deploy();
    expect(result.code, result.stderr).toBe(0);
    const calls = cloud.calls();
    expect(calls.map((call) => call.args)).toEqual([
      ["whoami", "--json"],
      ["deploy"],
      ["secret", "list", "--format", "json", "--name", "agent-runtime"],
      ["secret", "put", "OWNER_PASSWORD", "--name", "agent-runtime"],
    ]);
    // No telemetry, and the deploy told where to write its machine-readable output.
    for (const call of calls) expect(call.settings).toMatchObject({ WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" });
    expect(calls[1].settings.WRANGLER_OUTPUT_FILE_PATH).toBeTruthy();

    // The password went to wrangler on stdin (never as an argument), is long enough, and is
    // printed exactly once.
    const password = calls[3].stdin!;
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(result.stdout.split(password).length - 1).toBe(1);
    expect(result.stderr).not.toContain(password);
    expect(result.stdout).toContain("https://agent-runtime.alice.workers.dev/mcp");
    // The deploy's own output reached the person.
    expect(result.stdout).toContain("Deployed agent-runtime triggers");
  });

  it("keeps the password on the next deploy and prints no password", async () => {
    const cloud = account();
    expect((await cloud.deploy()).code).toBe(0);
    cloud.calls();
    const again = await cloud.deploy();
    expect(again.code, again.stderr).toBe(0);
    expect(cloud.calls().map((call) => call.args.slice(0, 2).join(" "))).toEqual(["whoami --json", "deploy", "secret list"]);
    expect(again.stdout).toContain("already has an OWNER_PASSWORD");
    expect(again.stdout).not.toContain("Generated");
    expect(again.stdout).toContain("https://agent-runtime.alice.workers.dev/mcp");
  });

  it("passes extra arguments to wrangler deploy and uses the deployed Worker's name for its secrets", async () => {
    const cloud = account();
    const result = await cloud.deploy({ args: ["--name", "my-runtime"] });
    expect(result.code, result.stderr).toBe(0);
    expect(cloud.calls().map((call) => call.args)).toEqual([
      ["whoami", "--json"],
      ["deploy", "--name", "my-runtime"],
      ["secret", "list", "--format", "json", "--name", "my-runtime"],
      ["secret", "put", "OWNER_PASSWORD", "--name", "my-runtime"],
    ]);
    expect(result.stdout).toContain("https://my-runtime.alice.workers.dev/mcp");
  });

  it("prints the custom domain's URL when the Worker has one", async () => {
    const cloud = account();
    const targets = ["https://agent-runtime.alice.workers.dev", "mcp.example.com (custom domain)"];
    const result = await cloud.deploy({ env: { STUB_TARGETS: JSON.stringify(targets) } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/paste this URL into your MCP client:\s+https:\/\/mcp\.example\.com\/mcp/);
    expect(result.stdout).toContain("Also served at https://agent-runtime.alice.workers.dev/mcp");
  });

  it("changes nothing else when the deploy fails, and exits with wrangler's code", async () => {
    const cloud = account();
    const result = await cloud.deploy({ env: { STUB_DEPLOY_EXIT: "3" } });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("wrangler deploy failed");
    expect(cloud.calls().map((call) => call.args[0])).toEqual(["whoami", "deploy"]);
  });

  it("never overwrites a password it could not check for: it says how to set one and fails", async () => {
    const cloud = account();
    const result = await cloud.deploy({ env: { STUB_LIST_EXIT: "1" } });
    expect(result.code).toBe(1);
    expect(cloud.calls().map((call) => call.args.slice(0, 2).join(" "))).toEqual(["whoami --json", "deploy", "secret list"]);
    expect(result.stderr).toContain("npx wrangler secret put OWNER_PASSWORD");
    expect(result.stdout).toContain("https://agent-runtime.alice.workers.dev/mcp");
  });
});
