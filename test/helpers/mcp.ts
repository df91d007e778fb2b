/**
 * A real MCP client (SDK v2) talking to the Worker inside workerd, authenticated as a user.
 * `call` returns the parsed result; `expectError` the error text.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { expect } from "vitest";
import { HINT_DEFAULTS } from "../../src/mcp/tool";
import { MCP_URL, tokenFor, workerFetch } from "./oauth";

export interface ToolCallResult {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content: { type: string; text?: string }[];
}

export interface McpSession {
  client: Client;
  /** Calls a tool and returns its structuredContent; fails the test on an error result. */
  call<T = any>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** Calls a tool that must fail and returns the error text (`"<code>: <message>"`). */
  fail(name: string, args?: Record<string, unknown>): Promise<string>;
  raw(name: string, args?: Record<string, unknown>): Promise<ToolCallResult>;
  close(): Promise<void>;
}

/** `path`: another endpoint than `/mcp`, e.g. `/mcp/core`. */
export async function connectAs(userId: string, path = "/mcp"): Promise<McpSession> {
  return connectWith(await tokenFor(userId), path);
}

/** A session with any bearer: an OAuth access token or an agent key. */
export async function connectWith(token: string, path = "/mcp"): Promise<McpSession> {
  const transport = new StreamableHTTPClientTransport(new URL(path, MCP_URL), {
    fetch: workerFetch,
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: "workerd-test", version: "1.0.0" });
  await client.connect(transport);
  const raw = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as unknown as ToolCallResult;
  return {
    client,
    raw,
    async call(name, args) {
      const result = await raw(name, args);
      if (result.isError) throw new Error(`${name} failed: ${result.content[0]?.text}`);
      expect(JSON.parse(result.content[0].text!)).toEqual(result.structuredContent);
      return result.structuredContent as any;
    },
    async fail(name, args) {
      const result = await raw(name, args);
      expect(result.isError, `${name} should fail`).toBe(true);
      expect(result.structuredContent).toBeUndefined();
      return result.content[0].text!;
    },
    close: () => client.close(),
  };
}

/**
 * A tool's hints as a client reads them: MCP's defaults for those it leaves out, and for a
 * read-only tool, not destructive and idempotent (a read changes nothing).
 */
export function hintsOf(tool: { annotations?: Record<string, unknown> }): Record<"readOnlyHint" | "destructiveHint" | "idempotentHint" | "openWorldHint", boolean> {
  const hints = { ...HINT_DEFAULTS, ...(tool.annotations ?? {}) } as Record<"readOnlyHint" | "destructiveHint" | "idempotentHint" | "openWorldHint", boolean>;
  return hints.readOnlyHint ? { ...hints, destructiveHint: false, idempotentHint: true } : hints;
}
