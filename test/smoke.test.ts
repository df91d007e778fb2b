import { describe, expect, it } from "vitest";
import { connectAs } from "./helpers/mcp";

describe("smoke", () => {
  it("creates and reads a goal over MCP", async () => {
    const mcp = await connectAs("smoke-user");
    const goal = await mcp.call("create_goal", { name: "g", description: "d" });
    expect(goal.status).toBe("active");
    expect(await mcp.fail("get_goal", { goal_id: 99 })).toMatch(/^not_found: /);
    expect(await mcp.fail("create_goal", { name: "", description: "d" })).toMatch(/^invalid_argument: name: /);
    const tools = await mcp.client.listTools();
    expect(tools.tools.length).toBe(10);
  });
});
