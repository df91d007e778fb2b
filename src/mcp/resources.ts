/**
 * Resources (docs/resources-and-prompts.md): a client shows or attaches a goal, a task,
 * a pipeline, a breaker or a schedule without spending tool calls. Five URI templates, read as JSON from the
 * signed-in user's own Runtime (the user comes from the grant, as for tools); `resources/list`
 * pages through the live items (active goals, then running pipelines); the templates' ids complete
 * from the user's own data. An id that names nothing is a JSON-RPC error naming the resource.
 */
import {
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  ResourceTemplate,
  type McpServer,
  type ReadResourceResult,
  type Resource,
} from "@modelcontextprotocol/server";
import type { RuntimeApi } from "../runtime/api";
import type { CompletionKind, LiveItem } from "../runtime/catalog";
import type { Outcome } from "../runtime/kernel/errors";
import { LIMITS } from "../runtime/kernel/limits";
import type { ToolContext } from "./context";
import { JSON_MIME, resourceUri, URI_TEMPLATES, type ResourceKind } from "./uris";

/** Live items per `resources/list` page. */
export const RESOURCE_PAGE = 100;

interface TemplateSpec {
  kind: ResourceKind;
  title: string;
  description: string;
  variable: string;
  completes?: CompletionKind;
  /** The read, or null when the id cannot name anything. */
  read(runtime: RuntimeApi, id: string): Promise<Outcome<unknown>> | null;
}

const positiveInteger = (id: string): number | null => (/^[1-9]\d{0,15}$/.test(id) ? Number(id) : null);

const TEMPLATES: TemplateSpec[] = [
  {
    kind: "goal",
    title: "Goal",
    description: `A goal and its tasks (the first ${LIMITS.listMax}; task_counts has the totals).`,
    variable: "goal_id",
    completes: "goal_id",
    read: (runtime, id) => withId(positiveInteger(id), (n) => runtime.goalWithTasks(n)),
  },
  {
    kind: "task",
    title: "Task",
    description: "A task with its dependencies, lease and history.",
    variable: "task_id",
    read: (runtime, id) => withId(positiveInteger(id), (n) => runtime.getTask(n)),
  },
  {
    kind: "pipeline",
    title: "Relay pipeline",
    description: "A relay pipeline's status and steps.",
    variable: "pipeline_id",
    completes: "pipeline_id",
    read: (runtime, id) => runtime.getRelayStatus(id),
  },
  {
    kind: "breaker",
    title: "Circuit breaker",
    description: "An agent's circuit breaker (CLOSED with the defaults while it has none).",
    variable: "agent_id",
    completes: "agent_id",
    read: (runtime, id) => withId(id.length <= LIMITS.agentId ? id : null, (agent) => runtime.breakerStatus(agent)),
  },
  {
    kind: "schedule",
    title: "Schedule",
    description: "A schedule with its rule, next run, counts and newest runs.",
    variable: "schedule_id",
    completes: "schedule_id",
    read: (runtime, id) => withId(id.length <= LIMITS.leaseId ? id : null, (schedule) => runtime.getSchedule(schedule)),
  },
];

const withId = <I, T>(id: I | null, read: (id: I) => Promise<T>): Promise<T> | null => (id === null ? null : read(id));

/** The user's own ids of `kind` that start with `prefix` (at most 100); none if the read fails. */
export async function completeIds(context: () => ToolContext, kind: CompletionKind, prefix: string): Promise<string[]> {
  const outcome = await context().runtime.complete(kind, prefix);
  return outcome.ok ? outcome.value : [];
}

export function registerResources(server: McpServer, context: () => ToolContext): void {
  // Resources change as the user works, but a stateless server sends no notifications.
  server.server.registerCapabilities({ resources: { listChanged: false } });
  for (const spec of TEMPLATES) {
    const complete = spec.completes;
    server.registerResource(
      spec.kind,
      new ResourceTemplate(URI_TEMPLATES[spec.kind], {
        // resources/list is answered below, paged, for every template at once.
        list: undefined,
        complete: complete ? { [spec.variable]: (value) => completeIds(context, complete, value) } : undefined,
      }),
      { title: spec.title, description: spec.description, mimeType: JSON_MIME },
      async (uri, variables): Promise<ReadResourceResult> => {
        const raw = variables[spec.variable];
        const id = typeof raw === "string" ? decoded(raw) : null;
        const outcome = id === null ? null : await spec.read(context().runtime, id);
        if (outcome === null) throw new ResourceNotFoundError(uri.href, `Resource ${uri.href} not found: no such ${spec.kind}`);
        if (!outcome.ok) {
          if (outcome.error.code === "not_found") throw new ResourceNotFoundError(uri.href, `Resource ${uri.href} not found: ${outcome.error.message}`);
          throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Resource ${uri.href}: ${outcome.error.code}: ${outcome.error.message}`);
        }
        return { contents: [{ uri: uri.href, mimeType: JSON_MIME, text: JSON.stringify(outcome.value) }] };
      },
    );
  }
  // The SDK's own resources/list asks every template for all its resources at once; this one
  // answers a page of the live items and a cursor for the next (the templates list nothing).
  server.server.setRequestHandler("resources/list", async (request) => {
    const page = await context().runtime.listLive(request.params?.cursor, RESOURCE_PAGE);
    if (!page.ok) {
      const code = page.error.code === "invalid_argument" ? ProtocolErrorCode.InvalidParams : ProtocolErrorCode.InternalError;
      throw new ProtocolError(code, `${page.error.code}: ${page.error.message}`);
    }
    return {
      resources: page.value.items.map(listed),
      ...(page.value.next_cursor ? { nextCursor: page.value.next_cursor } : {}),
    };
  });
}

function listed(item: LiveItem): Resource {
  return {
    uri: resourceUri(item.kind, item.id),
    name: item.name,
    description: item.kind === "goal" ? `active goal ${item.id}` : `running relay pipeline ${item.id}`,
    mimeType: JSON_MIME,
  };
}

/** A template variable as the id it spells (`%2F` is `/`), or null if it is not valid percent-encoding. */
function decoded(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}
