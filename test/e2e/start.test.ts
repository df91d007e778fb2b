/**
 * `npm start` as a person runs it (scripts/start.mjs through npm): it says where the dashboard and
 * the MCP endpoint are once they answer, a browser that follows wrangler's own "Ready on
 * http://127.0.0.1:…" line lands on the page instead of a JSON refusal, and SIGTERM to the npm
 * process stops wrangler and every workerd process with it.
 *
 * The server runs on a free port with its own state directory, an empty env file (the developer's
 * .dev.vars is neither read nor created) and its own dev registry.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./harness";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "node_modules", ".bin");
const READY_TIMEOUT_MS = 90_000;

let workDir: string;
let port: number;
let npm: ChildProcess;
let output = "";
/** Every process `npm start` started (npm, its shell, start.mjs, wrangler, workerd, esbuild). */
let started: number[] = [];
let startedCommands: string[] = [];

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "agent-runtime-start-"));
  writeFileSync(join(workDir, "empty.env"), "");
  port = await freePort();
  const args = [
    "start",
    "--",
    "--persist-to", join(workDir, "state"),
    "--env-file", join(workDir, "empty.env"),
    "--inspector-port", "0",
    "--var", `OWNER_PASSWORD:${randomBytes(18).toString("base64url")}`,
  ];
  npm = spawn("npm", args, {
    cwd: ROOT,
    // Its own group, so that whatever survives can be cleaned up here (the test fails then).
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH ?? ""}`, PORT: String(port), WRANGLER_REGISTRY_PATH: join(workDir, "registry"), NO_COLOR: "1" },
  });
  npm.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  npm.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!output.includes("MCP endpoint:")) {
    if (Date.now() > deadline || npm.exitCode !== null) throw new Error(`npm start did not announce its URLs:\n${output}`);
    await sleep(200);
  }
  record(npm.pid!);
});

afterAll(() => {
  if (started.length === 0 && npm?.pid) record(npm.pid);
  // Only what this test started and still runs the same command (a pid may have been reused).
  started.forEach((pid, i) => {
    if (alive([pid]).length === 0 || commandsOf([pid])[0] !== startedCommands[i]) return;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  });
  rmSync(workDir, { recursive: true, force: true });
});

function record(pid: number) {
  started = descendants(pid);
  startedCommands = commandsOf(started);
}

describe("npm start", () => {
  it("prints the dashboard's and the MCP endpoint's URLs on localhost, and both answer", async () => {
    expect(output).toContain(`Dashboard:     http://localhost:${port}/\n`);
    expect(output).toContain(`MCP endpoint:  http://localhost:${port}/mcp\n`);
    const dashboard = await fetch(`http://localhost:${port}/`);
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain("Owner password");
    const mcp = await fetch(`http://localhost:${port}/mcp`, { method: "POST", body: "{}" });
    await mcp.arrayBuffer();
    expect(mcp.status).toBe(401);
    // The .dev.vars of a developer is neither read nor written: an env file was given.
    expect(output).not.toContain(".dev.vars");
  });

  it("sends a browser on wrangler's 127.0.0.1 address to the page on localhost; API clients keep the JSON 400", async () => {
    expect(output).toContain(`Ready on http://127.0.0.1:${port}`);
    const page = await fetch(`http://127.0.0.1:${port}/app?x=1`, { redirect: "manual", headers: { Accept: "text/html", "Sec-Fetch-Mode": "navigate" } });
    expect(page.status).toBe(307);
    expect(page.headers.get("Location")).toBe(`http://localhost:${port}/app?x=1`);
    const api = await fetch(`http://127.0.0.1:${port}/mcp`, { method: "POST", body: "{}" });
    expect(api.status).toBe(400);
    expect(await api.json()).toMatchObject({ mcp_url: `http://localhost:${port}/mcp` });
  });

  it("stops wrangler and every workerd process when the npm process gets SIGTERM", async () => {
    // npm, its shell, start.mjs, wrangler (a launcher and the CLI), esbuild and two workerd.
    expect(started.length).toBeGreaterThanOrEqual(6);
    expect(commandsOf(started).filter((command) => command.includes("workerd serve")).length).toBeGreaterThanOrEqual(1);
    process.kill(npm.pid!, "SIGTERM");
    const deadline = Date.now() + 20_000;
    while (alive(started).length > 0 && Date.now() < deadline) await sleep(100);
    expect(commandsOf(alive(started))).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});

// ─── processes, from /proc ───

interface Stat {
  ppid: number;
  state: string;
}

function statOf(pid: number): Stat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // pid (comm) state ppid …; comm may contain spaces, so parse after the last ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state, ppid: Number(ppid) };
  } catch {
    return null;
  }
}

/** `pid` and every process below it, now. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = statOf(Number(name));
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), Number(name)]);
  }
  const found = [pid];
  for (let i = 0; i < found.length; i++) found.push(...(children.get(found[i]) ?? []));
  return found;
}

/** Those of `pids` still running (a zombie waiting for its parent counts as gone). */
const alive = (pids: number[]) => pids.filter((pid) => {
  const stat = statOf(pid);
  return stat !== null && stat.state !== "Z";
});

function commandsOf(pids: number[]): string[] {
  return pids.map((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
    } catch {
      return `(${pid} gone)`;
    }
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
