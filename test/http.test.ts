/**
 * The MCP endpoint over HTTP (src/mcp/http.ts): 2025-era requests, what the SDK clients send by
 * default, are answered as one JSON body, behind the same DNS-rebinding checks as the 2026 lane;
 * what is not a JSON-RPC POST is answered as createMcpHandler answers it.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ORIGIN, tokenFor, workerFetch } from "./helpers/oauth";

const LEGACY = { "Content-Type": "application/json", Accept: "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25" };

async function post(body: unknown, headers: Record<string, string> = {}, path = "/mcp") {
  const token = await tokenFor(`http-${crypto.randomUUID()}`);
  const init = { method: "POST", headers: { Authorization: `Bearer ${token}`, ...LEGACY, ...headers }, body: JSON.stringify(body) };
  // workerFetch sets Host from the URL; a test of the Host check sends its own.
  return headers.Host ? exports.default.fetch(new Request(`${ORIGIN}${path}`, init)) : workerFetch(`${ORIGIN}${path}`, init);
}

describe("2025-era requests", () => {
  it("are answered as one JSON body, batches included", async () => {
    const response = await post([
      { jsonrpc: "2.0", id: 1, method: "ping" },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "get_task", arguments: { task_id: 1 } } },
    ]);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    const [ping, call] = (await response.json()) as [{ id: number; result: object }, { id: number; result: { isError: boolean; content: { text: string }[] } }];
    expect(ping).toMatchObject({ id: 1, result: {} });
    expect(call.result.isError).toBe(true);
    expect(call.result.content[0].text).toBe("not_found: task 1 does not exist");
  });

  it("accepts a notification with 202 and no body", async () => {
    const response = await post({ jsonrpc: "2.0", method: "notifications/initialized" });
    expect(response.status).toBe(202);
    expect(await response.text()).toBe("");
  });

  it("refuses a browser page of another origin with 403, before any tool runs (DNS rebinding)", async () => {
    const response = await post({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "create_goal", arguments: { name: "n", description: "d" } } }, { Origin: "https://evil.example" });
    expect(response.status).toBe(403);
    const mine = await post({ jsonrpc: "2.0", id: 1, method: "tools/list" }, { Origin: "http://localhost:6274" });
    expect(mine.status).toBe(200);
  });

  it("refuses a request for the local endpoint under another Host name with 403", async () => {
    const response = await post({ jsonrpc: "2.0", id: 1, method: "ping" }, { Host: "evil.example" });
    expect(response.status).toBe(403);
  });
});

describe("what is not a 2025-era JSON-RPC POST", () => {
  it("GET and DELETE are 405: the endpoint is stateless, there is no stream or session to open or end", async () => {
    const token = await tokenFor(`http-${crypto.randomUUID()}`);
    for (const method of ["GET", "DELETE"]) {
      const response = await workerFetch(`${ORIGIN}/mcp/core`, { method, headers: { Authorization: `Bearer ${token}`, Accept: "application/json, text/event-stream" } });
      expect(response.status, method).toBe(405);
    }
  });

  it("a body that is not JSON is a 400 parse error, never a 500", async () => {
    const token = await tokenFor(`http-${crypto.randomUUID()}`);
    const response = await workerFetch(`${ORIGIN}/mcp`, { method: "POST", headers: { Authorization: `Bearer ${token}`, ...LEGACY }, body: "{not json" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });
});

describe("request bodies are bounded on both protocol lanes", () => {
  /** A JSON-RPC body of `bytes` bytes sent chunked: a stream, so no Content-Length to refuse it by. */
  function chunked(bytes: number): ReadableStream<Uint8Array> {
    const head = new TextEncoder().encode(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"`);
    const tail = new TextEncoder().encode(`"}}`);
    let left = bytes - head.length - tail.length;
    let started = false;
    return new ReadableStream({
      pull(controller) {
        if (!started) return (started = true), controller.enqueue(head);
        if (left <= 0) return controller.enqueue(tail), controller.close();
        const size = Math.min(left, 64 * 1024);
        left -= size;
        controller.enqueue(new Uint8Array(size).fill(0x61));
      },
    });
  }

  // 4 MiB is the stated limit (the MCP SDK's own default); one byte more is refused.
  const LIMIT = 4 * 1024 * 1024;

  for (const [lane, version] of [
    ["2025-era", "2025-11-25"],
    ["2026-07-28", "2026-07-28"],
  ]) {
    it(`${lane}: a chunked body over 4 MiB is refused with 413, one at the limit is read`, async () => {
      const token = await tokenFor(`http-${crypto.randomUUID()}`);
      const send = (bytes: number) =>
        workerFetch(`${ORIGIN}/mcp`, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, ...LEGACY, "MCP-Protocol-Version": version },
          body: chunked(bytes),
        });
      const over = await send(LIMIT + 1);
      expect(over.status).toBe(413);
      expect(((await over.json()) as { error: { message: string } }).error.message).toBe("Request body too large");
      expect((await send(LIMIT)).status).not.toBe(413);
    });
  }
});
