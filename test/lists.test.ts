/**
 * List results (SPEC §5 "Brief lists" and "Pagination", docs/lists.md) through the real Worker and
 * MCP client, against the user's real Runtime: the brief and full views, keyset cursors that walk
 * every item exactly once, the byte bound of a page, and the size budgets of brief lists.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import { connectAs, type McpSession } from "./helpers/mcp";
import { value, withSql } from "./helpers/runtime";

interface User {
  id: string;
  mcp: McpSession;
  runtime: RuntimeApi;
}

async function user(): Promise<User> {
  const id = `lists-${crypto.randomUUID()}`;
  return { id, mcp: await connectAs(id), runtime: env.RUNTIME.getByName(id) as unknown as RuntimeApi };
}

type Item = Record<string, unknown>;

/** Every page of a list tool, following next_cursor; `between` runs after each page. */
async function walk(mcp: McpSession, tool: string, key: string, args: Record<string, unknown>, between?: (page: number) => Promise<void>) {
  const items: Item[] = [];
  let cursor: string | undefined;
  for (let page = 1; ; page++) {
    const answer = await mcp.call(tool, { ...args, ...(cursor === undefined ? {} : { cursor }) });
    expect(answer.count).toBe(answer[key].length);
    items.push(...answer[key]);
    if (answer.next_cursor === null) return { items, pages: page };
    cursor = answer.next_cursor;
    await between?.(page);
    if (page > 1_000) throw new Error("the walk does not end");
  }
}

/** Tokens as SPEC §9 counts them: characters of the JSON / 4. */
const tokens = (content: unknown) => JSON.stringify(content).length / 4;

/** Every table an agent's calls can change, to prove a refused call changed nothing. */
const snapshot = (runtime: RuntimeApi) =>
  withSql(runtime, (sql) =>
    Object.fromEntries(
      ["goals", "tasks", "task_deps", "task_events", "pipelines", "relay_steps", "batons", "breakers", "breaker_events", "runtime_keys"].map(
        (table) => [table, sql.exec(`SELECT * FROM ${table}`).toArray()],
      ),
    ),
  );

/** A task as get_task shows it, less what only get_task adds (its history, goal and inputs). */
const withoutEvents = ({ events: _events, goal: _goal, inputs: _inputs, ...task }: Item) => task;
const withoutSteps = ({ steps: _steps, ...pipeline }: Item) => pipeline;

describe("brief items by default, whole objects with view full", () => {
  it("list_tasks: id, title, status, priority, and blocked_by and assigned_to only when set", async () => {
    const { mcp } = await user();
    const goal = await mcp.call("create_goal", { name: "g", description: "d" });
    const a = await mcp.call("create_task", { title: "a", goal_id: goal.id, description: "long text", priority: 7 });
    const b = await mcp.call("create_task", { title: "b", goal_id: goal.id, dependencies: [a.id], metadata: { k: 1 } });
    const c = await mcp.call("create_task", { title: "c" });
    await mcp.call("get_next_task", { agent_id: "agent-1" }); // claims a: priority 7
    const brief = await mcp.call("list_tasks", {});
    expect(brief).toEqual({
      tasks: [
        { id: a.id, title: "a", status: "in_progress", priority: 7, assigned_to: "agent-1" },
        { id: b.id, title: "b", status: "pending", priority: 5, blocked_by: [a.id] },
        { id: c.id, title: "c", status: "pending", priority: 5 },
      ],
      count: 3,
      next_cursor: null,
    });
    const full = await mcp.call("list_tasks", { view: "full" });
    const got = await Promise.all([a, b, c].map(async (t) => withoutEvents(await mcp.call("get_task", { task_id: t.id }))));
    expect(full).toEqual({ tasks: got, count: 3, next_cursor: null });
  });

  it("list_goals: id, name, status, progress; view full equals get_goal", async () => {
    const { mcp } = await user();
    const first = await mcp.call("create_goal", { name: "first", description: "d", metadata: { team: "x" } });
    const second = await mcp.call("create_goal", { name: "second", description: "d" });
    const t = await mcp.call("create_task", { title: "t", goal_id: first.id });
    await mcp.call("create_task", { title: "u", goal_id: first.id });
    await mcp.call("update_task_status", { task_id: t.id, status: "completed" });
    expect(await mcp.call("list_goals", {})).toEqual({
      goals: [
        { id: second.id, name: "second", status: "active", progress: 0 },
        { id: first.id, name: "first", status: "active", progress: 0.5 },
      ],
      count: 2,
      next_cursor: null,
    });
    const full = await mcp.call("list_goals", { view: "full" });
    expect(full.goals).toEqual([await mcp.call("get_goal", { goal_id: second.id }), await mcp.call("get_goal", { goal_id: first.id })]);
  });

  it("list_relay_pipelines: id, name, status, step and tokens; view full equals get_relay_status without the steps", async () => {
    const { mcp } = await user();
    const p = await mcp.call("create_relay_pipeline", { name: "study", goal: "g", agent_types: ["researcher", "formatter"], token_budget: 5000 });
    await mcp.call("advance_relay", { pipeline_id: p.pipeline_id, quality_score: 0.9, l_score: 0.9, tokens_used: 120, output_summary: "x".repeat(500) });
    expect(await mcp.call("list_relay_pipelines", {})).toEqual({
      pipelines: [{ pipeline_id: p.pipeline_id, name: "study", status: "in_progress", current_step: 1, total_steps: 2, tokens_used: 120, token_budget: 5000 }],
      count: 1,
      next_cursor: null,
    });
    const full = await mcp.call("list_relay_pipelines", { view: "full" });
    expect(full.pipelines).toEqual([withoutSteps(await mcp.call("get_relay_status", { pipeline_id: p.pipeline_id }))]);
  });

  it("circuit_breaker_list: agent_id, state, can_execute, and failure_count, retry_after_seconds only when not zero", async () => {
    const { mcp } = await user();
    await mcp.call("circuit_breaker_record_failure", { agent_id: "flaky", failure_type: "timeout", error_message: "slow" });
    await mcp.call("circuit_breaker_trip", { agent_id: "down", reason: "maintenance" });
    await mcp.call("circuit_breaker_configure", { agent_id: "fine" });
    const brief = await mcp.call("circuit_breaker_list", {});
    expect(brief).toEqual({
      total_breakers: 3,
      open_circuits: ["down"],
      open_count: 1,
      half_open_circuits: [],
      half_open_count: 0,
      breakers: [
        { agent_id: "down", state: "OPEN", can_execute: false, retry_after_seconds: expect.any(Number) },
        { agent_id: "fine", state: "CLOSED", can_execute: true },
        { agent_id: "flaky", state: "CLOSED", can_execute: true, failure_count: 1 },
      ],
      count: 3,
      next_cursor: null,
    });
    expect(brief.breakers[0].retry_after_seconds).toBeGreaterThan(0);
    // Seconds left count down between two reads; everything else is the status.
    const steady = ({ retry_after_seconds: _seconds, ...rest }: Item) => rest;
    const full = await mcp.call("circuit_breaker_list", { view: "full" });
    const statuses = await Promise.all(["down", "fine", "flaky"].map((agent_id) => mcp.call("circuit_breaker_status", { agent_id })));
    expect(full.breakers.map(steady)).toEqual(statuses.map(steady));
  });

  it("advertises both views truthfully: view and cursor in, a page of objects out, brief by default", async () => {
    const { mcp } = await user();
    const { tools } = await mcp.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    // Items are declared as objects: their fields are described once, by the tool that owns the
    // shape, and the instructions say that lists answer brief items (docs/tools.md, docs/lists.md).
    const lists: [string, string][] = [
      ["list_tasks", "tasks"],
      ["list_goals", "goals"],
      ["list_relay_pipelines", "pipelines"],
      ["circuit_breaker_list", "breakers"],
    ];
    for (const [name, key] of lists) {
      const tool = byName.get(name)!;
      expect(tool.inputSchema.properties!.view, name).toMatchObject({ enum: ["brief", "full"], default: "brief" });
      expect(tool.inputSchema.properties!.cursor, name).toMatchObject({ type: "string" });
      expect(tool.description, name).toMatch(/brief items unless view is "full"/);
      const output = tool.outputSchema as { properties: Record<string, { type?: unknown; items?: { type: string }; anyOf?: unknown[] }> };
      expect(Object.keys(output.properties), name).toEqual(expect.arrayContaining([key, "count", "next_cursor"]));
      expect(output.properties[key], name).toMatchObject({ type: "array", items: { type: "object" } });
      expect(output.properties.next_cursor, name).toEqual({ anyOf: [{ type: "string" }, { type: "null" }] });
    }
  });
});

describe("cursors walk every item exactly once", () => {
  it("list_tasks in creation order: every task once, and tasks created during the walk at the end", async () => {
    const { mcp, runtime } = await user();
    const ids: number[] = [];
    for (let i = 0; i < 23; i++) ids.push(value(await runtime.createTask({ title: `t${i}` })).id);
    const { items, pages } = await walk(mcp, "list_tasks", "tasks", { limit: 5 }, async (page) => {
      if (page === 1) for (const title of ["late-1", "late-2"]) ids.push(value(await runtime.createTask({ title })).id);
    });
    expect(pages).toBe(5);
    expect(items.map((t) => t.id)).toEqual(ids);
  });

  it("newest-first lists: items created during the walk never shift a page, so every item that existed is seen exactly once", async () => {
    const { mcp, runtime } = await user();
    const goals: number[] = [];
    for (let i = 0; i < 12; i++) goals.push(value(await runtime.createGoal({ name: `g${i}`, description: "" })).id);
    const goalWalk = await walk(mcp, "list_goals", "goals", { limit: 5 }, async () => {
      await runtime.createGoal({ name: "late", description: "" });
    });
    expect(goalWalk.items.map((g) => g.id)).toEqual([...goals].reverse());

    const pipelines: string[] = [];
    const create = async (name: string) => value(await runtime.createRelayPipeline({ name, goal: "g", agent_types: ["a"] })).pipeline_id;
    for (let i = 0; i < 7; i++) pipelines.push(await create(`p${i}`));
    const pipelineWalk = await walk(mcp, "list_relay_pipelines", "pipelines", { limit: 3 }, async () => {
      await create("late");
    });
    expect(pipelineWalk.items.map((p) => p.pipeline_id)).toEqual([...pipelines].reverse());
  });

  it("circuit_breaker_list by agent_id: every breaker that existed is seen exactly once", async () => {
    const { mcp, runtime } = await user();
    const agents = Array.from({ length: 9 }, (_, i) => `agent-${i}`);
    for (const agent of agents) value(await runtime.configureBreaker(agent, {}));
    const { items } = await walk(mcp, "circuit_breaker_list", "breakers", { limit: 4 }, async (page) => {
      value(await runtime.configureBreaker(`agent-0-late-${page}`, {})); // sorts into a page already read
    });
    const seen = items.map((b) => b.agent_id);
    for (const agent of agents) expect(seen.filter((s) => s === agent), agent).toHaveLength(1);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("a filtered walk stays in its filter, and the last page answers next_cursor null", async () => {
    const { mcp, runtime } = await user();
    const goal = value(await runtime.createGoal({ name: "g", description: "" }));
    const mine: number[] = [];
    for (let i = 0; i < 8; i++) {
      mine.push(value(await runtime.createTask({ title: `in ${i}`, goal_id: goal.id })).id);
      await runtime.createTask({ title: `out ${i}` });
    }
    const { items, pages } = await walk(mcp, "list_tasks", "tasks", { goal_id: goal.id, limit: 4 });
    expect(items.map((t) => t.id)).toEqual(mine);
    // 8 tasks by 4: the second page is full and the list ends there, without an empty third page.
    expect(pages).toBe(2);
  });
});

describe("a cursor that was not issued for this list is refused", () => {
  it("refuses a tampered cursor, one of another list, another filter or another user with invalid_argument, changing nothing", async () => {
    const alice = await user();
    const bob = await user();
    for (const who of [alice, bob]) {
      for (let i = 0; i < 3; i++) value(await who.runtime.createTask({ title: `t${i}` }));
      value(await who.runtime.createGoal({ name: "g1", description: "" }));
      value(await who.runtime.createGoal({ name: "g2", description: "" }));
    }
    const cursorOf = async (who: User, tool: string, args: Record<string, unknown>) => (await who.mcp.call(tool, { limit: 1, ...args })).next_cursor as string;
    const tasksCursor = await cursorOf(alice, "list_tasks", {});
    const [payload, mac] = tasksCursor.split(".");
    const forged = `${btoa("2").replace(/=+$/, "")}.${mac}`; // another position under the old MAC
    const cases: [string, string, Record<string, unknown>][] = [
      ["a changed position", "list_tasks", { cursor: forged }],
      ["a cut MAC", "list_tasks", { cursor: `${payload}.${mac.slice(1)}` }],
      ["no MAC", "list_tasks", { cursor: payload }],
      ["not a cursor at all", "list_tasks", { cursor: "page-2" }],
      // Characters outside ASCII are longer in bytes than in characters: refused, not a crash (`unavailable`).
      ["a MAC of non-ASCII characters", "list_tasks", { cursor: `${payload}.${"é".repeat(mac.length)}` }],
      ["a position of non-ASCII characters", "list_tasks", { cursor: `ü${payload}.${mac}` }],
      ["another list's cursor", "list_goals", { cursor: tasksCursor }],
      ["another filter's cursor", "list_tasks", { status: "pending", cursor: tasksCursor }],
      ["another user's cursor", "list_tasks", { cursor: await cursorOf(bob, "list_tasks", {}) }],
    ];
    const before = await snapshot(alice.runtime);
    for (const [label, tool, args] of cases) {
      expect(await alice.mcp.fail(tool, { limit: 1, ...args }), label).toMatch(/^invalid_argument: cursor: /);
    }
    expect(await snapshot(alice.runtime)).toEqual(before);
    // The genuine cursor still works.
    expect((await alice.mcp.call("list_tasks", { limit: 1, cursor: tasksCursor })).tasks[0].title).toBe("t1");
  });

  it("the view is not part of a cursor: a walk may switch between brief and full", async () => {
    const { mcp, runtime } = await user();
    for (let i = 0; i < 3; i++) value(await runtime.createTask({ title: `t${i}` }));
    const first = await mcp.call("list_tasks", { limit: 1 });
    const second = await mcp.call("list_tasks", { limit: 1, view: "full", cursor: first.next_cursor });
    expect(second.tasks[0]).toMatchObject({ title: "t1", description: "" });
  });
});

describe("every page is bounded in bytes as well as count", () => {
  it("a full page stops before 256 KiB of items, says truncated, and its cursor continues where it stopped", async () => {
    const { mcp, runtime } = await user();
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) ids.push(value(await runtime.createTask({ title: `big ${i}`, description: "d".repeat(20_000) })).id);
    const page = await mcp.call("list_tasks", { view: "full", limit: 50 });
    expect(page.count).toBeLessThan(20);
    expect(page.truncated).toBe(true);
    expect(page.next_cursor).toEqual(expect.any(String));
    expect(new TextEncoder().encode(JSON.stringify(page.tasks)).length).toBeLessThanOrEqual(256 * 1024);
    const { items } = await walk(mcp, "list_tasks", "tasks", { view: "full", limit: 50 });
    expect(items.map((t) => t.id)).toEqual(ids);
  });

  it("a brief page stops before 64 KiB of items", async () => {
    const { mcp, runtime } = await user();
    for (let i = 0; i < 400; i++) value(await runtime.createTask({ title: `${i} ${"t".repeat(195)}` }));
    const page = await mcp.call("list_tasks", { limit: 500 });
    expect(page).toMatchObject({ truncated: true, next_cursor: expect.any(String) });
    expect(new TextEncoder().encode(JSON.stringify(page.tasks)).length).toBeLessThanOrEqual(64 * 1024);
    const { items } = await walk(mcp, "list_tasks", "tasks", { limit: 500 });
    expect(items).toHaveLength(400);
    // A page that fits says nothing about truncation.
    expect(await mcp.call("list_tasks", { limit: 10 })).not.toHaveProperty("truncated");
  });

  it("circuit_breaker_list names at most 100 OPEN breakers and counts them all", async () => {
    const { mcp, runtime } = await user();
    for (let i = 0; i < 105; i++) value(await runtime.tripBreaker(`agent-${String(i).padStart(3, "0")}`));
    const list = await mcp.call("circuit_breaker_list", { limit: 1 });
    expect(list).toMatchObject({ total_breakers: 105, open_count: 105, half_open_count: 0, count: 1 });
    expect(list.open_circuits).toHaveLength(100);
    expect(list.open_circuits[0]).toBe("agent-000");
  });
});

describe("size budgets of brief lists (JSON characters / 4 of what the client receives)", () => {
  // Typical work: titles of about 30 characters, descriptions of about 60, a plan of chains with
  // dependencies, some tasks claimed by agents and some done.
  const VERBS = ["Write", "Review", "Implement", "Test", "Document"];
  const THINGS = ["the login form", "billing export", "the search API", "user settings", "the audit log"];

  it("50 typical tasks list in at most 1,500 tokens", async () => {
    const { mcp, runtime } = await user();
    const goal = value(await runtime.createGoal({ name: "Launch the customer portal", description: "d" }));
    let previous: number | null = null;
    for (let i = 0; i < 50; i++) {
      const title = `${VERBS[i % 5]} ${THINGS[Math.floor(i / 5) % 5]} (step ${i + 1})`;
      const description = `What to do for ${title.toLowerCase()}, and how to tell it is done.`.slice(0, 60);
      const dependencies: number[] = i % 5 === 0 || previous === null ? [] : [previous];
      previous = value(await runtime.createTask({ title, description, goal_id: goal.id, priority: 1 + (i % 10), dependencies })).id;
    }
    for (let i = 0; i < 10; i++) {
      const claimed = value(await runtime.nextTask({ agent_id: `agent-${i % 4}` }));
      if (i < 6) value(await runtime.updateTaskStatus({ task_id: claimed.task!.id, status: "completed", lease_id: claimed.lease_id }));
    }
    const brief = await mcp.call("list_tasks", { limit: 50 });
    const titles = brief.tasks.map((t: { title: string }) => t.title.length);
    expect(titles.reduce((a: number, b: number) => a + b, 0) / 50).toBeGreaterThanOrEqual(28);
    expect(brief.count).toBe(50);
    expect(brief.tasks.some((t: Item) => t.blocked_by) && brief.tasks.some((t: Item) => t.assigned_to)).toBe(true);
    expect(tokens(brief)).toBeLessThanOrEqual(1_500);
  });

  it("50 typical goals list in at most 1,000 tokens", async () => {
    const { mcp, runtime } = await user();
    // Names of about 22 characters: a goal's name is its short handle (the description says the rest).
    // Each brief goal costs about 53 characters besides its name, so 50 fit while names average ≤ 26.
    const NAMES = ["Launch customer portal", "Migrate billing to Stripe", "Q3 security review", "Onboard EU sales team", "Ship search v2"];
    for (let i = 0; i < 50; i++) {
      const goal = value(await runtime.createGoal({ name: `${NAMES[i % 5]} ${i + 1}`, description: "what and why, in a sentence or two" }));
      const tasks = [];
      for (let j = 0; j < 3; j++) tasks.push(value(await runtime.createTask({ title: `t${j}`, goal_id: goal.id })).id);
      for (const id of tasks.slice(0, i % 4)) value(await runtime.updateTaskStatus({ task_id: id, status: "completed" }));
    }
    const brief = await mcp.call("list_goals", { limit: 50 });
    const names = brief.goals.map((g: { name: string }) => g.name.length);
    expect(names.reduce((a: number, b: number) => a + b, 0) / 50).toBeGreaterThanOrEqual(21);
    expect(brief.count).toBe(50);
    expect(tokens(brief)).toBeLessThanOrEqual(1_000);
  });
});
