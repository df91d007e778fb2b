/**
 * The goal board, an MCP App (SPEC §15, docs/app.md), as a host sees it over MCP: get_goal names
 * the `ui://` resource in its `_meta` (for clients that may render apps), its result stays the
 * same for everyone, and the resource is one self-contained HTML document that asks no other
 * origin for anything. The board at work in a real browser is test/browser/app.test.ts.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { describe, expect, it } from "vitest";
import { BOARD_POLICY, inlineModules } from "../src/dashboard/board";
import { escapeHtml } from "../src/dashboard/html";
import { GOAL_BOARD_URI } from "../src/mcp/uris";
import { connectAs } from "./helpers/mcp";
import { MCP_URL, tokenFor, workerFetch } from "./helpers/oauth";

const APP_MIME = "text/html;profile=mcp-app";
const UI_EXTENSION = "io.modelcontextprotocol/ui";

async function readBoard() {
  const mcp = await connectAs(`board-${crypto.randomUUID()}`);
  const { contents } = await mcp.client.readResource({ uri: GOAL_BOARD_URI });
  await mcp.close();
  expect(contents).toHaveLength(1);
  return contents[0] as { uri: string; mimeType: string; text: string; _meta?: Record<string, unknown> };
}

/** A client on the 2026-07-28 revision, which sends its capabilities with every request. */
async function modernClient(extensions?: Record<string, { mimeTypes: string[] }>) {
  const token = await tokenFor(`board-modern-${crypto.randomUUID()}`);
  const transport = new StreamableHTTPClientTransport(new URL(MCP_URL), {
    fetch: workerFetch,
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client(
    { name: "workerd-modern", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: "2026-07-28" } }, capabilities: extensions ? { extensions } : {} },
  );
  await client.connect(transport);
  expect(client.getProtocolEra()).toBe("modern");
  return client;
}

const getGoalOf = async (client: Client) => (await client.listTools()).tools.find((tool) => tool.name === "get_goal")!;

describe("get_goal names the board", () => {
  it("in _meta.ui.resourceUri, and in the older _meta key, as ext-apps' server helper lists an app tool", async () => {
    const mcp = await connectAs(`board-${crypto.randomUUID()}`);
    const listed = (await mcp.client.listTools()).tools;
    expect(listed.find((tool) => tool.name === "get_goal")?._meta).toEqual({ ui: { resourceUri: GOAL_BOARD_URI }, "ui/resourceUri": GOAL_BOARD_URI });
    // No other tool names an app, nor any other _meta.
    expect(listed.filter((tool) => tool._meta !== undefined).map((tool) => tool.name)).toEqual(["get_goal"]);
    await mcp.close();
  });

  it("answers exactly as before: the goal as structuredContent and the same JSON as the only text", async () => {
    const mcp = await connectAs(`board-${crypto.randomUUID()}`);
    const goal = await mcp.call("create_goal", { name: "Ship", description: "ship it" });
    const result = await mcp.raw("get_goal", { goal_id: goal.id });
    expect(result.isError).toBeUndefined();
    expect(result.content).toEqual([{ type: "text", text: JSON.stringify(result.structuredContent) }]);
    expect(result.structuredContent).toMatchObject({ id: goal.id, name: "Ship", status: "active" });
    await mcp.close();
  });

  it("only to a client that may render apps: one that declares its capabilities without the extension gets no _meta", async () => {
    const plain = await modernClient();
    expect((await getGoalOf(plain))._meta).toBeUndefined();
    await plain.close();

    const otherTypes = await modernClient({ [UI_EXTENSION]: { mimeTypes: ["text/uri-list"] } });
    expect((await getGoalOf(otherTypes))._meta).toBeUndefined();
    await otherTypes.close();

    const host = await modernClient({ [UI_EXTENSION]: { mimeTypes: [APP_MIME] } });
    expect((await getGoalOf(host))._meta).toEqual({ ui: { resourceUri: GOAL_BOARD_URI }, "ui/resourceUri": GOAL_BOARD_URI });
    // The host then reads the board like any resource.
    const { contents } = await host.readResource({ uri: GOAL_BOARD_URI });
    expect(contents[0]).toMatchObject({ uri: GOAL_BOARD_URI, mimeType: APP_MIME });
    await host.close();
  });
});

describe("the board resource", () => {
  it(`is ${APP_MIME}: one HTML document, asking its host for a frame and for no other origin`, async () => {
    const board = await readBoard();
    expect(board.uri).toBe(GOAL_BOARD_URI);
    expect(board.mimeType).toBe(APP_MIME);
    expect(board.text).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(board.text.trimEnd()).toMatch(/<\/html>$/);
    // No csp domains: the host's most restrictive policy applies (MCP Apps 2026-01-26).
    expect(board._meta).toEqual({ ui: { prefersBorder: true } });
  });

  it("is self-contained: no src, no link, every href and url() a fragment of the document itself", async () => {
    const { text } = await readBoard();
    // (Matches, not the text, in a failure's message: the document is 100 KB.)
    const found = (pattern: RegExp) => text.match(pattern) ?? [];
    expect(found(/\ssrc\s*=/gi)).toEqual([]);
    expect(found(/<link\b/gi)).toEqual([]);
    expect(found(/@import\b/gi)).toEqual([]);
    const hrefs = [...text.matchAll(/\shref\s*=\s*"([^"]*)"/gi)].map((m) => m[1]);
    expect(hrefs.length).toBeGreaterThan(0);
    expect(hrefs.filter((href) => !href.startsWith("#"))).toEqual([]);
    const urls = [...text.matchAll(/url\(([^)]*)\)/gi)].map((m) => m[1]);
    expect(urls.filter((url) => !url.startsWith("#"))).toEqual([]);
    // Its scripts reach nothing over the network; the host relays its tool calls.
    expect(found(/\bfetch\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon/g)).toEqual([]);
  });

  it("says so itself: a content policy that lets it load nothing, and its scripts and styles inline", async () => {
    const { text } = await readBoard();
    expect(text.includes(`<meta http-equiv="Content-Security-Policy" content="${escapeHtml(BOARD_POLICY)}">`)).toBe(true);
    expect(BOARD_POLICY).toMatch(/^default-src 'none';/);
    expect(text.match(/<script\b[^>]*>/g)).toEqual(['<script type="application/json" id="status-words">', '<script type="module">']);
    expect(text.match(/<style\b[^>]*>/g)).toEqual(["<style>"]);
    // The dashboard's drawing, not a second one: graph.js, dagre, the icon sprite and the legend.
    for (const part of ["function mountGraph(", "@dagrejs/dagre, MIT licence", '<symbol id="i-blocked"', '<ul class="legend"']) {
      expect(text.includes(part), part).toBe(true);
    }
  });

  it("is the same document on every endpoint, and costs /mcp/core nothing in tools/list", async () => {
    const token = await tokenFor(`board-${crypto.randomUUID()}`);
    const transport = new StreamableHTTPClientTransport(new URL(`${MCP_URL}/core`), {
      fetch: workerFetch,
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    const core = new Client({ name: "workerd-core", version: "1.0.0" });
    await core.connect(transport);
    const { contents } = await core.readResource({ uri: GOAL_BOARD_URI });
    expect((contents[0] as { text: string }).text).toBe((await readBoard()).text);
    expect((await core.listTools()).tools.some((tool) => tool._meta !== undefined)).toBe(false);
    await core.close();
  });
});

describe("inlining the board's modules", () => {
  it("gives each module its own scope and its imports from the modules before it", () => {
    const script = inlineModules([
      ["./a.js", "const x = 1;\nexport function twice(n) { return n * 2 * x; }\nexport const name = 'a';\n"],
      ["./b.js", 'import { twice, name as label } from "./a.js";\nconst x = 5;\nexport default x;\nexport const out = twice(x) + label;\n'],
    ]);
    expect(script).toContain('const { twice, name: label } = __modules.get("./a.js");');
    expect(script).toContain("return { twice, name };");
    expect(script).toContain("return { default: x, out };");
    expect(script).not.toMatch(/^\s*(import|export)\b/m);
  });

  it("refuses what it cannot inline, rather than shipping a board that breaks in the host", () => {
    expect(() => inlineModules([["./b.js", 'import { a } from "./a.js";\n']])).toThrow(/imports \.\/a\.js, which is not inlined before it/);
    expect(() => inlineModules([["./c.js", "export { a };\n"]])).toThrow(/import or export it cannot inline/);
    expect(() => inlineModules([["./d.js", 'import * as all from "./e.js";\n']])).toThrow(/import or export it cannot inline/);
  });
});
