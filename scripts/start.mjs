#!/usr/bin/env node
// `npm start`: the local server. On first run it writes .dev.vars with a random OWNER_PASSWORD
// and prints it (only then), then runs `wrangler dev` on 127.0.0.1 (PORT, default 8787) with no
// outside connections, and prints the dashboard's and the MCP endpoint's URLs once they answer.
// Data lives under .wrangler/ and survives restarts.
//
// wrangler and its workerd processes run in a process group of their own (not on Windows, which
// has none to signal), and end with this process: on Ctrl-C, on SIGTERM or SIGHUP to it, and when the process that started it goes away
// (SIGTERM to `npm start` ends npm's shell without passing the signal on). Arguments go to
// `wrangler dev`; with `--env-file` (yours instead of .dev.vars) .dev.vars is left alone.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDevVars } from "./dev-vars.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const port = process.env.PORT ?? "8787";
// localhost, not 127.0.0.1: tokens are bound to this exact URL, and the Worker sends a browser
// that arrives on 127.0.0.1 (as wrangler's own "Ready on" line suggests) here.
const origin = `http://localhost:${port}`;
const mcpUrl = `${origin}/mcp`;
const extra = process.argv.slice(2);
/** How long wrangler gets to stop its workerd processes before they are killed. */
const STOP_GRACE_MS = 5_000;

if (!extra.some((arg) => arg === "--env-file" || arg.startsWith("--env-file="))) {
  for (const line of ensureDevVars(root).lines) console.log(line);
}

// Windows has no process groups to signal (and a detached child gets a console of its own).
const ownGroup = process.platform !== "win32";
const wrangler = spawn(join(root, "node_modules", ".bin", "wrangler"), ["dev", "--ip", "127.0.0.1", "--port", port, "--var", `MCP_RESOURCE:${mcpUrl}`, ...extra], {
  cwd: root,
  // Its own group, so that stopping reaches every process wrangler starts. A group in the
  // background must not read the terminal: wrangler's keyboard shortcuts are off.
  detached: ownGroup,
  stdio: [ownGroup ? "ignore" : "inherit", "inherit", "inherit"],
  env: {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
  },
});

let exited = false;
wrangler.once("exit", (code, signal) => {
  exited = true;
  // Whatever wrangler left running in its group goes with it.
  signalGroup("SIGKILL");
  process.exit(code ?? (signal ? 0 : 1));
});
wrangler.once("error", (error) => {
  console.error(`Could not start wrangler: ${error.message}`);
  process.exit(1);
});

/** Sends `signal` to every process of wrangler's group (to wrangler alone on Windows). */
function signalGroup(signal) {
  try {
    if (ownGroup) process.kill(-wrangler.pid, signal);
    else wrangler.kill(signal);
  } catch {
    // Gone already.
  }
}

let stopping = false;
/** wrangler first stops workerd itself; what is left after the grace period is killed. */
function stop(signal) {
  if (stopping) return;
  stopping = true;
  signalGroup(signal);
  // wrangler's exit ends this process (above); this is for a wrangler that does not exit.
  setTimeout(() => {
    signalGroup("SIGKILL");
    process.exit(1);
  }, STOP_GRACE_MS).unref();
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(signal === "SIGHUP" ? "SIGTERM" : signal));
// The shell npm runs us in dies of SIGTERM without passing it on: then we are re-parented.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop("SIGTERM");
}, 500).unref();

/** Prints the URLs once the Worker answers on them (wrangler's "Ready on" comes a bit earlier). */
async function announceWhenReady() {
  while (!exited && !stopping) {
    try {
      const response = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`, { signal: AbortSignal.timeout(2_000) });
      const body = response.ok ? await response.json() : (await response.arrayBuffer(), null);
      if (body?.resource === mcpUrl) {
        console.log(`\nAgent Runtime is ready.\n  Dashboard:     ${origin}/\n  MCP endpoint:  ${mcpUrl}\n`);
        return;
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
void announceWhenReady();
