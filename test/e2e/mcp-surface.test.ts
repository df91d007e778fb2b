/**
 * MCP beyond tools end to end (SPEC §10, §5 "Editing"): `wrangler dev`, the real OAuth flow, and
 * both SDK client generations — v1 on the 2025 protocol (initialize), v2 on the 2026 one
 * (stateless, server/discover) — listing and reading resources and templates, getting prompts,
 * completing ids, editing goals and tasks, and following the links tool results carry.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorize, callTool, callToolError, callToolRaw, connectV1, connectV2, useDevServer, type V1Client, type V2Client } from "./harness";

const server = useDevServer();

interface Goal {
  id: number;
  name: string;
}
interface Task {
  id: number;
  title: string;
  priority: number;
  dependencies: number[];
  blocked_by: number[];
}
interface Listed {
  resources: { uri: string; name: string; mimeType?: string }[];
  nextCursor?: string;
}

type Client = { version: "v1"; client: V1Client } | { version: "v2"; client: V2Client };

/** One page of resources/list as the wire carries it (v2's listResources() walks every page itself). */
function page(c: Client, cursor?: string): Promise<Listed> {
  const params = cursor === undefined ? {} : { cursor };
  return c.version === "v1" ? c.client.listResources(params) : c.client.request({ method: "resources/list", params });
}

const connect = async (version: "v1" | "v2"): Promise<Client> => {
  const { accessToken } = await authorize(server);
  return version === "v1" ? { version, client: await connectV1(server, accessToken) } : { version, client: await connectV2(server, accessToken) };
};

const textOf = (result: { messages: { content: unknown }[] }) => (result.messages[0].content as { text: string }).text;

describe.each(["v1", "v2"] as const)("SDK %s client", (version) => {
  let c: Client;
  beforeAll(async () => {
    c = await connect(version);
  });
  afterAll(async () => {
    await c?.client.close();
  });

  it("is told of tools, resources, prompts and completions, with no list-change notifications", () => {
    expect(c.client.getServerCapabilities()).toMatchObject({
      tools: { listChanged: false },
      resources: { listChanged: false },
      prompts: { listChanged: false },
      completions: {},
    });
    expect(c.client.getServerCapabilities()?.resources?.subscribe).toBeFalsy();
  });

  it("lists the five resource templates and reads a goal, a task, a pipeline, a breaker and a schedule as JSON", async () => {
    const { resourceTemplates } = await c.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual([
      "agent-runtime://goals/{goal_id}",
      "agent-runtime://tasks/{task_id}",
      "agent-runtime://pipelines/{pipeline_id}",
      "agent-runtime://breakers/{agent_id}",
      "agent-runtime://schedules/{schedule_id}",
    ]);
    const goal = await callTool<Goal>(c.client, "create_goal", { name: `read by ${version}`, description: "d" });
    const task = await callTool<Task>(c.client, "create_task", { title: "t", goal_id: goal.id });
    const pipeline = await callTool<{ pipeline_id: string }>(c.client, "create_relay_pipeline", { name: "p", goal: "g", agent_types: ["researcher"] });
    await callTool(c.client, "circuit_breaker_trip", { agent_id: `breaker-${version}` });
    const schedule = await callTool<{ schedule_id: string }>(c.client, "create_schedule", { title: `daily by ${version}`, cron: "0 9 * * *", timezone: "Europe/Berlin" });

    const read = async (uri: string) => {
      const { contents } = await c.client.readResource({ uri });
      expect(contents[0]).toMatchObject({ uri, mimeType: "application/json" });
      return JSON.parse((contents[0] as { text: string }).text) as Record<string, unknown>;
    };
    expect(await read(`agent-runtime://goals/${goal.id}`)).toMatchObject({ goal: { id: goal.id, name: goal.name }, tasks: [{ id: task.id }] });
    expect(await read(`agent-runtime://tasks/${task.id}`)).toMatchObject({ id: task.id, events: [] });
    expect(await read(`agent-runtime://pipelines/${pipeline.pipeline_id}`)).toMatchObject({ pipeline_id: pipeline.pipeline_id, status: "in_progress" });
    expect(await read(`agent-runtime://breakers/breaker-${version}`)).toMatchObject({ agent_id: `breaker-${version}`, state: "OPEN" });
    expect(await read(`agent-runtime://schedules/${schedule.schedule_id}`)).toMatchObject({ schedule_id: schedule.schedule_id, status: "active", recent_runs: [] });
  });

  it("gets a JSON-RPC error naming the resource for an id that names nothing", async () => {
    const uri = "agent-runtime://goals/987654";
    await expect(c.client.readResource({ uri })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining(`Resource ${uri} not found`) });
  });

  it("pages through the live goals and pipelines, each exactly once", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const listed = await page(c, cursor);
      seen.push(...listed.resources.map((r) => r.uri));
      for (const r of listed.resources) expect(r.mimeType).toBe("application/json");
      cursor = listed.nextCursor;
    } while (cursor !== undefined);
    expect(new Set(seen).size).toBe(seen.length);
    const goal = await callTool<Goal>(c.client, "create_goal", { name: "listed", description: "" });
    expect((await page(c)).resources[0]).toMatchObject({ uri: `agent-runtime://goals/${goal.id}`, name: "listed" });
    await expect(page(c, "not-a-cursor")).rejects.toMatchObject({ code: -32602 });
  });

  it("gets the work_loop and plan_goal prompts", async () => {
    const { prompts } = await c.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(["work_loop", "plan_goal"]);
    const loop = await c.client.getPrompt({ name: "work_loop", arguments: { agent_id: "coder-9" } });
    expect(textOf(loop)).toContain('get_next_task {"agent_id": "coder-9", "wait_seconds": 30');
    const goal = await callTool<Goal>(c.client, "create_goal", { name: "Plan me", description: "A goal worth planning" });
    const plan = await c.client.getPrompt({ name: "plan_goal", arguments: { goal_id: String(goal.id) } });
    expect(textOf(plan)).toContain("A goal worth planning");
    expect(textOf(plan)).toContain(`decompose_goal {"goal_id": ${goal.id}, "tasks": [...]}`);
  });

  it("completes goal, pipeline and agent ids from the user's own data", async () => {
    const goal = await callTool<Goal>(c.client, "create_goal", { name: "completed id", description: "" });
    const pipeline = await callTool<{ pipeline_id: string }>(c.client, "create_relay_pipeline", { name: "p", goal: "g", agent_types: ["analyzer"] });
    await callTool(c.client, "circuit_breaker_trip", { agent_id: `completer-${version}` });
    const values = async (ref: { type: "ref/resource"; uri: string } | { type: "ref/prompt"; name: string }, name: string, value: string) =>
      (await c.client.complete({ ref, argument: { name, value } })).completion.values;

    expect(await values({ type: "ref/resource", uri: "agent-runtime://goals/{goal_id}" }, "goal_id", String(goal.id))).toEqual([String(goal.id)]);
    expect(await values({ type: "ref/prompt", name: "plan_goal" }, "goal_id", "")).toContain(String(goal.id));
    expect(await values({ type: "ref/resource", uri: "agent-runtime://pipelines/{pipeline_id}" }, "pipeline_id", pipeline.pipeline_id.slice(0, 8))).toContain(pipeline.pipeline_id);
    expect(await values({ type: "ref/resource", uri: "agent-runtime://breakers/{agent_id}" }, "agent_id", "completer-")).toContain(`completer-${version}`);
    expect(await values({ type: "ref/prompt", name: "work_loop" }, "agent_id", `completer-${version}`)).toEqual([`completer-${version}`]);
  });

  it("edits a goal and a task; a cycle or a final task is refused and changes nothing", async () => {
    const goal = await callTool<Goal>(c.client, "create_goal", { name: "to edit", description: "d" });
    expect(await callTool(c.client, "update_goal", { goal_id: goal.id, description: "clearer" })).toMatchObject({ name: "to edit", description: "clearer" });
    const a = await callTool<Task>(c.client, "create_task", { title: "a", goal_id: goal.id, priority: 2 });
    const b = await callTool<Task>(c.client, "create_task", { title: "b", goal_id: goal.id, dependencies: [a.id] });
    const freed = await callTool<Task>(c.client, "update_task", { task_id: b.id, dependencies: [], priority: 9 });
    expect(freed).toMatchObject({ dependencies: [], blocked_by: [], priority: 9 });
    expect(await callTool<{ task: Task }>(c.client, "get_next_task", { goal_id: goal.id })).toMatchObject({ task: { id: b.id } });

    await callTool(c.client, "update_task", { task_id: a.id, dependencies: [b.id] });
    const [latest] = (await callTool<{ events: { kind: string; detail: string }[] }>(c.client, "get_task", { task_id: a.id })).events;
    expect(latest).toMatchObject({ kind: "edited", detail: `edited: dependencies [] → [${b.id}] (blocked by ${b.id})` });
    const tasks = () => callTool<{ tasks: Task[] }>(c.client, "list_tasks", { goal_id: goal.id, view: "full" });
    const beforeCycle = await tasks();
    expect(await callToolError(c.client, "update_task", { task_id: b.id, dependencies: [a.id] })).toMatch(/^conflict: dependencies: this would make a cycle/);
    expect(await tasks()).toEqual(beforeCycle);
    // a waited for b to complete: with b cancelled it can never run, and is skipped (SPEC §12).
    await callTool(c.client, "update_task_status", { task_id: b.id, status: "cancelled" });
    expect(await callTool<Task>(c.client, "get_task", { task_id: a.id })).toMatchObject({ status: "cancelled", error: expect.stringMatching(`^skipped: dependency #${b.id} `) });
    const beforeLate = await tasks();
    expect(await callToolError(c.client, "update_task", { task_id: b.id, title: "late" })).toMatch(/^failed_precondition: task \d+ is cancelled/);
    expect(await tasks()).toEqual(beforeLate);
  });

  it("follows the resource link a create_goal result carries", async () => {
    const result = await callToolRaw(c.client, "create_goal", { name: "linked", description: "" });
    const goal = result.structuredContent as unknown as Goal;
    const link = result.content.find((item) => item.type === "resource_link") as unknown as { uri: string; name: string };
    expect(link).toMatchObject({ uri: `agent-runtime://goals/${goal.id}`, name: `goal ${goal.id}` });
    const { contents } = await c.client.readResource({ uri: link.uri });
    expect(JSON.parse((contents[0] as { text: string }).text).goal.name).toBe("linked");
  });
});
