/**
 * The MCP server factory. `createMcpHandler` builds one server per request (stateless), so this
 * must stay cheap: tool definitions are module constants and only registration happens here.
 */
import { McpServer } from "@modelcontextprotocol/server";
import { env } from "cloudflare:workers";
import { runtimeOf } from "../runtime/api";
import { userIdOfRequest, type ToolContext } from "./context";
import { registerPrompts } from "./prompts";
import { registerResources } from "./resources";
import { registerTools, type AnyTool } from "./tool";
import { breakerTools } from "./tools/breakers";
import { goalTools } from "./tools/goals";
import { relayTools } from "./tools/relay";
import { taskTools } from "./tools/tasks";

const TOOLS: AnyTool<ToolContext>[] = [...goalTools, ...taskTools, ...relayTools, ...breakerTools];

export function createServer(): McpServer {
  const server = new McpServer(
    { name: "agent-runtime", version: "0.1.0" },
    {
      instructions:
        "Persistent goals, dependency-aware task queues, relay pipelines and circuit breakers for agents. " +
        "Work loop: get_next_task with your agent_id claims the next ready task; finish it with update_task_status.",
    },
  );
  const context = (): ToolContext => ({ env, runtime: runtimeOf(env, userIdOfRequest()) });
  registerTools(server, TOOLS, context);
  registerResources(server, context);
  registerPrompts(server, context);
  return server;
}
