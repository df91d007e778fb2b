#!/usr/bin/env node
// A stand-in for wrangler in test/e2e/deploy.test.ts (WRANGLER_BIN): answers the commands the
// deploy script uses the way wrangler 4.156 does, and records every call (arguments, the settings
// it was given, what came on stdin) as one JSON line in $STUB_LOG. It never touches the network.
//   STUB_STATE       a directory that stands for the Cloudflare account (secrets.json: names set)
//   STUB_LOGGED_IN   "0": whoami fails as when not logged in
//   STUB_TARGETS     JSON list of deploy targets (default: the workers.dev URL)
//   STUB_DEPLOY_EXIT exit code of `deploy` (default 0)
//   STUB_LIST_EXIT   exit code of `secret list` (default 0)
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const env = process.env;
const name = args.includes("--name") ? args[args.indexOf("--name") + 1] : "agent-runtime";
const secretsFile = join(env.STUB_STATE, "secrets.json");
const secrets = existsSync(secretsFile) ? JSON.parse(readFileSync(secretsFile, "utf8")) : [];

const readStdin = async () => {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text;
};

const call = {
  args,
  settings: Object.fromEntries(
    ["WRANGLER_SEND_METRICS", "WRANGLER_HIDE_BANNER", "CLOUDFLARE_CF_FETCH_ENABLED", "WRANGLER_OUTPUT_FILE_PATH"].map((key) => [key, env[key] ?? null]),
  ),
};
const [command, sub] = args;
if (command === "secret" && sub === "put") call.stdin = await readStdin();
appendFileSync(env.STUB_LOG, `${JSON.stringify(call)}\n`);

if (command === "whoami") {
  if (env.STUB_LOGGED_IN === "0") {
    console.error("You are not authenticated. Please run `wrangler login`.");
    process.exit(1);
  }
  console.log(JSON.stringify({ loggedIn: true, authType: "OAuth Token", email: "alice@example.com", accounts: [{ id: "0123", name: "Alice" }] }));
} else if (command === "deploy") {
  const code = Number(env.STUB_DEPLOY_EXIT ?? 0);
  if (code !== 0) {
    console.error("✘ [ERROR] A request to the Cloudflare API failed.");
    process.exit(code);
  }
  const targets = env.STUB_TARGETS ? JSON.parse(env.STUB_TARGETS) : [`https://${name}.alice.workers.dev`];
  console.log("Total Upload: 2687.63 KiB / gzip: 484.51 KiB");
  console.log(`Deployed ${name} triggers (1.02 sec)`);
  for (const target of targets) console.log(`  ${target}`);
  console.log("Current Version ID: 00000000-0000-0000-0000-000000000000");
  if (env.WRANGLER_OUTPUT_FILE_PATH) {
    appendFileSync(env.WRANGLER_OUTPUT_FILE_PATH, `${JSON.stringify({ type: "wrangler-session", version: 1 })}\n`);
    appendFileSync(env.WRANGLER_OUTPUT_FILE_PATH, `${JSON.stringify({ type: "deploy", version: 1, worker_name: name, targets })}\n`);
  }
} else if (command === "secret" && sub === "list") {
  const code = Number(env.STUB_LIST_EXIT ?? 0);
  if (code !== 0) {
    console.error("✘ [ERROR] A request to the Cloudflare API failed.");
    process.exit(code);
  }
  console.log(JSON.stringify(secrets.map((secret) => ({ name: secret, type: "secret_text" })), null, "  "));
} else if (command === "secret" && sub === "put") {
  writeFileSync(secretsFile, JSON.stringify([...new Set([...secrets, args[2]])]));
  console.log(`🌀 Creating the secret for the Worker "${name}"`);
  console.log(`✨ Success! Uploaded secret ${args[2]}`);
} else {
  console.error(`stub wrangler: unexpected command ${args.join(" ")}`);
  process.exit(2);
}
