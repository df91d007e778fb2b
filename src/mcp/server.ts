/**
 * The MCP server and its endpoints. Every request gets a server of its own (stateless, ./http.ts),
 * so this must stay cheap: tool definitions are module constants, their MCP configuration and JSON
 * Schemas are built once per isolate (./tool.ts), and only registration happens per request.
 */
import { McpServer } from "@modelcontextprotocol/server";
import { env } from "cloudflare:workers";
import { registerGoalBoard } from "./app";
import { callerOfRequest, clientMayRenderApps, runtimeOfRequest, type ToolContext } from "./context";
import { endpointOf, ENDPOINTS, type EndpointPath } from "./endpoints";
import { endpointHandler, notFound } from "./http";
import { registerPrompts } from "./prompts";
import { registerResources } from "./resources";
import { registerTools, type AnyTool } from "./tool";
import { breakerTools } from "./tools/breakers";
import { goalTools } from "./tools/goals";
import { relayTools } from "./tools/relay";
import { scheduleTools } from "./tools/schedules";
import { taskTools } from "./tools/tasks";

/** Every tool, in the order `/mcp` lists them. */
export const TOOLS: readonly AnyTool<ToolContext>[] = [...goalTools, ...taskTools, ...scheduleTools, ...relayTools, ...breakerTools];

/**
 * What every agent needs to know once, instead of in every tool's description: the work loop and
 * the shared vocabulary (the long form is docs/tools.md).
 */
export const INSTRUCTIONS = [
  "Agent Runtime keeps goals, task queues, relay pipelines and circuit breakers for agents; everything persists across sessions.",
  "Work loop: get_next_task {agent_id, roles?} claims, under a lease, the ready task of highest priority (oldest first) among tasks without a role and tasks of your roles; it comes with goal {id, name, description} and inputs [{task_id, title, status, result?, error?, truncated?}], one per dependency (texts cut; get_task of that dependency has them whole).",
  "Ready: pending, its run_when holds (all_completed by default; any_completed; any_failed; all_finished: every dependency completed, failed or cancelled), not_before passed. A task whose rule can never hold is cancelled with error \"skipped: …\".",
  'Role "owner" is a decision for the human owner, approved or rejected on the dashboard: no agent takes, moves or edits it. To ask for approval, create one and make the work depend on it.',
  "Call heartbeat_task {task_id, lease_id} before lease_expires_at; finish with update_task_status {task_id, status: completed|failed, lease_id}.",
  "With retry_backoff_seconds, a failed attempt (reported, or a lease running out) returns to pending not before min(retry_backoff_max_seconds (default 3600), base × 2^(attempt−1)) ±10 %, until max_attempts; retryable: false stops that.",
  "A lost lease is refused with conflict: stop work on that task. A task's progress note is where an earlier attempt stopped: resume from there.",
  "task null comes with a reason (no_pending_tasks, all_pending_tasks_blocked, no_task_for_roles with ready_by_role, goal_cancelled, circuit_open) and next_ready_at when a task becomes ready by time. circuit_open: wait retry_after_seconds or hand the work to fallback_agent. probe_expires_at means the claim is a probe of your HALF_OPEN breaker: report it with circuit_breaker_record_success or circuit_breaker_record_failure.",
  "Relay: get_relay_baton, do the step its prompt describes, advance_relay with the baton_id; on quality_gate_failed, retry_relay_step.",
  "Statuses: task pending|in_progress|completed|failed|cancelled (completed, cancelled final); goal active|completed|cancelled; breaker CLOSED|OPEN|HALF_OPEN; schedule active|paused|ended (final).",
  'Errors: isError, text "<code>: <message>", codes invalid_argument, not_found, conflict, failed_precondition, resource_exhausted, unavailable; a failed call changes nothing.',
  "Times are ISO 8601 UTC. Limits: names 200 chars on one line (roles 64), texts 20,000, metadata 16 KiB of JSON (16 levels deep), 100 dependencies, list limit 1..500 (default 50). Unknown arguments are refused.",
  'Lists answer brief items: view "full" for every field; pass next_cursor back as cursor for the next page (null at the end).',
  "get_next_task and get_relay_baton {step_index} take wait_seconds (up to 30): the call waits until work or your turn comes instead of polling.",
  "A task, goal, baton, pipeline or breaker nested in a result has the fields get_task, get_goal, get_relay_baton, get_relay_status or circuit_breaker_status list.",
  "Signed in with an agent key, you act as its agent only: get_next_task without agent_id claims for it, naming another agent_id is refused, and a task another agent holds moves only with its lease_id.",
  "A schedule makes one task (with its schedule_id) per due time, none while its last is unfinished unless overlap is allow; its fields are those of agent-runtime://schedules/{schedule_id}.",
].join("\n");

/** The tools of each endpoint, resolved once; a set naming an unknown tool stops the Worker at start. */
const TOOLS_OF = new Map<EndpointPath, readonly AnyTool<ToolContext>[]>(
  Object.entries(ENDPOINTS).map(([path, endpoint]) => {
    if (endpoint.tools === "all") return [path as EndpointPath, TOOLS];
    const tools = endpoint.tools.map((name: string) => {
      const tool = TOOLS.find((t) => t.name === name);
      if (!tool) throw new Error(`endpoint ${path} names an unknown tool: ${name}`);
      return tool;
    });
    return [path as EndpointPath, tools];
  }),
);

export function createServer(endpoint: EndpointPath = "/mcp"): McpServer {
  const server = new McpServer({ name: "agent-runtime", version: "0.1.0" }, { instructions: INSTRUCTIONS });
  const context = (): ToolContext => ({ env, runtime: runtimeOfRequest(env), caller: callerOfRequest() });
  registerTools(server, TOOLS_OF.get(endpoint)!, context, { apps: clientMayRenderApps() });
  // Resources, prompts and completions on every endpoint: they cost no tool-list tokens.
  registerGoalBoard(server);
  registerResources(server, context);
  registerPrompts(server, context);
  return server;
}

const handlers = new Map([...TOOLS_OF.keys()].map((path) => [path, endpointHandler(path, () => createServer(path))] as const));

/**
 * The OAuth provider's API handler: `/mcp` and each endpoint below it, chosen by path. The provider
 * has already checked the token (one resource, `/mcp`, covers the paths below it).
 */
export const mcpApiHandler = {
  fetch(request: Request, env: Cloudflare.Env, ctx: ExecutionContext): Promise<Response> {
    const endpoint = endpointOf(new URL(request.url).pathname);
    if (endpoint === undefined) return notFound(request, env, ctx);
    return handlers.get(endpoint)!(request, env, ctx);
  },
};
