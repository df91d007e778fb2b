/**
 * The one way a tool is declared: name, description, zod input and output schemas, annotations
 * and a thin handler. `registerTools` turns declarations into MCP tools with the product's result
 * and error conventions (docs/tools.md):
 *   - success: `structuredContent` plus the same JSON as text;
 *   - failure: `isError`, text `"<code>: <message>"`, no `structuredContent` (SDK v1 clients would
 *     validate it against the output schema and throw).
 * Input is validated here rather than by the SDK so that a schema failure reads
 * `invalid_argument: <field>: …` like every other error, instead of the SDK's own wording.
 * A tool may add a resource link to what its result names (`link`), report progress to a
 * client that asked for it (`ToolCall.progress`), and name an MCP App that shows its results
 * (`_meta.ui`, docs/app.md).
 *
 * Every request gets a server of its own (./http.ts), so registering must be cheap: what does not
 * depend on the request (a tool's MCP configuration, the JSON Schemas tools/list serves) is built
 * once per isolate, on first use, and reused by every server after.
 */
import type { McpUiToolMeta } from "@modelcontextprotocol/ext-apps";
import { registerAppTool } from "@modelcontextprotocol/ext-apps/server";
import type { McpServer, ServerContext, StandardSchemaWithJSON } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ErrorCode, Outcome } from "../runtime/kernel/errors";
import { describeIssues } from "../shared/zod-issues";
import { toolJsonSchema, type JsonSchema } from "./json-schema";
import type { ResourceLink } from "./uris";

export interface Annotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** A read: changes nothing, so clients may call it freely and repeat it. */
export const READ_ONLY: Annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
/** An additive write inside this server: creates or moves something, destroys nothing. */
export const WRITES: Annotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };

export interface ProgressStep {
  progress: number;
  total?: number;
  message?: string;
}

/** What a handler may use of the call it serves, besides its arguments. */
export interface ToolCall {
  /** Tells the client how far the call has got, if it asked to be told (a progress token); else does nothing. */
  progress(step: ProgressStep): Promise<void>;
}

export interface ToolDefinition<Input extends z.ZodObject, Output extends z.ZodObject, Context> {
  /** The tool's one name: no separate display title, which would only repeat it in every agent's context. */
  name: string;
  description: string;
  input: Input;
  output: Output;
  annotations: Annotations;
  run(args: z.output<Input>, context: Context, call: ToolCall): Promise<Outcome<z.input<Output>>> | Outcome<z.input<Output>>;
  /** A link to the resource the result names, added after the JSON text (only where it is worth its tokens). */
  link?(value: z.input<Output>): ResourceLink;
  /**
   * Listed with the tool (tools/list), so it costs tokens like the description. `ui`: the MCP App
   * a host that renders them shows with the tool's results (docs/app.md).
   */
  _meta?: ToolMeta;
}

export interface ToolMeta {
  ui?: McpUiToolMeta;
}

/** Erases a definition's schema types so tools of many shapes fit one list. */
export type AnyTool<Context> = ToolDefinition<z.ZodObject, z.ZodObject, Context>;

export function defineTool<Input extends z.ZodObject, Output extends z.ZodObject, Context>(
  tool: ToolDefinition<Input, Output, Context>,
): AnyTool<Context> {
  return tool as unknown as AnyTool<Context>;
}

export interface ToolResult {
  [key: string]: unknown;
  content: ({ type: "text"; text: string } | ResourceLink)[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export function errorResult(code: ErrorCode, message: string): ToolResult {
  return { content: [{ type: "text", text: `${code}: ${message}` }], isError: true };
}

export function successResult(value: Record<string, unknown>, link?: ResourceLink): ToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }, ...(link ? [link] : [])], structuredContent: value };
}

/** The call as a handler sees it: progress goes to the client only when the request carried a progress token. */
function callOf(ctx: ServerContext): ToolCall {
  const token = ctx.mcpReq._meta?.progressToken;
  return {
    async progress(step) {
      if (token === undefined) return;
      try {
        await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken: token, ...step } });
      } catch {
        // A client that stopped listening misses a progress report; the call itself goes on.
      }
    },
  };
}

/**
 * A zod schema as the SDK sees it: its JSON Schema is the lean one of ./json-schema.ts, converted
 * on first use and then shared. An input schema lets every value through, so the handler's own
 * parse (with our error wording) is the only validation; an output schema validates with zod, so a
 * result that strays from its declared shape fails loudly instead of reaching a client.
 */
function advertised(schema: z.ZodObject, io: "input" | "output", tool: string): StandardSchemaWithJSON {
  let json: JsonSchema | undefined;
  const jsonSchema = () => (json ??= toolJsonSchema(schema, io, tool)) as Record<string, unknown>;
  return {
    "~standard": {
      version: 1,
      vendor: "agent-runtime",
      validate: io === "input" ? (value: unknown) => ({ value }) : (value: unknown) => schema["~standard"].validate(value),
      jsonSchema: { input: jsonSchema, output: jsonSchema },
    },
  };
}

interface ToolConfig {
  description: string;
  inputSchema: StandardSchemaWithJSON;
  outputSchema: StandardSchemaWithJSON;
  annotations: Partial<Annotations>;
}

/** What MCP assumes of a hint a tool leaves out (the specification's defaults). */
export const HINT_DEFAULTS: Annotations = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true };

/**
 * The hints as tools/list serves them: a hint equal to MCP's default is left out (every agent pays
 * for each word of the list), and so are a read-only tool's destructive and idempotent hints,
 * which MCP reads only when a tool is not read-only. What a client understands is unchanged.
 */
export function leanHints(hints: Annotations): Partial<Annotations> {
  const lean: Partial<Annotations> = {};
  for (const key of Object.keys(HINT_DEFAULTS) as (keyof Annotations)[]) {
    if (hints.readOnlyHint && (key === "destructiveHint" || key === "idempotentHint")) continue;
    if (hints[key] !== HINT_DEFAULTS[key]) lean[key] = hints[key];
  }
  return lean;
}

/** Each tool's registration config, built once per isolate. */
const configs = new WeakMap<AnyTool<never>, ToolConfig>();

function configOf<Context>(tool: AnyTool<Context>): ToolConfig {
  const key = tool as unknown as AnyTool<never>;
  let config = configs.get(key);
  if (!config) {
    config = {
      description: tool.description,
      inputSchema: advertised(tool.input, "input", tool.name),
      outputSchema: advertised(tool.output, "output", tool.name),
      annotations: leanHints(tool.annotations),
    };
    configs.set(key, config);
  }
  return config;
}

/** The JSON Schemas of a tool exactly as tools/list serves them (for tests and benchmarks). */
export function advertisedSchemas(tool: AnyTool<unknown>): { input: JsonSchema; output: JsonSchema } {
  const { inputSchema, outputSchema } = configOf(tool);
  const options = { target: "draft-2020-12" } as const;
  return { input: inputSchema["~standard"].jsonSchema.input(options), output: outputSchema["~standard"].jsonSchema.output(options) };
}

/** What the client of the request can use; `apps`: it may render MCP Apps (./app.ts `mayRenderApps`). */
export interface ClientView {
  apps: boolean;
}

/**
 * Registers every tool. A tool naming an MCP App is registered the way ext-apps' server helper
 * does it (`registerAppTool`: `_meta.ui.resourceUri` and the older `_meta["ui/resourceUri"]`
 * both), unless the client said it renders no apps: then it is listed without them.
 */
export function registerTools<Context>(server: McpServer, tools: readonly AnyTool<Context>[], context: () => Context, client: ClientView): void {
  // The list is fixed for the life of a server and a stateless server sends no notifications:
  // advertise no list changes (the SDK's default says there are).
  server.server.registerCapabilities({ tools: { listChanged: false } });
  for (const tool of tools) {
    const config = configOf(tool);
    const handler = async (raw: unknown, ctx: ServerContext): Promise<ToolResult> => {
      const args = tool.input.safeParse(raw ?? {});
      if (!args.success) return errorResult("invalid_argument", describeIssues(args.error));
      try {
        const outcome = await tool.run(args.data, context(), callOf(ctx));
        if (!outcome.ok) return errorResult(outcome.error.code, outcome.error.message);
        return successResult(outcome.value as Record<string, unknown>, tool.link?.(outcome.value));
      } catch (error) {
        // A bug or an outage, not the caller's doing. Log the message only: never the request.
        console.error(`tool ${tool.name} failed:`, error instanceof Error ? error.message : String(error));
        return errorResult("unavailable", "the server could not complete this call; try again");
      }
    };
    const ui = client.apps ? tool._meta?.ui : undefined;
    if (ui) registerAppTool(server, tool.name, { ...config, _meta: { ui } }, handler);
    else server.registerTool(tool.name, config, handler);
  }
}
