/**
 * The product's resource URIs (docs/resources-and-prompts.md), in one place for the resource
 * templates and for the links tool results carry. Ids are percent-encoded, so an agent id with a
 * `/` or a space still names exactly one resource.
 */
export const URI_TEMPLATES = {
  goal: "agent-runtime://goals/{goal_id}",
  task: "agent-runtime://tasks/{task_id}",
  pipeline: "agent-runtime://pipelines/{pipeline_id}",
  breaker: "agent-runtime://breakers/{agent_id}",
  schedule: "agent-runtime://schedules/{schedule_id}",
} as const;

export type ResourceKind = keyof typeof URI_TEMPLATES;

const BASES: Record<ResourceKind, string> = {
  goal: "agent-runtime://goals/",
  task: "agent-runtime://tasks/",
  pipeline: "agent-runtime://pipelines/",
  breaker: "agent-runtime://breakers/",
  schedule: "agent-runtime://schedules/",
};

export const resourceUri = (kind: ResourceKind, id: string | number): string => `${BASES[kind]}${encodeURIComponent(String(id))}`;

export const JSON_MIME = "application/json";

/** The goal board, an MCP App (./app.ts, docs/app.md): the resource get_goal names in its `_meta`. */
export const GOAL_BOARD_URI = "ui://agent-runtime/goal-board";

/** A `resource_link` content block: lets a client open the thing a tool result names. */
export interface ResourceLink {
  type: "resource_link";
  uri: string;
  name: string;
}

/**
 * Named `goal 12`, `task 7`, `pipeline rp_…`, and without a mimeType (the template declares it):
 * every token of a result is paid for in the agent's context.
 */
export const resourceLink = (kind: ResourceKind, id: string | number): ResourceLink => ({
  type: "resource_link",
  uri: resourceUri(kind, id),
  name: `${kind} ${id}`,
});
