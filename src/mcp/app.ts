/**
 * The board inside the chat (SPEC §15, docs/app.md): an MCP App (extension
 * `io.modelcontextprotocol/ui`). `get_goal` names the resource `ui://agent-runtime/goal-board`
 * in its `_meta.ui`; a host that renders apps reads it (`text/html;profile=mcp-app`, one
 * self-contained document, src/dashboard/board.ts) and shows it under the tool's result, where it
 * draws the goal's task graph and keeps it current through its own read-only tool calls. Clients
 * without the extension ignore `_meta` and get get_goal's result as always.
 *
 * The resource is served on every endpoint and left out of resources/list (hosts find it through
 * the tool, as the extension intends); reading it costs no tool-list tokens.
 */
import { getUiCapability, registerAppResource, RESOURCE_MIME_TYPE } from "@modelcontextprotocol/ext-apps/server";
import type { McpServer } from "@modelcontextprotocol/server";
import { goalBoardHtml } from "../dashboard/board";
import type { ToolMeta } from "./tool";
import { GOAL_BOARD_URI } from "./uris";

/** get_goal's `_meta`: the board that shows a goal. */
export const GOAL_BOARD_META: ToolMeta = { ui: { resourceUri: GOAL_BOARD_URI } };

/** The board asks the host for a frame of its own; it needs no other origin (no `csp` domains). */
const RESOURCE_UI = { prefersBorder: true };

export function registerGoalBoard(server: McpServer): void {
  registerAppResource(
    server,
    "Goal board",
    GOAL_BOARD_URI,
    { title: "Goal board", description: "A goal's task graph, live: the app get_goal names.", _meta: { ui: RESOURCE_UI } },
    async () => ({ contents: [{ uri: GOAL_BOARD_URI, mimeType: RESOURCE_MIME_TYPE, text: goalBoardHtml(), _meta: { ui: RESOURCE_UI } }] }),
  );
}

const CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities";

/**
 * Whether a request's client may render the board, where the SDK lets a server know. A request of
 * the 2026-07-28 revision carries its client's capabilities in `_meta`: a client that declares
 * them without the extension (or without its HTML type) renders no apps. A 2025-era request on
 * this stateless server carries none (they went with an `initialize` another server instance
 * answered), so the board is offered, as it is to anyone who declares nothing: `_meta` is
 * ignored by a client that cannot use it.
 */
export function mayRenderApps(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  for (const message of messages) {
    const meta = (message as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta;
    const capabilities = meta?.[CLIENT_CAPABILITIES];
    if (typeof capabilities !== "object" || capabilities === null) continue;
    return getUiCapability(capabilities)?.mimeTypes?.includes(RESOURCE_MIME_TYPE) ?? false;
  }
  return true;
}
