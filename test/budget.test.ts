/**
 * The context budget of SPEC §9: what tools/list costs an agent, in tokens (the JSON of the
 * `tools` array, characters / 4), on every endpoint the server declares and for every tool it
 * serves. A size check, not a timing: it fails the moment a description, schema or new tool
 * grows past its budget (src/mcp/endpoints.ts).
 */
import { describe, expect, it } from "vitest";
import { ENDPOINTS, TOOL_BUDGET } from "../src/mcp/endpoints";
import { connectAs } from "./helpers/mcp";

const tokensOf = (value: unknown) => JSON.stringify(value).length / 4;

/**
 * The budgets as SPEC §9 and docs/tools.md state them, written here rather than read from
 * src/mcp/endpoints.ts: a budget raised there beyond what is stated here fails. An endpoint
 * declared in src must be stated here too.
 */
const STATED_BUDGETS: Record<string, number> = {
  "/mcp": 6_600,
  "/mcp/core": 2_000,
  // Goals, decomposition, the queue, editing and schedules: 14 tools.
  "/mcp/plan": 3_300,
  "/mcp/relay": 2_000,
  "/mcp/breakers": 2_000,
};
/** The most any one tool's definition may cost: get_task, which describes the task every tool returns, is the largest. */
const STATED_TOOL_BUDGET = 500;

async function toolsOf(path: string) {
  const mcp = await connectAs(`budget-${crypto.randomUUID()}`, path);
  const { tools } = await mcp.client.listTools();
  await mcp.close();
  return tools;
}

describe("tools/list fits the context budget", () => {
  it("states a budget for every endpoint, and src declares none above it", () => {
    expect(Object.keys(ENDPOINTS).sort()).toEqual(Object.keys(STATED_BUDGETS).sort());
    for (const [path, endpoint] of Object.entries(ENDPOINTS)) expect(endpoint.budget, path).toBeLessThanOrEqual(STATED_BUDGETS[path]);
    expect(TOOL_BUDGET).toBeLessThanOrEqual(STATED_TOOL_BUDGET);
  });

  it("counts what a client that renders MCP Apps is sent: get_goal with the board in its _meta", async () => {
    const getGoal = (await toolsOf("/mcp")).find((tool) => tool.name === "get_goal");
    expect(getGoal?._meta).toHaveProperty("ui.resourceUri");
  });

  it.each(Object.keys(STATED_BUDGETS))("%s costs at most its budget", async (path) => {
    const tools = await toolsOf(path);
    expect(tools.length, path).toBeGreaterThan(0);
    const budget = Math.min(STATED_BUDGETS[path], ENDPOINTS[path as keyof typeof ENDPOINTS].budget);
    expect(tokensOf(tools), `${path}: tokens of tools/list`).toBeLessThanOrEqual(budget);
  });

  it(`no tool costs more than ${STATED_TOOL_BUDGET} tokens`, async () => {
    const over = (await toolsOf("/mcp")).filter((tool) => tokensOf(tool) > Math.min(TOOL_BUDGET, STATED_TOOL_BUDGET)).map((tool) => `${tool.name}: ${tokensOf(tool)}`);
    expect(over).toEqual([]);
  });

  it("/mcp serves every tool of every endpoint, and each other endpoint exactly its declared set", async () => {
    const every = (await toolsOf("/mcp")).map((tool) => tool.name);
    for (const [path, endpoint] of Object.entries(ENDPOINTS)) {
      if (endpoint.tools === "all") continue;
      expect(every, `${path} names only tools that exist`).toEqual(expect.arrayContaining([...endpoint.tools]));
      expect((await toolsOf(path)).map((tool) => tool.name).sort(), path).toEqual([...endpoint.tools].sort());
    }
  });
});
