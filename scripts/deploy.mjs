#!/usr/bin/env node
// `npm run deploy`: your own instance on your Cloudflare account in one command (docs/deploy.md).
//   1. checks that wrangler is logged in (`wrangler whoami`);
//   2. `wrangler deploy`, which creates the OAUTH_KV namespace on the first deploy;
//   3. when the deployed Worker has no OWNER_PASSWORD: asks for one (hidden input) or generates
//      one and prints it once, and stores it with `wrangler secret put`;
//   4. prints the MCP URL to paste into a client.
// Extra arguments go to `wrangler deploy` (`npm run deploy -- --name my-runtime`); `--help` says
// all this and calls nothing.
// WRANGLER_BIN replaces node_modules/.bin/wrangler: the tests run a stub that records its calls.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SECRET = "OWNER_PASSWORD";
export const MIN_PASSWORD_LENGTH = 16;
const DOCS = "docs/deploy.md";

// ───────────────────────────── pure parts ─────────────────────────────

/**
 * The `deploy` entry of wrangler's output file (WRANGLER_OUTPUT_FILE_PATH, one JSON object a
 * line): the Worker's name and its targets, as wrangler prints them after "Deployed … triggers"
 * (`https://<name>.<account>.workers.dev`, `mcp.example.com (custom domain)`, `example.com/*`, …).
 * Null when there is none.
 */
export function parseDeployOutput(text) {
  let found = null;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry?.type === "deploy") {
      found = {
        workerName: typeof entry.worker_name === "string" ? entry.worker_name : null,
        targets: Array.isArray(entry.targets) ? entry.targets.filter((target) => typeof target === "string") : [],
      };
    }
  }
  return found;
}

/**
 * The https origin a deploy target serves, and how much a user would rather use it: a custom
 * domain (0) over a whole-host route (1) over workers.dev (2). Null for anything else (a route on
 * part of a host, a cron schedule, a queue).
 */
export function targetOrigin(target) {
  const text = target.trim();
  const host = "([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)";
  let match = new RegExp(`^${host} \\(custom domain\\b`, "i").exec(text);
  if (match) return { origin: `https://${match[1].toLowerCase()}`, rank: 0 };
  match = new RegExp(`^(?:https?://)?${host}/\\*(?: \\(.*\\))?$`, "i").exec(text);
  if (match) return { origin: `https://${match[1].toLowerCase()}`, rank: 1 };
  match = new RegExp(`^https://${host}/?$`, "i").exec(text);
  if (match && match[1].toLowerCase().endsWith(".workers.dev")) return { origin: `https://${match[1].toLowerCase()}`, rank: 2 };
  return null;
}

/**
 * The MCP URL to paste into a client: MCP_RESOURCE when the deploy sets it (it wins in the Worker
 * too), else the best target + /mcp. `others`: the further origins that serve it (each its own
 * endpoint, with its own tokens).
 */
export function chooseMcpUrl(targets, configured) {
  if (configured) return { url: configured, others: [] };
  const origins = targets
    .map(targetOrigin)
    .filter((found) => found !== null)
    .sort((a, b) => a.rank - b.rank)
    .map((found) => `${found.origin}/mcp`);
  const unique = [...new Set(origins)];
  return { url: unique[0] ?? null, others: unique.slice(1) };
}

/**
 * MCP_RESOURCE as this deploy sets it: a `--var MCP_RESOURCE:…` argument, else `MCP_RESOURCE = "…"`
 * in wrangler.toml's [vars] table. Undefined when unset (the usual case).
 */
export function configuredResource(tomlText, args = []) {
  for (let i = 0; i < args.length; i++) {
    const value = args[i] === "--var" ? args[i + 1] : args[i].startsWith("--var=") ? args[i].slice("--var=".length) : undefined;
    if (value?.startsWith("MCP_RESOURCE:")) return value.slice("MCP_RESOURCE:".length).trim() || undefined;
  }
  let table = "";
  for (const line of tomlText.split("\n")) {
    const header = /^\s*\[+\s*([^\]]+?)\s*\]+\s*(?:#.*)?$/.exec(line);
    if (header) {
      table = header[1];
      continue;
    }
    if (table !== "vars") continue;
    const setting = /^\s*MCP_RESOURCE\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(line);
    if (setting) return (setting[1] ?? setting[2]).trim() || undefined;
  }
  return undefined;
}

/** Whether `wrangler secret list --format json` output names the secret. Throws when unreadable. */
export function hasSecret(listOutput, name = SECRET) {
  const start = listOutput.indexOf("[");
  const end = listOutput.lastIndexOf("]");
  if (start === -1 || end < start) throw new Error("wrangler secret list printed no JSON list");
  const secrets = JSON.parse(listOutput.slice(start, end + 1));
  if (!Array.isArray(secrets)) throw new Error("wrangler secret list printed no JSON list");
  return secrets.some((secret) => secret?.name === name);
}

/** What `npm run deploy -- --help` prints. */
export const HELP = `Usage: npm run deploy [-- <wrangler deploy arguments>]

Deploys Agent Runtime to your Cloudflare account as your own instance:
  1. checks that wrangler is logged in (run \`npx wrangler login\` first);
  2. runs \`wrangler deploy\` (the first deploy creates the OAUTH_KV namespace);
  3. when the Worker has no ${SECRET}: asks for one at a terminal (Enter alone generates one;
     without a terminal one is generated) and stores it with \`wrangler secret put\`;
     an existing one is kept;
  4. prints the MCP URL to paste into your client.

Arguments after \`--\` go to \`wrangler deploy\`, e.g.:
  npm run deploy -- --name my-runtime                 another Worker name
  npm run deploy -- --var MCP_RESOURCE:https://mcp.example.com/mcp
  npm run deploy -- --dry-run --outdir dist           build only: nothing is deployed or set
Every option of wrangler deploy: npx wrangler deploy --help
More: ${DOCS}
`;

/** 24 random base64url characters (144 bits). */
export function generatePassword() {
  return randomBytes(18).toString("base64url");
}

// ───────────────────────────── the terminal ─────────────────────────────

/**
 * Reads one line from a terminal without echoing it. Enter ends it, Backspace deletes, Ctrl-C
 * rejects (error.code "cancelled"); other control keys (arrows, …) are ignored.
 */
export function readHidden(prompt, input = process.stdin, output = process.stdout) {
  return new Promise((resolvePromise, reject) => {
    output.write(prompt);
    let value = "";
    const finish = (error) => {
      input.off("data", onData);
      input.off("end", onEnd);
      input.setRawMode?.(false);
      input.pause();
      output.write("\n");
      if (error) reject(error);
      else resolvePromise(value);
    };
    const cancelled = () => Object.assign(new Error("cancelled"), { code: "cancelled" });
    const onEnd = () => finish(cancelled());
    const onData = (chunk) => {
      for (const char of String(chunk)) {
        if (char === "\r" || char === "\n") return finish();
        if (char === "\u0003" || char === "\u0004") return finish(cancelled());
        if (char === "\u007f" || char === "\b") value = [...value].slice(0, -1).join("");
        else if (char === "\u001b") return; // an escape sequence (arrow keys): drop the rest of it
        else if (char >= " ") value += char;
      }
    };
    input.setRawMode?.(true);
    input.setEncoding?.("utf8");
    input.on("data", onData);
    input.on("end", onEnd);
    input.resume();
  });
}

/**
 * The owner password for a Worker that has none: typed twice without echo when a person is at a
 * terminal (Enter alone generates one), generated otherwise. Null when the person gives up.
 */
export async function choosePassword(input, output) {
  if (!input.isTTY) return { password: generatePassword(), generated: true };
  for (let attempt = 0; attempt < 3; attempt++) {
    const first = await readHidden(`Owner password (at least ${MIN_PASSWORD_LENGTH} characters; Enter alone generates one): `, input, output);
    if (first === "") return { password: generatePassword(), generated: true };
    if ([...first].length < MIN_PASSWORD_LENGTH) {
      output.write(`Too short: at least ${MIN_PASSWORD_LENGTH} characters.\n`);
      continue;
    }
    if ((await readHidden("Type it again: ", input, output)) !== first) {
      output.write("The two differ.\n");
      continue;
    }
    return { password: first, generated: false };
  }
  return null;
}

// ───────────────────────────── wrangler ─────────────────────────────

/**
 * Runs wrangler. `inherit`: the person sees wrangler itself (and answers its questions);
 * otherwise its output is captured. `input` is written to its stdin (a secret, never logged).
 */
function wrangler(bin, args, { inherit = false, input, env = {} } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(bin, args, {
      cwd: ROOT,
      stdio: inherit ? "inherit" : [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_HIDE_BANNER: "true",
        ...env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
    child.once("error", (error) => resolvePromise({ code: 127, stdout, stderr: `${stderr}${error.message}\n` }));
    child.once("close", (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
  });
}

// ───────────────────────────── the steps ─────────────────────────────

/** Runs the deploy; resolves to the process exit code. Every dependency can be replaced in tests. */
export async function main({
  args = process.argv.slice(2),
  env = process.env,
  input = process.stdin,
  output = process.stdout,
  errors = process.stderr,
} = {}) {
  const bin = env.WRANGLER_BIN || join(ROOT, "node_modules", ".bin", "wrangler");
  const say = (text = "") => output.write(`${text}\n`);
  const complain = (text) => errors.write(`${text}\n`);

  if (args.includes("--help") || args.includes("-h")) {
    output.write(HELP);
    return 0;
  }
  if (args.includes("--dry-run")) return (await wrangler(bin, ["deploy", ...args], { inherit: true })).code;

  const whoami = await wrangler(bin, ["whoami", "--json"]);
  if (whoami.code !== 0) {
    complain(
      "wrangler is not logged in to Cloudflare. Run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), " +
        "then `npm run deploy` again.",
    );
    return 1;
  }

  say("Deploying Agent Runtime to your Cloudflare account (wrangler deploy)…\n");
  const workDir = mkdtempSync(join(tmpdir(), "agent-runtime-deploy-"));
  let deployed;
  try {
    const outputFile = join(workDir, "wrangler-output.ndjson");
    const deploy = await wrangler(bin, ["deploy", ...args], { inherit: true, env: { WRANGLER_OUTPUT_FILE_PATH: outputFile } });
    if (deploy.code !== 0) {
      complain(`\nwrangler deploy failed (exit code ${deploy.code}); nothing else was changed. Its messages are above.`);
      return deploy.code;
    }
    let text = "";
    try {
      text = readFileSync(outputFile, "utf8");
    } catch {
      // No output file: an older wrangler. The URL cannot be read, the rest still works.
    }
    deployed = parseDeployOutput(text) ?? { workerName: null, targets: [] };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const nameArgs = deployed.workerName ? ["--name", deployed.workerName] : [];
  const worker = deployed.workerName ?? "the Worker";
  let exitCode = 0;

  const list = await wrangler(bin, ["secret", "list", "--format", "json", ...nameArgs]);
  let present;
  try {
    if (list.code !== 0) throw new Error(list.stderr.trim() || `exit code ${list.code}`);
    present = hasSecret(list.stdout);
  } catch (error) {
    complain(`\nCould not check whether ${worker} has an ${SECRET} (${error.message}).`);
    complain(`If it has none, sign-in is refused until you run: npx wrangler secret put ${SECRET}`);
    exitCode = 1;
  }
  if (present) say(`\n${worker} already has an ${SECRET}: kept as it is.`);
  if (present === false) {
    say(`\n${worker} has no ${SECRET} yet: the password you type on the consent page when a client connects.`);
    let chosen;
    try {
      chosen = await choosePassword(input, output);
    } catch (error) {
      if (error?.code !== "cancelled") throw error;
      chosen = undefined;
    }
    if (!chosen) {
      complain(`No password set, so sign-in is refused. Set one with: npx wrangler secret put ${SECRET}`);
      return chosen === undefined ? 130 : 1;
    }
    const put = await wrangler(bin, ["secret", "put", SECRET, ...nameArgs], { input: chosen.password });
    if (put.code !== 0) {
      complain(`wrangler secret put ${SECRET} failed (exit code ${put.code}):\n${put.stderr.trim()}`);
      complain(`Sign-in is refused until it is set: npx wrangler secret put ${SECRET}`);
      return put.code;
    }
    if (chosen.generated) {
      say("Generated an owner password. It is shown only this once: keep it in your password manager.\n");
      say(`  ${chosen.password}`);
    } else {
      say(`${SECRET} set.`);
    }
  }

  let toml = "";
  try {
    toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  } catch {
    // No wrangler.toml here: then MCP_RESOURCE can only come from --var.
  }
  const { url, others } = chooseMcpUrl(deployed.targets, configuredResource(toml, args));
  if (url) {
    say("\nYour MCP endpoint — paste this URL into your MCP client:\n");
    say(`  ${url}\n`);
    for (const other of others) say(`(Also served at ${other}, with its own sign-in.)`);
    say(`Claude Code: claude mcp add --transport http agent-runtime ${url}`);
    say("A brand-new workers.dev name can take a few minutes to resolve.");
  } else {
    say("\nwrangler reported no URL for the Worker (no workers.dev name or custom domain).");
    say("Your MCP endpoint is https://<a host routed to the Worker>/mcp.");
  }
  say(`More: ${DOCS}`);
  return exitCode;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
