#!/usr/bin/env node
// `npm start`: the local server. On first run it writes .dev.vars with a random OWNER_PASSWORD
// and prints it (only then), then runs `wrangler dev` on 127.0.0.1 (PORT, default 8787) with no
// outside connections. Data lives under .wrangler/ and survives restarts.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDevVars } from "./dev-vars.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const port = process.env.PORT ?? "8787";
const mcpUrl = `http://localhost:${port}/mcp`;

for (const line of ensureDevVars(root).lines) console.log(line);
console.log(`MCP endpoint: ${mcpUrl}\n`);

const args = ["dev", "--ip", "127.0.0.1", "--port", port, "--var", `MCP_RESOURCE:${mcpUrl}`, ...process.argv.slice(2)];
const wrangler = spawn(join(root, "node_modules", ".bin", "wrangler"), args, {
  cwd: root,
  stdio: "inherit",
  env: {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
  },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code) => process.exit(code ?? 0));
