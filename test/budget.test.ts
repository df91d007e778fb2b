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

async function toolsOf(path: string) {
  const mcp = await connectAs(`budget-${crypto.randomUUID()}`, path);
  const { tools } = await mcp.client.listTools();
  await mcp.close();
  return tools;
}

describe("tools/list fits the context budget", () => {
  it.each(Object.entries(ENDPOINTS))("%s costs at most its budget", async (path, endpoint) => {
    const tools = await toolsOf(path);
    expect(tools.length, path).toBeGreaterThan(0);
    expect(tokensOf(tools), `${path}: tokens of tools/list`).toBeLessThanOrEqual(endpoint.budget);
  });

  it("counts what a client that renders MCP Apps is sent: get_goal with the board in its _meta", async () => {
    const getGoal = (await toolsOf("/mcp")).find((tool) => tool.name === "get_goal");
    expect(getGoal?._meta).toHaveProperty("ui.resourceUri");
  });

  it(`no tool costs more than ${TOOL_BUDGET} tokens`, async () => {
    const over = (await toolsOf("/mcp")).filter((tool) => tokensOf(tool) > TOOL_BUDGET).map((tool) => `${tool.name}: ${tokensOf(tool)}`);
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
