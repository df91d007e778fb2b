/**
 * The MCP endpoint over HTTP (`npm run bench:e2e`), on `wrangler dev` as `npm start` runs it, signed
 * in with the real OAuth flow, through the real SDK v2 client. Prints one table:
 *
 *   - latency p50/p90 of a Worker's own 404 (the floor: the local proxy chain and nothing of ours),
 *     an authenticated request that stops right after the OAuth provider (`/mcp/…` unknown: auth
 *     only), an MCP `ping` (auth + the MCP server, no Durable Object), a read tool (`get_goal`), a
 *     write tool (`create_task`) and `tools/list` — measured in the same run, interleaved, each one
 *     HTTP exchange as an SDK client sends it (request sent → whole body received); and the
 *     auth-only request, ping, read and write signed in with an agent key instead of an OAuth
 *     token, each key's cost above the floor as a ratio of the token's (SPEC §16);
 *   - tokens of `tools/list` per endpoint and per tool (largest first; SPEC §9: JSON chars / 4);
 *   - 16 agents claiming and completing tasks at once on `/mcp/core`: tool calls per second and
 *     double claims (a task handed to a second agent; must be 0), beside the floor's own
 *     throughput (16 clients asking for the Worker's 404 at once) on the same machine.
 *
 * A benchmark, not a test: it asserts nothing about time and is not part of `npm test`.
 */
import { it } from "vitest";
import { ENDPOINTS } from "../../src/mcp/endpoints";
import { authorize, callTool, connectV2, makeAgentKey, signInDashboard, startDevServer, type DevServer, type V2Client } from "../../test/e2e/harness";
import { percentile, table, timeRequest, tokensOf } from "./support";

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
    const { key } = await makeAgentKey(server, await signInDashboard(server), { agent_id: "bench-agent" });
    const out: string[] = [];
    out.push(await latency(server, accessToken, key));
    out.push(await tokens(server, accessToken));
    out.push(await throughput(server, accessToken));
    console.log(out.join("\n"));
  } finally {
    await server.stop();
  }
});

async function latency(server: DevServer, accessToken: string, agentKey: string): Promise<string> {
  const client = await connectV2(server, accessToken);
  const goal = await callTool<{ id: number }>(client, "create_goal", { name: "bench", description: "latency" });
  await client.close();
  const auth = { Authorization: `Bearer ${accessToken}` };
  const keyAuth = { Authorization: `Bearer ${agentKey}` };
  // What an SDK client sends (both SDKs speak the 2025 protocol by default), replayed by a plain
  // fetch, so that the client's own work and garbage collection stay out of the figures.
  const rpc = (method: string, params: object = {}, bearer = auth) => () =>
    expectOk(
      fetch(server.mcpUrl, {
        method: "POST",
        headers: { ...bearer, "Content-Type": "application/json", Accept: "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      }),
    );
  const steps: [string, string, () => Promise<Response>][] = [
    ["floor: a Worker's own 404", "GET /no-such-page", () => expectStatus(404, fetch(`${server.origin}/no-such-page`))],
    ["auth only: OAuth provider, then 404", "POST /mcp/no-such-endpoint", () => expectStatus(404, fetch(`${server.mcpUrl}/no-such-endpoint`, { method: "POST", headers: auth }))],
    ["MCP ping (no Durable Object)", "ping", rpc("ping")],
    ["read tool", "get_goal", rpc("tools/call", { name: "get_goal", arguments: { goal_id: goal.id } })],
    ["write tool", "create_task", rpc("tools/call", { name: "create_task", arguments: { title: "bench write", goal_id: goal.id } })],
    ["tools/list", "tools/list of /mcp", rpc("tools/list")],
    ["auth only: agent key, then 404", "POST /mcp/no-such-endpoint", () => expectStatus(404, fetch(`${server.mcpUrl}/no-such-endpoint`, { method: "POST", headers: keyAuth }))],
    ["MCP ping, agent key", "ping", rpc("ping", {}, keyAuth)],
    ["read tool, agent key", "get_goal", rpc("tools/call", { name: "get_goal", arguments: { goal_id: goal.id } }, keyAuth)],
    ["write tool, agent key", "create_task", rpc("tools/call", { name: "create_task", arguments: { title: "bench write", goal_id: goal.id } }, keyAuth)],
  ];
  const samples = steps.map((): number[] => []);
  // Interleaved rounds, so that whatever else the machine does weighs on every row alike.
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    for (const [i, [, , request]] of steps.entries()) {
      const taken: number[] = [];
      await timeRequest(taken, request);
      if (round >= WARMUP) samples[i].push(...taken);
    }
  }
  const floor = percentile(samples[0], 50);
  const above = (what: string) => percentile(samples[steps.findIndex(([name]) => name === what)], 50) - floor;
  return [
    table(
      `Latency on wrangler dev, ${ROUNDS} interleaved rounds (ms; one HTTP exchange, request sent → whole body received)`,
      ["what", "request", "p50", "p90", "p50 − floor"],
      steps.map(([what, request], i) => [what, request, percentile(samples[i], 50), percentile(samples[i], 90), percentile(samples[i], 50) - floor]),
    ),
    table(
      "Agent key against OAuth token, same run (p50 above the floor, ms; ratio ≤ 1: the key costs no more)",
      ["what", "OAuth token", "agent key", "key / token"],
      [
        ["auth only, then 404", above("auth only: OAuth provider, then 404"), above("auth only: agent key, then 404")],
        ["MCP ping (no Durable Object)", above("MCP ping (no Durable Object)"), above("MCP ping, agent key")],
        ["read tool (get_goal)", above("read tool"), above("read tool, agent key")],
        ["write tool (create_task)", above("write tool"), above("write tool, agent key")],
      ].map(([what, token, key]) => [what, token, key, (key as number) / (token as number)]),
    ),
  ].join("\n");
}

/** A JSON-RPC answer that is a result (a tool error or a protocol error would time the wrong path). */
async function expectOk(pending: Promise<Response>): Promise<Response> {
  const response = await expectStatus(200, pending);
  const text = await response.clone().text();
  // One JSON body, or (as the agents lane of createMcpHandler answers) an SSE stream of one message.
  const json = response.headers.get("Content-Type")?.startsWith("text/event-stream") ? (/^data: (.*)$/m.exec(text)?.[1] ?? "") : text;
  const body = JSON.parse(json) as { error?: unknown; result?: { isError?: boolean } };
  if (body.error !== undefined || body.result?.isError) throw new Error(`expected a result, got ${text.slice(0, 300)}`);
  return response;
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

  // The same concurrency against the floor: what the machine and the local proxy chain allow.
  let floorRequests = 0;
  const floorStart = performance.now();
  await Promise.all(
    agents.map(async () => {
      while (floorRequests < calls) {
        floorRequests++;
        await (await fetch(`${server.origin}/no-such-page`)).arrayBuffer();
      }
    }),
  );
  const floorSeconds = (performance.now() - floorStart) / 1000;
  return table(
    `${AGENTS} at once: agents claiming and completing ${TASKS} tasks (SDK v2 clients on /mcp/core), and the floor`,
    ["what", "requests", "seconds", "per second", "tasks done", "double claims"],
    [
      ["tool calls (get_next_task, update_task_status)", calls, seconds, calls / seconds, claimedBy.size, doubleClaims],
      ["floor: GET of the Worker's own 404", floorRequests, floorSeconds, floorRequests / floorSeconds, "–", "–"],
    ],
  );
}
