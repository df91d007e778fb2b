/**
 * MCP beyond tools (SPEC §10) through the real Worker with an SDK v2 client: resource templates
 * and reads, the paged list of live items, prompts, completions from the user's own data, the
 * editing tools and the resource links in tool results, and the capabilities that say so.
 */
import { describe, expect, it } from "vitest";
import { connectAs, hintsOf, type McpSession } from "./helpers/mcp";

const user = () => `resources-${crypto.randomUUID()}`;

interface Goal {
  id: number;
  name: string;
}

async function readJson(mcp: McpSession, uri: string): Promise<any> {
  const { contents } = await mcp.client.readResource({ uri });
  expect(contents).toHaveLength(1);
  expect(contents[0]).toMatchObject({ uri, mimeType: "application/json" });
  return JSON.parse((contents[0] as { text: string }).text);
}

/** The JSON-RPC error a read fails with. */
async function readError(mcp: McpSession, uri: string): Promise<{ code: number; message: string }> {
  try {
    await mcp.client.readResource({ uri });
  } catch (error) {
    return error as { code: number; message: string };
  }
  throw new Error(`reading ${uri} should have failed`);
}

describe("capabilities", () => {
  it("advertises tools, resources, prompts and completions, and no list-change notifications a stateless server never sends", async () => {
    const mcp = await connectAs(user());
    expect(mcp.client.getServerCapabilities()).toEqual({
      tools: { listChanged: false },
      resources: { listChanged: false },
      prompts: { listChanged: false },
      completions: {},
    });
  });
});

describe("resource templates", () => {
  it("lists the five templates as JSON resources", async () => {
    const mcp = await connectAs(user());
    const { resourceTemplates } = await mcp.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => [t.uriTemplate, t.mimeType])).toEqual([
      ["agent-runtime://goals/{goal_id}", "application/json"],
      ["agent-runtime://tasks/{task_id}", "application/json"],
      ["agent-runtime://pipelines/{pipeline_id}", "application/json"],
      ["agent-runtime://breakers/{agent_id}", "application/json"],
      ["agent-runtime://schedules/{schedule_id}", "application/json"],
    ]);
    for (const t of resourceTemplates) expect(t.description, t.uriTemplate).toBeTruthy();
  });

  it("reads a goal with its tasks, a task with its history, a pipeline and a breaker, as the tools show them", async () => {
    const mcp = await connectAs(user());
    const goal = await mcp.call("create_goal", { name: "Launch", description: "d" });
    const a = await mcp.call("create_task", { title: "a", goal_id: goal.id });
    const b = await mcp.call("create_task", { title: "b", goal_id: goal.id, dependencies: [a.id] });
    const read = await readJson(mcp, `agent-runtime://goals/${goal.id}`);
    expect(read.goal).toEqual(await mcp.call("get_goal", { goal_id: goal.id }));
    expect(read.tasks.map((t: { id: number }) => t.id)).toEqual([a.id, b.id]);

    await mcp.call("get_next_task", { agent_id: "reader" });
    expect(await readJson(mcp, `agent-runtime://tasks/${a.id}`)).toEqual(await mcp.call("get_task", { task_id: a.id }));

    const pipeline = await mcp.call("create_relay_pipeline", { name: "p", goal: "g", agent_types: ["researcher", "formatter"] });
    expect(await readJson(mcp, `agent-runtime://pipelines/${pipeline.pipeline_id}`)).toEqual(
      await mcp.call("get_relay_status", { pipeline_id: pipeline.pipeline_id }),
    );

    await mcp.call("circuit_breaker_record_failure", { agent_id: "team/coder 1", failure_type: "timeout", error_message: "slow" });
    const breaker = await readJson(mcp, "agent-runtime://breakers/team%2Fcoder%201");
    expect(breaker).toMatchObject({ agent_id: "team/coder 1", tracked: true, total_failures: 1 });
    // An agent without a breaker reads as circuit_breaker_status shows it: CLOSED, defaults, not stored.
    expect(await readJson(mcp, "agent-runtime://breakers/nobody")).toMatchObject({ agent_id: "nobody", tracked: false, state: "CLOSED" });
  });

  it("answers an id that names nothing with a JSON-RPC error naming the resource", async () => {
    const mcp = await connectAs(user());
    for (const uri of ["agent-runtime://goals/999", "agent-runtime://goals/abc", "agent-runtime://tasks/0", "agent-runtime://pipelines/rp_nothing", `agent-runtime://breakers/${"x".repeat(201)}`]) {
      const error = await readError(mcp, uri);
      // -32602: how the 2026 protocol (and the SDK on every revision) says "resource not found".
      expect(error.code, uri).toBe(-32602);
      expect(error.message, uri).toContain(`Resource ${uri} not found`);
    }
    expect((await readError(mcp, "agent-runtime://goals/999")).message).toContain("goal 999 does not exist");
    expect((await readError(mcp, "agent-runtime://elsewhere/1")).code).toBe(-32602);
  });

  it("reads only the signed-in user's own data", async () => {
    const alice = await connectAs(user());
    const bob = await connectAs(user());
    const goal = await alice.call("create_goal", { name: "alice's", description: "secret" });
    expect((await readError(bob, `agent-runtime://goals/${goal.id}`)).message).toContain("not found");
    expect((await bob.client.listResources()).resources).toEqual([]);
  });
});

describe("resources/list", () => {
  it("lists active goals and running pipelines, page by page, each exactly once", async () => {
    const mcp = await connectAs(user());
    const goals: Goal[] = [];
    for (let i = 0; i < 103; i++) goals.push(await mcp.call("create_goal", { name: `goal ${i}`, description: "" }));
    await mcp.call("cancel_goal", { goal_id: goals[0].id });
    const pipeline = await mcp.call("create_relay_pipeline", { name: "running", goal: "g", agent_types: ["researcher"] });

    // Page by page, as the wire carries it (a bare request: the SDK's listResources() walks every page).
    const first = await mcp.client.request({ method: "resources/list", params: {} });
    expect(first.resources).toHaveLength(100);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await mcp.client.request({ method: "resources/list", params: { cursor: first.nextCursor } });
    expect(second.nextCursor).toBeUndefined();
    const all = [...first.resources, ...second.resources];
    expect((await mcp.client.listResources()).resources).toEqual(all);
    expect(all.map((r) => r.uri)).toEqual([
      ...goals.slice(1).reverse().map((g) => `agent-runtime://goals/${g.id}`),
      `agent-runtime://pipelines/${pipeline.pipeline_id}`,
    ]);
    expect(all[0]).toEqual({ uri: `agent-runtime://goals/${goals[102].id}`, name: "goal 102", description: `active goal ${goals[102].id}`, mimeType: "application/json" });
  });

  it("refuses a cursor it did not issue with invalid params", async () => {
    const mcp = await connectAs(user());
    await expect(mcp.client.listResources({ cursor: "bm90IG91cnM" })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining("invalid_argument: cursor") });
  });
});

describe("prompts", () => {
  it("lists work_loop and plan_goal with their arguments", async () => {
    const mcp = await connectAs(user());
    const { prompts } = await mcp.client.listPrompts();
    expect(prompts.map((p) => [p.name, p.arguments?.map((a) => [a.name, a.required])])).toEqual([
      ["work_loop", [["agent_id", true], ["roles", false]]],
      ["plan_goal", [["goal_id", true]]],
    ]);
  });

  it("work_loop tells the agent how to claim, heartbeat, finish, ask the owner for a decision, and what to do when nothing is ready or its breaker is open", async () => {
    const mcp = await connectAs(user());
    const { messages } = await mcp.client.getPrompt({ name: "work_loop", arguments: { agent_id: "coder-7" } });
    expect(messages).toHaveLength(1);
    expect(messages[0].role).toBe("user");
    const text = (messages[0].content as { text: string }).text;
    for (const words of ['get_next_task {"agent_id": "coder-7", "wait_seconds": 30', "heartbeat_task", "update_task_status", "lease_id", "no_pending_tasks", "circuit_open", "fallback_agent", "probe_expires_at", 'role: "owner"', "no_task_for_roles", "inputs"]) {
      expect(text).toContain(words);
    }
    expect(text).toContain("You take tasks without a role");
    expect(text).not.toContain('"roles"');
  });

  it("work_loop with roles claims with them; roles it cannot take are refused", async () => {
    const mcp = await connectAs(user());
    const { messages } = await mcp.client.getPrompt({ name: "work_loop", arguments: { agent_id: "rev-1", roles: "reviewer, tester reviewer" } });
    const text = (messages[0].content as { text: string }).text;
    expect(text).toContain('get_next_task {"agent_id": "rev-1", "wait_seconds": 30, "lease_seconds": 300, "roles": ["reviewer","tester"]}');
    expect(text).toContain('You take tasks of the roles "reviewer", "tester" and tasks without a role.');
    await expect(mcp.client.getPrompt({ name: "work_loop", arguments: { agent_id: "rev-1", roles: "owner" } })).rejects.toThrow(/owner/);
    await expect(mcp.client.getPrompt({ name: "work_loop", arguments: { agent_id: "rev-1", roles: "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q" } })).rejects.toThrow();
  });

  it("plan_goal asks for a plan of this goal, name and description included, for decompose_goal's tasks", async () => {
    const mcp = await connectAs(user());
    const goal = await mcp.call("create_goal", { name: "Launch the <blog>", description: "Write and publish the first post" });
    const fresh = (await mcp.client.getPrompt({ name: "plan_goal", arguments: { goal_id: String(goal.id) } })).messages[0].content as { text: string };
    expect(fresh.text).toContain("Launch the \\u003cblog\\u003e");
    expect(fresh.text).toContain("Write and publish the first post");
    expect(fresh.text).toContain(`decompose_goal {"goal_id": ${goal.id}, "tasks": [...]}`);

    await mcp.call("create_task", { title: "Pick a platform", goal_id: goal.id });
    const more = (await mcp.client.getPrompt({ name: "plan_goal", arguments: { goal_id: String(goal.id) } })).messages[0].content as { text: string };
    expect(more.text).toContain("Pick a platform");
    expect(more.text).toContain(`"mode": "append"`);

    await expect(mcp.client.getPrompt({ name: "plan_goal", arguments: { goal_id: "999" } })).rejects.toMatchObject({ message: expect.stringContaining("goal 999 does not exist") });
    await mcp.call("cancel_goal", { goal_id: goal.id });
    await expect(mcp.client.getPrompt({ name: "plan_goal", arguments: { goal_id: String(goal.id) } })).rejects.toMatchObject({ message: expect.stringContaining("cancelled") });
  });
});

describe("completions", () => {
  it("completes goal, pipeline and agent ids in the templates and prompts from the user's own data", async () => {
    const mcp = await connectAs(user());
    const other = await connectAs(user());
    await other.call("circuit_breaker_trip", { agent_id: "someone-else" });
    const goals: Goal[] = [];
    for (let i = 0; i < 12; i++) goals.push(await mcp.call("create_goal", { name: `g${i}`, description: "" }));
    const pipeline = await mcp.call("create_relay_pipeline", { name: "p", goal: "g", agent_types: ["researcher"] });
    await mcp.call("circuit_breaker_trip", { agent_id: "coder-2" });
    await mcp.call("create_task", { title: "t" });
    await mcp.call("get_next_task", { agent_id: "coder-1" });

    const complete = async (ref: { type: "ref/resource"; uri: string } | { type: "ref/prompt"; name: string }, name: string, value: string) =>
      (await mcp.client.complete({ ref, argument: { name, value } })).completion.values;

    expect(await complete({ type: "ref/resource", uri: "agent-runtime://goals/{goal_id}" }, "goal_id", "1")).toEqual(["12", "11", "10", "1"]);
    expect(await complete({ type: "ref/prompt", name: "plan_goal" }, "goal_id", "")).toEqual(goals.map((g) => String(g.id)).reverse());
    expect(await complete({ type: "ref/resource", uri: "agent-runtime://pipelines/{pipeline_id}" }, "pipeline_id", "rp_")).toEqual([pipeline.pipeline_id]);
    expect(await complete({ type: "ref/resource", uri: "agent-runtime://breakers/{agent_id}" }, "agent_id", "")).toEqual(["coder-1", "coder-2"]);
    expect(await complete({ type: "ref/prompt", name: "work_loop" }, "agent_id", "coder-2")).toEqual(["coder-2"]);
    expect(await complete({ type: "ref/prompt", name: "work_loop" }, "agent_id", "some")).toEqual([]);
  });
});

describe("editing tools", () => {
  it("declares update_goal and update_task as destructive, idempotent writes", async () => {
    const mcp = await connectAs(user());
    const { tools } = await mcp.client.listTools();
    for (const name of ["update_goal", "update_task"]) {
      const tool = tools.find((t) => t.name === name)!;
      expect(hintsOf(tool), name).toEqual({ readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false });
    }
    expect(tools.find((t) => t.name === "update_task")!.inputSchema.required).toEqual(["task_id"]);
  });

  it("edits a goal and a task, and answers refusals as `<code>: <message>` changing nothing", async () => {
    const mcp = await connectAs(user());
    const goal = await mcp.call("create_goal", { name: "g", description: "d" });
    expect(await mcp.call("update_goal", { goal_id: goal.id, name: "renamed" })).toMatchObject({ id: goal.id, name: "renamed", description: "d" });
    const a = await mcp.call("create_task", { title: "a", goal_id: goal.id });
    const b = await mcp.call("create_task", { title: "b", goal_id: goal.id, dependencies: [a.id] });
    expect(await mcp.call("update_task", { task_id: a.id, priority: 9, title: "a2" })).toMatchObject({ title: "a2", priority: 9 });
    const before = await mcp.call("list_tasks", { goal_id: goal.id });
    expect(await mcp.fail("update_task", { task_id: a.id, dependencies: [b.id] })).toBe(`conflict: dependencies: this would make a cycle (each task waits for the next): ${a.id} → ${b.id} → ${a.id}`);
    expect(await mcp.fail("update_task", { task_id: a.id, dependencies: [4242] })).toBe("not_found: dependencies: task 4242 does not exist");
    expect(await mcp.fail("update_task", { task_id: a.id, priority: 11 })).toMatch(/^invalid_argument: priority: /);
    expect(await mcp.call("list_tasks", { goal_id: goal.id })).toEqual(before);
  });
});

describe("resource links in tool results", () => {
  it("links the goal, task or pipeline that create_goal, create_task and create_relay_pipeline made", async () => {
    const mcp = await connectAs(user());
    const linkOf = async (tool: string, args: Record<string, unknown>) => {
      const result = await mcp.raw(tool, args);
      expect(result.content).toHaveLength(2);
      expect(JSON.parse(result.content[0].text!)).toEqual(result.structuredContent);
      return { value: result.structuredContent!, link: result.content[1] };
    };
    const goal = await linkOf("create_goal", { name: "g", description: "" });
    expect(goal.link).toEqual({ type: "resource_link", uri: `agent-runtime://goals/${goal.value.id}`, name: `goal ${goal.value.id}` });
    const task = await linkOf("create_task", { title: "t" });
    expect(task.link).toMatchObject({ uri: `agent-runtime://tasks/${task.value.id}` });
    const pipeline = await linkOf("create_relay_pipeline", { name: "p", goal: "g", agent_types: ["researcher"] });
    expect(pipeline.link).toMatchObject({ uri: `agent-runtime://pipelines/${pipeline.value.pipeline_id}` });
    // Each link opens what it names.
    for (const { link } of [goal, task, pipeline]) await readJson(mcp, (link as unknown as { uri: string }).uri);
  });
});
