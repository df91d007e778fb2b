/**
 * Decomposition by Claude end to end: `wrangler dev` configured with ANTHROPIC_BASE_URL pointing at
 * a fake Messages API (node:http on 127.0.0.1, random port) and a dummy ANTHROPIC_API_KEY. The
 * Worker's real path — global fetch, the SDK, structured output, validation, the Durable Object's
 * transaction — runs unchanged; only the model is scripted.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MODEL } from "../../src/planning/anthropic";
import { answers, FakeAnthropic, samplePlans } from "../helpers/fake-anthropic";
import { authorize, callTool, callToolError, connectV1, connectV2, useDevServer } from "./harness";

const DUMMY_KEY = "sk-ant-e2e-dummy-key-0000";

interface Task {
  id: number;
  title: string;
  dependencies: number[];
}
interface Decomposition {
  source: string;
  model: string | null;
  count: number;
  tasks_created: number[];
  tasks: Task[];
}

/** The fake answering the Worker right now; each test scripts its own. */
let fake = new FakeAnthropic();
let api: Server;

/** Bridges node:http to the fetch-shaped fake. */
async function serveFake(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
  const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body: Buffer.concat(chunks) });
  const response = await fake.answer(request);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

beforeAll(async () => {
  api = createServer((req, res) => {
    serveFake(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  await new Promise((resolve) => api?.close(resolve));
});
// Registered after the fake API's beforeAll, so its port is known when the server starts.
const server = useDevServer(() => {
  const { port } = api.address() as AddressInfo;
  return { vars: { ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`, ANTHROPIC_API_KEY: DUMMY_KEY } };
});

describe("decompose_goal with Claude behind ANTHROPIC_BASE_URL", () => {
  it("writes Claude's plan (source ai) and get_next_task follows its dependencies", async () => {
    const { accessToken } = await authorize(server);
    const client = await connectV2(server, accessToken);
    fake = new FakeAnthropic(answers.plan(samplePlans.hierarchical));
    const goal = await callTool<{ id: number }>(client, "create_goal", { name: "Launch blog", description: "Start a blog" });
    const plan = await callTool<Decomposition>(client, "decompose_goal", { goal_id: goal.id, strategy: "hierarchical" });

    expect(plan).toMatchObject({ source: "ai", model: DEFAULT_MODEL, count: samplePlans.hierarchical.length });
    const ids = plan.tasks_created;
    expect(plan.tasks.map((t) => t.title)).toEqual(samplePlans.hierarchical.map((t) => t.title));
    expect(plan.tasks.map((t) => t.dependencies)).toEqual(samplePlans.hierarchical.map((t) => t.depends_on.map((i) => ids[i])));

    // The Worker reached the fake with the key in the auth header and the goal in the prompt.
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(new URL(request.url).pathname).toBe("/v1/messages");
    expect(request.headers.get("authorization")).toBe(`Bearer ${DUMMY_KEY}`);
    expect(request.body.messages[0].content).toContain("Launch blog");
    expect(request.body.output_config?.format?.type).toBe("json_schema");

    // Work through the queue: every task is handed out only after all its dependencies completed.
    const completed = new Set<number>();
    for (;;) {
      const { task } = await callTool<{ task: Task | null }>(client, "get_next_task", { goal_id: goal.id, agent_id: "e2e-agent" });
      if (!task) break;
      for (const dep of task.dependencies) expect(completed.has(dep), `${task.title} before its dependency ${dep}`).toBe(true);
      await callTool(client, "update_task_status", { task_id: task.id, status: "completed" });
      completed.add(task.id);
    }
    expect(completed.size).toBe(ids.length);
    expect(await callTool(client, "get_goal", { goal_id: goal.id })).toMatchObject({ status: "completed", progress: 1 });
    // Nothing the server printed carries the key.
    expect(server.logs()).not.toContain(DUMMY_KEY);
  });

  it.each(["v1", "v2"] as const)("sends progress notifications while Claude plans, to an SDK %s client that asked for them", async (version) => {
    const { accessToken } = await authorize(server);
    fake = new FakeAnthropic(answers.plan(samplePlans.sequential));
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const onprogress = (p: { progress: number; total?: number; message?: string }) => void progress.push(p);
    const params = (goalId: number) => ({ name: "decompose_goal", arguments: { goal_id: goalId } });
    let result: { structuredContent?: unknown };
    if (version === "v1") {
      const client = await connectV1(server, accessToken);
      const goal = await callTool<{ id: number }>(client, "create_goal", { name: "Progress", description: "" });
      result = (await client.callTool(params(goal.id), undefined, { onprogress })) as { structuredContent?: unknown };
    } else {
      const client = await connectV2(server, accessToken);
      const goal = await callTool<{ id: number }>(client, "create_goal", { name: "Progress", description: "" });
      result = await client.callTool(params(goal.id), { onprogress });
    }
    expect(result.structuredContent).toMatchObject({ source: "ai", count: 3 });
    expect(progress).toEqual([
      { progress: 0, total: 3, message: `asking ${DEFAULT_MODEL} for a plan of at most 12 tasks` },
      { progress: 2, total: 3, message: "writing 3 tasks" },
      { progress: 3, total: 3, message: "wrote 3 tasks" },
    ]);
  });

  it("answers unavailable when the provider rate-limits, and writes nothing (SDK v1 client)", async () => {
    const { accessToken } = await authorize(server);
    const client = await connectV1(server, accessToken);
    fake = new FakeAnthropic(answers.status(429, "rate_limit_error"));
    const goal = await callTool<{ id: number }>(client, "create_goal", { name: "Busy", description: "" });
    expect(await callToolError(client, "decompose_goal", { goal_id: goal.id })).toMatch(/^unavailable: .*429/);
    expect(fake.requests).toHaveLength(1);
    expect(await callTool(client, "list_tasks", { goal_id: goal.id })).toMatchObject({ count: 0 });
  });
});
