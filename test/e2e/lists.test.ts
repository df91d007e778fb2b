/**
 * List results end to end (SPEC §5 "Brief lists" and "Pagination", docs/lists.md): `wrangler dev`
 * as `npm start` runs it, the real OAuth sign-in, and both official SDK clients, which validate
 * every structuredContent against the tool's output schema once they have listed the tools. Both
 * views of every list tool pass that validation; cursors walk a list across pages and across a
 * restart of the dev server.
 */
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorize,
  callTool,
  callToolError,
  connectV1,
  connectV2,
  useDevServer,
  type V1Client,
  type V2Client,
} from "./harness";

type Item = Record<string, unknown>;
interface ListAnswer {
  count: number;
  next_cursor: string | null;
  [key: string]: unknown;
}

const LISTS: { tool: string; key: string; brief: string[]; fullOnly: string }[] = [
  { tool: "list_tasks", key: "tasks", brief: ["id", "title", "status", "priority", "blocked_by", "assigned_to"], fullOnly: "created_at" },
  { tool: "list_goals", key: "goals", brief: ["id", "name", "status", "progress"], fullOnly: "task_counts" },
  {
    tool: "list_relay_pipelines",
    key: "pipelines",
    brief: ["pipeline_id", "name", "status", "current_step", "total_steps", "tokens_used", "token_budget"],
    fullOnly: "quality_scores",
  },
  { tool: "circuit_breaker_list", key: "breakers", brief: ["agent_id", "state", "can_execute", "failure_count", "retry_after_seconds"], fullOnly: "config" },
];

const server = useDevServer();
let accessToken: string;
let v1: V1Client;
let v2: V2Client;

beforeAll(async () => {
  accessToken = (await authorize(server)).accessToken;
  v1 = await connectV1(server, accessToken);
  v2 = await connectV2(server, accessToken);
  // Listing the tools is what makes the SDK clients validate results against the output schemas.
  await v1.listTools();
  await v2.listTools();

  const goal = await callTool<{ id: number }>(v2, "create_goal", { name: "Lists", description: "end to end" });
  const first = await callTool<{ id: number }>(v2, "create_task", { title: "first", goal_id: goal.id, priority: 9 });
  await callTool(v2, "create_task", { title: "second", goal_id: goal.id, dependencies: [first.id] });
  await callTool(v2, "get_next_task", { agent_id: "agent-1" });
  await callTool(v2, "create_relay_pipeline", { name: "study", goal: "g", agent_types: ["researcher", "formatter"] });
  await callTool(v2, "circuit_breaker_trip", { agent_id: "down" });
  await callTool(v2, "circuit_breaker_record_failure", { agent_id: "flaky", failure_type: "timeout", error_message: "slow" });
});
afterAll(async () => {
  await v1?.close();
  await v2?.close();
});

describe("both views pass the SDK clients' output-schema validation", () => {
  for (const { tool, key, brief, fullOnly } of LISTS) {
    it(`${tool}: brief by default and full with view "full", for SDK v1 and v2`, async () => {
      for (const client of [v1, v2]) {
        const briefAnswer = await callTool<ListAnswer>(client, tool, {});
        const briefItems = briefAnswer[key] as Item[];
        expect(briefItems.length).toBeGreaterThan(0);
        for (const item of briefItems) expect(brief).toEqual(expect.arrayContaining(Object.keys(item)));
        expect(briefAnswer.next_cursor).toBeNull();

        const fullAnswer = await callTool<ListAnswer>(client, tool, { view: "full" });
        const fullItems = fullAnswer[key] as Item[];
        expect(fullItems).toHaveLength(briefItems.length);
        for (const item of fullItems) expect(item).toHaveProperty(fullOnly);
      }
    });
  }

  it("the advertised page schema is strict enough to catch a wrong page", async () => {
    const { tools } = await v1.listTools();
    const schema = tools.find((t) => t.name === "list_tasks")!.outputSchema!;
    const validate = new AjvJsonSchemaValidator().getValidator(schema);
    const page = (tasks: unknown, next_cursor: unknown = null) => ({ tasks, count: 1, next_cursor });
    expect(validate(page([{ id: 1, title: "t", status: "pending", priority: 5 }])).valid).toBe(true);
    expect(validate(page({ id: 1 })).valid).toBe(false); // not a list
    expect(validate(page([1])).valid).toBe(false); // an item that is not an object
    expect(validate(page([], 5)).valid).toBe(false); // a cursor that is not a string
  });
});

describe("cursors end to end", () => {
  it("walks every task page by page with either client, and a cursor still works after a restart of the dev server", async () => {
    const goal = await callTool<{ id: number }>(v2, "create_goal", { name: "Walk", description: "pages" });
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) ids.push((await callTool<{ id: number }>(v2, "create_task", { title: `w${i}`, goal_id: goal.id })).id);

    const seen: number[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const client = page++ % 2 === 0 ? v1 : v2; // clients take turns: a cursor belongs to the user, not the session
      const answer: ListAnswer = await callTool<ListAnswer>(client, "list_tasks", { goal_id: goal.id, limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...(answer.tasks as { id: number }[]).map((t) => t.id));
      cursor = answer.next_cursor;
      if (page === 1) {
        await v1.close();
        await v2.close();
        await server.restart();
        v1 = await connectV1(server, accessToken);
        v2 = await connectV2(server, accessToken);
        await v1.listTools();
        await v2.listTools();
      }
    } while (cursor !== null);
    expect(seen).toEqual(ids);
    expect(page).toBe(3);
  });

  it("refuses another list's cursor with invalid_argument", async () => {
    const { next_cursor } = await callTool<ListAnswer>(v1, "list_goals", { limit: 1 });
    expect(next_cursor).toEqual(expect.any(String));
    expect(await callToolError(v1, "list_tasks", { cursor: next_cursor })).toMatch(/^invalid_argument: cursor: /);
  });
});
