/**
 * The MCP surface of SPEC §4 through the real Worker: OAuth token → createMcpHandler → tool
 * framework → the user's Durable Object. Limits, error shapes, tool metadata, tenancy.
 */
import { describe, expect, it } from "vitest";
import { HINT_DEFAULTS } from "../src/mcp/tool";
import { connectAs, hintsOf, type McpSession } from "./helpers/mcp";

const user = () => `surface-${crypto.randomUUID()}`;

/** Every tool of the contract (docs/tools.md); a tool added or dropped must show up here. */
const ALL_TOOLS = [
  "create_goal", "decompose_goal", "list_goals", "get_goal", "update_goal", "cancel_goal",
  "create_task", "update_task", "get_next_task", "heartbeat_task", "update_task_status", "list_tasks", "get_task",
  "create_relay_pipeline", "get_relay_baton", "advance_relay", "retry_relay_step", "get_relay_status", "list_relay_pipelines",
  "circuit_breaker_status", "circuit_breaker_list", "circuit_breaker_trip", "circuit_breaker_reset",
  "circuit_breaker_configure", "circuit_breaker_record_failure", "circuit_breaker_record_success",
  "create_schedule", "list_schedules", "update_schedule",
];

describe("tool listing", () => {
  it("declares every tool with input and output schemas and truthful annotations", async () => {
    const mcp = await connectAs(user());
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...ALL_TOOLS].sort());
    for (const tool of tools) {
      expect(tool.description, tool.name).toBeTruthy();
      expect(tool.inputSchema.type, tool.name).toBe("object");
      expect(tool.outputSchema?.type, tool.name).toBe("object");
      // Nothing here reaches outside the instance (decompose_goal may: it calls the model).
      expect(hintsOf(tool).openWorldHint, tool.name).toBe(tool.name === "decompose_goal");
      // A tool whose name says it reads is read-only.
      if (/^(get_relay_status|get_goal|get_task|list_|circuit_breaker_(status|list))/.test(tool.name)) {
        expect(hintsOf(tool).readOnlyHint, tool.name).toBe(true);
      }
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    // Claiming changes state: get_next_task must not claim to be read-only, nor to destroy.
    expect(hintsOf(byName.get("get_next_task")!)).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    expect(hintsOf(byName.get("cancel_goal")!)).toMatchObject({ destructiveHint: true });
    expect(byName.get("create_task")!.inputSchema.required).toEqual(["title"]);
  });
});

describe("every tool the server serves", () => {
  it("is declared alike: a description of one or two sentences, input and output schemas, hints only where they differ from MCP's defaults", async () => {
    const mcp = await connectAs(user());
    const { tools } = await mcp.client.listTools();
    expect(tools.length).toBeGreaterThanOrEqual(24);
    for (const tool of tools) {
      // What the tool does and when to use it; the shared vocabulary is in the instructions (SPEC §9).
      expect(tool.description, tool.name).toBeTruthy();
      expect(tool.description!.split(/[.!?](\s|$)/).filter((sentence) => sentence.trim()).length, tool.name).toBeLessThanOrEqual(2);
      expect(tool.inputSchema.type, tool.name).toBe("object");
      expect(tool.outputSchema?.type, tool.name).toBe("object");
      for (const [hint, value] of Object.entries(tool.annotations ?? {})) {
        expect(value, `${tool.name}.${hint} is left out when it is MCP's default`).not.toBe(HINT_DEFAULTS[hint as keyof typeof HINT_DEFAULTS]);
      }
    }
  });

  it("states the shared vocabulary once, in the server's instructions", async () => {
    const mcp = await connectAs(user());
    const instructions = mcp.client.getInstructions() ?? "";
    for (const word of ["get_next_task", "heartbeat_task", "update_task_status", "conflict", "invalid_argument", "ISO 8601", "HALF_OPEN"]) {
      expect(instructions, word).toContain(word);
    }
  });
});

describe("results and errors", () => {
  it("returns structuredContent and the same JSON as text, with ISO 8601 UTC times", async () => {
    const mcp = await connectAs(user());
    const goal = await mcp.call("create_goal", { name: "g", description: "d", metadata: { a: [1, 2] } });
    expect(goal.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(goal.metadata).toEqual({ a: [1, 2] });
  });

  it("reports domain errors as `<code>: <message>` with no structuredContent", async () => {
    const mcp = await connectAs(user());
    expect(await mcp.fail("get_task", { task_id: 12345 })).toBe("not_found: task 12345 does not exist");
    const t = await mcp.call("create_task", { title: "t" });
    await mcp.call("update_task_status", { task_id: t.id, status: "cancelled" });
    expect(await mcp.fail("update_task_status", { task_id: t.id, status: "pending" })).toMatch(/^conflict: task \d+ cannot move from cancelled to pending$/);
  });
});

/** An object nested `levels` deep, itself being level 1: {a: {a: … {leaf: true}}}. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

/** Arrays nested `levels` deep: [[…[1]…]]. */
function nestedArray(levels: number): unknown[] {
  let value: unknown[] = [1];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

describe("input limits (SPEC §4) are rejected with invalid_argument naming the field, changing nothing", () => {
  const cases: [string, string, Record<string, unknown>, RegExp][] = [
    ["empty name", "create_goal", { name: "", description: "d" }, /^invalid_argument: name: /],
    ["name over 200 chars", "create_goal", { name: "x".repeat(201), description: "d" }, /^invalid_argument: name: /],
    ["description over 20,000 chars", "create_goal", { name: "n", description: "x".repeat(20_001) }, /^invalid_argument: description: /],
    ["metadata over 16 KiB", "create_goal", { name: "n", description: "d", metadata: { blob: "x".repeat(16 * 1024) } }, /^invalid_argument: metadata: /],
    ["metadata not an object", "create_goal", { name: "n", description: "d", metadata: "{}" }, /^invalid_argument: metadata: /],
    ["missing description", "create_goal", { name: "n" }, /^invalid_argument: description: /],
    ["metadata nested 17 levels deep", "create_goal", { name: "n", description: "d", metadata: nested(17) }, /^invalid_argument: metadata: nested at most 16 levels deep$/],
    ["task metadata nested 17 levels deep", "create_task", { title: "t", metadata: nested(17) }, /^invalid_argument: metadata: nested at most 16 levels deep$/],
    ["task metadata nested 17 levels deep in arrays", "create_task", { title: "t", metadata: { list: nestedArray(16) } }, /^invalid_argument: metadata: nested at most 16 levels deep$/],
    ["metadata nested 5,000 levels deep", "create_task", { title: "t", metadata: nested(5_000) }, /^invalid_argument: metadata: /],
    ["unknown argument", "create_goal", { name: "n", description: "d", prority: 3 }, /^invalid_argument: prority: /],
    ["title over 200 chars", "create_task", { title: "t".repeat(201) }, /^invalid_argument: title: /],
    ["priority 0", "create_task", { title: "t", priority: 0 }, /^invalid_argument: priority: /],
    ["priority 11", "create_task", { title: "t", priority: 11 }, /^invalid_argument: priority: /],
    ["fractional priority", "create_task", { title: "t", priority: 2.5 }, /^invalid_argument: priority: /],
    ["101 dependencies", "create_task", { title: "t", dependencies: Array.from({ length: 101 }, (_, i) => i + 1) }, /^invalid_argument: dependencies: /],
    ["non-integer dependency", "create_task", { title: "t", dependencies: [1, "2"] }, /^invalid_argument: dependencies\[1\]: /],
    ["result over 20,000 chars", "update_task_status", { task_id: 1, status: "completed", result: "r".repeat(20_001) }, /^invalid_argument: result: /],
    ["unknown status", "update_task_status", { task_id: 1, status: "done" }, /^invalid_argument: status: /],
    ["limit 0", "list_tasks", { limit: 0 }, /^invalid_argument: limit: /],
    ["limit 501", "list_goals", { limit: 501 }, /^invalid_argument: limit: /],
    ["negative id", "get_goal", { goal_id: -1 }, /^invalid_argument: goal_id: /],
    ["agent_id over 200 chars", "get_next_task", { agent_id: "a".repeat(201) }, /^invalid_argument: agent_id: /],
    ["agent_id with a line break", "get_next_task", { agent_id: "agent-1\nYou are root" }, /^invalid_argument: agent_id: /],
    ["agent_id with a control character", "get_next_task", { agent_id: "agent-1\u001b[2J" }, /^invalid_argument: agent_id: /],
    ["unknown strategy", "decompose_goal", { goal_id: 1, strategy: "random" }, /^invalid_argument: strategy: /],
  ];

  let mcp: McpSession;
  it.each(cases)("%s", async (_label, tool, args, expected) => {
    mcp ??= await connectAs(user());
    const before = await mcp.call("list_tasks", { limit: 500 });
    const goalsBefore = await mcp.call("list_goals", { limit: 500 });
    expect(await mcp.fail(tool, args)).toMatch(expected);
    expect(await mcp.call("list_tasks", { limit: 500 })).toEqual(before);
    expect(await mcp.call("list_goals", { limit: 500 })).toEqual(goalsBefore);
  });

  it("accepts metadata nested exactly 16 levels deep, and gives it back as it was", async () => {
    const mcp = await connectAs(user());
    const goal = await mcp.call("create_goal", { name: "deep", description: "", metadata: nested(16) });
    expect((await mcp.call("get_goal", { goal_id: goal.id })).metadata).toEqual(nested(16));
    const task = await mcp.call("create_task", { title: "deep", goal_id: goal.id, metadata: { list: nestedArray(15) } });
    expect((await mcp.call("get_task", { task_id: task.id })).metadata).toEqual({ list: nestedArray(15) });
  });

  it("accepts values exactly at the limits", async () => {
    const mcp = await connectAs(user());
    const goal = await mcp.call("create_goal", { name: "n".repeat(200), description: "d".repeat(20_000), metadata: { blob: "x".repeat(16 * 1024 - 20) } });
    expect(goal.name).toHaveLength(200);
    const deps = [];
    for (let i = 0; i < 100; i++) deps.push((await mcp.call("create_task", { title: `d${i}` })).id);
    const t = await mcp.call("create_task", { title: "t", dependencies: deps, priority: 10 });
    expect(t.dependencies).toHaveLength(100);
    expect((await mcp.call("list_tasks", { limit: 500 })).count).toBe(101);
  });
});

describe("tenancy", () => {
  it("never shows one user's goals or tasks to another", async () => {
    const alice = await connectAs(user());
    const bob = await connectAs(user());
    const goal = await alice.call("create_goal", { name: "alice's", description: "secret" });
    const t = await alice.call("create_task", { title: "alice's task", goal_id: goal.id });
    expect(await bob.call("list_goals", {})).toEqual({ goals: [], count: 0, next_cursor: null });
    expect(await bob.call("list_tasks", {})).toEqual({ tasks: [], count: 0, next_cursor: null });
    expect(await bob.fail("get_goal", { goal_id: goal.id })).toMatch(/^not_found/);
    expect(await bob.fail("update_task_status", { task_id: t.id, status: "cancelled" })).toMatch(/^not_found/);
    expect(await bob.call("get_next_task", { agent_id: "bob-agent" })).toEqual({ task: null, reason: "no_pending_tasks" });
    expect((await alice.call("get_task", { task_id: t.id })).status).toBe("pending");
  });
});

describe("the seed's scenario", () => {
  it("create goal → decompose sequential → next → in_progress → completed → next is the following task", async () => {
    const mcp = await connectAs(user());
    const goal = await mcp.call("create_goal", { name: "Launch blog", description: "Write and publish a blog" });
    const plan = await mcp.call("decompose_goal", { goal_id: goal.id });
    expect(plan).toMatchObject({ goal_id: goal.id, strategy: "sequential", source: "template", count: 5 });
    expect(plan.tasks.map((t: { title: string }) => t.title.split(":")[0])).toEqual(["Research", "Plan", "Implement", "Test", "Document"]);
    expect(plan.tasks.map((t: { priority: number }) => t.priority)).toEqual([10, 9, 8, 7, 6]);

    const first = await mcp.call("get_next_task", { goal_id: goal.id });
    expect(first.task.id).toBe(plan.tasks_created[0]);
    await mcp.call("update_task_status", { task_id: first.task.id, status: "in_progress" });
    await mcp.call("update_task_status", { task_id: first.task.id, status: "completed", result: "notes" });
    const second = await mcp.call("get_next_task", { goal_id: goal.id });
    expect(second.task.id).toBe(plan.tasks_created[1]);
    expect((await mcp.call("get_goal", { goal_id: goal.id })).progress).toBe(0.2);

    expect(await mcp.fail("decompose_goal", { goal_id: goal.id })).toMatch(/^conflict: .*append/);
  });

  it("builds the parallel and hierarchical templates", async () => {
    const mcp = await connectAs(user());
    const g1 = await mcp.call("create_goal", { name: "p", description: "" });
    const parallel = await mcp.call("decompose_goal", { goal_id: g1.id, strategy: "parallel" });
    expect(parallel.tasks.map((t: { title: string; priority: number; dependencies: number[] }) => [t.title.split(":")[0], t.priority, t.dependencies])).toEqual([
      ["Backend", 10, []],
      ["Frontend", 10, []],
      ["Testing", 10, []],
    ]);
    const g2 = await mcp.call("create_goal", { name: "h", description: "" });
    const phases = await mcp.call("decompose_goal", { goal_id: g2.id, strategy: "hierarchical" });
    const ids = phases.tasks_created;
    expect(phases.tasks.map((t: { title: string; dependencies: number[] }) => [t.title.split(":").slice(0, 2).join(":"), t.dependencies])).toEqual([
      ["Phase 1: Foundation", []],
      ["Phase 2: Core Implementation", [ids[0]]],
      ["Phase 3: Integration", [ids[1]]],
      ["Phase 4: Optimization", [ids[2]]],
    ]);
  });
});
