/**
 * The MCP endpoints and the tools each serves (docs/tools.md, "Endpoints"). `/mcp` serves every
 * tool; each other endpoint serves the set one kind of agent needs, so that it pays for fewer tool
 * definitions in its context (docs/tools.md). All are covered by the instance's one OAuth resource,
 * `/mcp`: a token for it works on every endpoint below it.
 *
 * A tool's membership is declared here once; a new tool is on `/mcp` by itself and on a set when
 * its name is added below. Plain data, so that the benchmark can read it outside the Worker.
 */
export interface Endpoint {
  /** The tools it serves, by name, or every tool. */
  tools: "all" | readonly string[];
  /** The most its tools/list may cost, in tokens (JSON chars / 4); the budget test enforces it. */
  budget: number;
}

export const ENDPOINTS = {
  "/mcp": { tools: "all", budget: 6_600 },
  /** A worker agent's loop: claim, heartbeat, finish; look at a task, add one. */
  "/mcp/core": { tools: ["get_next_task", "heartbeat_task", "update_task_status", "get_task", "create_task"], budget: 2_000 },
  /** Whoever plans and watches the work: goals, their decomposition, the queue, recurring work. */
  "/mcp/plan": {
    tools: [
      "create_goal",
      "decompose_goal",
      "get_goal",
      "list_goals",
      "update_goal",
      "cancel_goal",
      "create_task",
      "get_task",
      "list_tasks",
      "update_task",
      "update_task_status",
      "create_schedule",
      "list_schedules",
      "update_schedule",
    ],
    budget: 3_300,
  },
  /** Agents running in a relay pipeline, and whoever starts and watches pipelines. */
  "/mcp/relay": {
    tools: ["create_relay_pipeline", "get_relay_baton", "advance_relay", "retry_relay_step", "get_relay_status", "list_relay_pipelines"],
    budget: 2_000,
  },
  /** Whoever supervises agents' health: their circuit breakers. */
  "/mcp/breakers": {
    tools: [
      "circuit_breaker_status",
      "circuit_breaker_list",
      "circuit_breaker_record_failure",
      "circuit_breaker_record_success",
      "circuit_breaker_trip",
      "circuit_breaker_reset",
      "circuit_breaker_configure",
    ],
    budget: 2_000,
  },
} as const satisfies Record<string, Endpoint>;

export type EndpointPath = keyof typeof ENDPOINTS;

/** The most any one tool's definition may cost in tools/list, in tokens. */
export const TOOL_BUDGET = 500;

/** The endpoint a request path names, or undefined (then the request is answered 404). */
export function endpointOf(path: string): EndpointPath | undefined {
  return Object.hasOwn(ENDPOINTS, path) ? (path as EndpointPath) : undefined;
}
