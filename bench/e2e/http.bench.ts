/**
 * The MCP endpoint over HTTP (`npm run bench:e2e`), on `wrangler dev` as `npm start` runs it, signed
 * in with the real OAuth flow, through the real SDK v2 client. Prints one table:
 *
 *   - latency p50/p90 of a Worker's own 404 (the floor: the local proxy chain and nothing of ours),
 *     an authenticated request that stops right after the OAuth provider (`/mcp/…` unknown: auth
 *     only), an MCP `ping` (auth + the MCP server, no Durable Object), a read tool (`get_goal`), a
 *     write tool (`create_task`) and `tools/list` — measured in the same run, interleaved, each the
 *     HTTP exchange alone (request sent → whole body received), not the client's own work;
 *   - tokens of `tools/list` per endpoint and per tool (largest first; SPEC §9: JSON chars / 4);
 *   - 16 agents claiming and completing tasks at once on `/mcp/core`: tool calls per second and
 *     double claims (a task handed to a second agent; must be 0).
 *
 * A benchmark, not a test: it asserts nothing about time and is not part of `npm test`.
 */
import { it } from "vitest";
import { ENDPOINTS } from "../../src/mcp/endpoints";
import { authorize, callTool, connectV2, startDevServer, type DevServer, type V2Client } from "../../test/e2e/harness";
import { percentile, Stopwatch, table, timeRequest, tokensOf } from "./support";

const WARMUP = 30;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const AGENTS = 16;
const TASKS = Number(process.env.BENCH_TASKS ?? 1_200);

interface Task {
  id: number;
}
interface Claim {
  task: Task | null;
  lease_id?: string;
  reason?: string;
}

it("MCP over HTTP: latency, tokens, 16 agents", async () => {
  const server = await startDevServer();
  try {
    const { accessToken } = await authorize(server);
    const out: string[] = [];
    out.push(await latency(server, accessToken));
    out.push(await tokens(server, accessToken));
    out.push(await throughput(server, accessToken));
    console.log(out.join("\n"));
  } finally {
    await server.stop();
  }
});

async function latency(server: DevServer, accessToken: string): Promise<string> {
  const watch = new Stopwatch();
  const client = await connectV2(server, accessToken, { fetch: watch.fetch });
  const goal = await callTool<{ id: number }>(client, "create_goal", { name: "bench", description: "latency" });
  const auth = { Authorization: `Bearer ${accessToken}` };
  const samples: Record<string, number[]> = { floor: [], auth: [], ping: [], read: [], write: [], list: [] };
  const steps: [keyof typeof samples, () => Promise<void>][] = [
    ["floor", () => timeRequest(samples.floor, () => fetch(`${server.origin}/no-such-page`))],
    ["auth", () => timeRequest(samples.auth, () => expectStatus(404, fetch(`${server.mcpUrl}/no-such-endpoint`, { method: "POST", headers: auth })))],
    ["ping", () => watch.time(() => client.ping())],
    ["read", () => watch.time(() => callTool(client, "get_goal", { goal_id: goal.id }))],
    ["write", () => watch.time(() => callTool(client, "create_task", { title: "bench write", goal_id: goal.id }))],
    // Refresh: the v2 client would otherwise be free to answer from its response cache.
    ["list", () => watch.time(() => client.listTools(undefined, { cacheMode: "refresh" }))],
  ];
  // Interleaved rounds, so that whatever else the machine does weighs on every row alike.
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    for (const [name, step] of steps) {
      const before = watch.samples.length;
      await step();
      const taken = watch.samples.splice(before);
      if (round >= WARMUP) samples[name].push(...taken);
      else if (name === "floor" || name === "auth") samples[name].length = 0;
    }
  }
  await client.close();
  const floor = percentile(samples.floor, 50);
  const rows: [string, string, number[]][] = [
    ["floor: a Worker's own 404", "GET /no-such-page", samples.floor],
    ["auth only: OAuth provider, then 404", "POST /mcp/no-such-endpoint", samples.auth],
    ["MCP ping (no Durable Object)", "ping", samples.ping],
    ["read tool", "get_goal", samples.read],
    ["write tool", "create_task", samples.write],
    ["tools/list", "tools/list of /mcp", samples.list],
  ];
  return table(
    `Latency on wrangler dev, ${ROUNDS} interleaved rounds (ms; the HTTP exchange only)`,
    ["what", "request", "n", "p50", "p90", "p50 − floor"],
    rows.map(([what, request, s]) => [what, request, s.length, percentile(s, 50), percentile(s, 90), percentile(s, 50) - floor]),
  );
}

/** The response, after checking its status (a 401 would time the refusal, not the sign-in). */
async function expectStatus(status: number, pending: Promise<Response>): Promise<Response> {
  const response = await pending;
  if (response.status !== status) throw new Error(`expected HTTP ${status}, got ${response.status}`);
  return response;
}

async function tokens(server: DevServer, accessToken: string): Promise<string> {
  const rows: (string | number)[][] = [];
  let all: { name: string }[] = [];
  for (const path of Object.keys(ENDPOINTS)) {
    const client = await connectV2(server, accessToken, { url: `${server.origin}${path}` });
    const { tools } = await client.listTools();
    await client.close();
    if (path === "/mcp") all = tools;
    rows.push([path, tools.length, tokensOf(tools), ENDPOINTS[path as keyof typeof ENDPOINTS].budget]);
  }
  const perTool = all
    .map((tool) => [tool.name, tokensOf(tool)] as [string, number])
    .sort((a, b) => b[1] - a[1]);
  return [
    table("Tokens of tools/list per endpoint (JSON chars / 4)", ["endpoint", "tools", "tokens", "budget"], rows),
    table("Tokens per tool, largest first", ["tool", "tokens"], perTool),
  ].join("\n");
}

async function throughput(server: DevServer, accessToken: string): Promise<string> {
  const planner = await connectV2(server, accessToken);
  const goal = await callTool<{ id: number }>(planner, "create_goal", { name: "bench", description: "16 agents" });
  for (let made = 0; made < TASKS; made += 50) {
    const tasks = Array.from({ length: Math.min(50, TASKS - made) }, (_, i) => ({ title: `t${made + i}` }));
    await callTool(planner, "decompose_goal", { goal_id: goal.id, tasks, mode: "append" });
  }
  await planner.close();

  const agents: V2Client[] = [];
  const url = "/mcp/core" in ENDPOINTS ? `${server.mcpUrl}/core` : server.mcpUrl;
  for (let i = 0; i < AGENTS; i++) agents.push(await connectV2(server, accessToken, { url }));
  const claimedBy = new Map<number, string>();
  let doubleClaims = 0;
  let calls = 0;
  const start = performance.now();
  await Promise.all(
    agents.map(async (client, i) => {
      const agentId = `bench-agent-${i}`;
      for (;;) {
        const claim = await callTool<Claim>(client, "get_next_task", { agent_id: agentId, goal_id: goal.id });
        calls++;
        if (!claim.task) return;
        if (claimedBy.has(claim.task.id)) doubleClaims++;
        claimedBy.set(claim.task.id, agentId);
        await callTool(client, "update_task_status", { task_id: claim.task.id, status: "completed", lease_id: claim.lease_id });
        calls++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(agents.map((client) => client.close()));
  return table(
    `${AGENTS} agents claiming and completing ${TASKS} tasks at once (SDK v2 clients on /mcp/core)`,
    ["tool calls", "seconds", "calls/s", "tasks done", "double claims"],
    [[calls, seconds, calls / seconds, claimedBy.size, doubleClaims]],
  );
}
