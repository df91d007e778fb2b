#!/usr/bin/env node
// `npm start`: the local server. On first run it writes .dev.vars with a random OWNER_PASSWORD,
// then runs `wrangler dev` on 127.0.0.1 (PORT, default 8787) with no outside connections.
// Data lives under .wrangler/ and survives restarts.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const devVars = join(root, ".dev.vars");
const port = process.env.PORT ?? "8787";
const mcpUrl = `http://localhost:${port}/mcp`;

if (!existsSync(devVars)) {
  const password = randomBytes(18).toString("base64url");
  writeFileSync(devVars, `# Local secrets for wrangler dev (not committed).\nOWNER_PASSWORD=${password}\n`, { mode: 0o600 });
  console.log(`Created .dev.vars with a new owner password: ${password}`);
} else {
  const match = /^OWNER_PASSWORD=(.*)$/m.exec(readFileSync(devVars, "utf8"));
  console.log(match ? `Owner password: ${match[1]} (from .dev.vars)` : "Warning: .dev.vars has no OWNER_PASSWORD; sign-in will be refused.");
}
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
