/**
 * The one way a tool is declared: name, description, zod input and output schemas, annotations
 * and a thin handler. `registerTools` turns declarations into MCP tools with the product's result
 * and error conventions (docs/tools.md):
 *   - success: `structuredContent` plus the same JSON as text;
 *   - failure: `isError`, text `"<code>: <message>"`, no `structuredContent` (SDK v1 clients would
 *     validate it against the output schema and throw).
 * Input is validated here rather than by the SDK so that a schema failure reads
 * `invalid_argument: <field>: …` like every other error, instead of the SDK's own wording.
 *
 * Every request gets a server of its own (./http.ts), so registering must be cheap: what does not
 * depend on the request (a tool's MCP configuration, the JSON Schemas tools/list serves) is built
 * once per isolate, on first use, and reused by every server after.
 */
import type { McpServer, StandardSchemaWithJSON } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ErrorCode, Outcome } from "../runtime/kernel/errors";
import { describeIssues } from "../shared/zod-issues";
import { toolJsonSchema, type JsonSchema } from "./json-schema";

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

export interface ToolDefinition<Input extends z.ZodObject, Output extends z.ZodObject, Context> {
  name: string;
  title: string;
  description: string;
  input: Input;
  output: Output;
  annotations: Annotations;
  run(args: z.output<Input>, context: Context): Promise<Outcome<z.input<Output>>> | Outcome<z.input<Output>>;
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
  content: { type: "text"; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export function errorResult(code: ErrorCode, message: string): ToolResult {
  return { content: [{ type: "text", text: `${code}: ${message}` }], isError: true };
}

export function successResult(value: Record<string, unknown>): ToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
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
  title: string;
  description: string;
  inputSchema: StandardSchemaWithJSON;
  outputSchema: StandardSchemaWithJSON;
  annotations: Annotations;
}

/** Each tool's registration config, built once per isolate. */
const configs = new WeakMap<AnyTool<never>, ToolConfig>();

function configOf<Context>(tool: AnyTool<Context>): ToolConfig {
  const key = tool as unknown as AnyTool<never>;
  let config = configs.get(key);
  if (!config) {
    config = {
      title: tool.title,
      description: tool.description,
      inputSchema: advertised(tool.input, "input", tool.name),
      outputSchema: advertised(tool.output, "output", tool.name),
      // The title is the tool's own `title`; annotations carry only the hints.
      annotations: tool.annotations,
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

export function registerTools<Context>(server: McpServer, tools: readonly AnyTool<Context>[], context: () => Context): void {
  for (const tool of tools) {
    server.registerTool(tool.name, configOf(tool), async (raw: unknown) => {
      const args = tool.input.safeParse(raw ?? {});
      if (!args.success) return errorResult("invalid_argument", describeIssues(args.error));
      try {
        const outcome = await tool.run(args.data, context());
        if (!outcome.ok) return errorResult(outcome.error.code, outcome.error.message);
        return successResult(outcome.value as Record<string, unknown>);
      } catch (error) {
        // A bug or an outage, not the caller's doing. Log the message only: never the request.
        console.error(`tool ${tool.name} failed:`, error instanceof Error ? error.message : String(error));
        return errorResult("unavailable", "the server could not complete this call; try again");
      }
    });
  }
}
