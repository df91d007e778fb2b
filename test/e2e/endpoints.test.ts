/**
 * The endpoints end to end (docs/tools.md, "Endpoints"; SPEC §9): `/mcp` and the sets below it
 * (`/mcp/core`, …) are all covered by the instance's one OAuth resource, `/mcp`. A client given
 * only a set's URL finds the resource's metadata from the 401 challenge, accepts that `/mcp` covers
 * its URL, and signs in — shown here with the SDK v1 and v2 clients doing the whole flow by
 * themselves, not with the harness's hand-made one.
 */
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2, UnauthorizedError as UnauthorizedV2 } from "@modelcontextprotocol/client";
import type { OAuthClientProvider as OAuthClientProviderV1 } from "@modelcontextprotocol/sdk/client/auth.js";
import { UnauthorizedError as UnauthorizedV1 } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { beforeAll, describe, expect, it } from "vitest";
import { ENDPOINTS } from "../../src/mcp/endpoints";
import {
  authorize,
  callTool,
  callToolError,
  ConsentingOAuthProvider,
  connectV1,
  connectV2,
  useDevServer,
  type ToolCaller,
} from "./harness";

const CORE = ["get_next_task", "heartbeat_task", "update_task_status", "get_task", "create_task"];

interface Task {
  id: number;
  status: string;
}
interface Claim {
  task: Task | null;
  lease_id?: string;
}

const server = useDevServer();
let coreUrl: string;

beforeAll(async () => {
  coreUrl = `${server.mcpUrl}/core`;
});

/** The work loop on /mcp/core: add a task, claim it, keep the lease, finish, read it back. */
async function workLoop(client: ToolCaller, agentId: string): Promise<void> {
  const created = await callTool<Task>(client, "create_task", { title: `work of ${agentId}`, priority: 10 });
  const claim = await callTool<Claim>(client, "get_next_task", { agent_id: agentId });
  expect(claim.task?.id).toBe(created.id);
  await callTool(client, "heartbeat_task", { task_id: created.id, lease_id: claim.lease_id, progress: "halfway" });
  await callTool(client, "update_task_status", { task_id: created.id, status: "completed", lease_id: claim.lease_id });
  expect((await callTool<Task>(client, "get_task", { task_id: created.id })).status).toBe("completed");
}

describe("discovery from a set's URL", () => {
  it("answers POST /mcp/core without a token with 401 naming the metadata of the one resource, /mcp", async () => {
    const response = await fetch(coreUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: {} }),
    });
    expect(response.status).toBe(401);
    // RFC 9728 §5.1: the challenge names the metadata; its `resource` (/mcp) is a parent of the URL.
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(response.headers.get("WWW-Authenticate") ?? "")?.[1];
    expect(metadataUrl).toBe(`${server.origin}/.well-known/oauth-protected-resource/mcp`);
    const metadata = (await (await fetch(metadataUrl!)).json()) as { resource: string };
    expect(metadata.resource).toBe(server.mcpUrl);
  });
});

describe("the SDK clients sign in on /mcp/core by themselves", () => {
  it("SDK v2: discovery, registration, consent, token for /mcp, then the work loop", async () => {
    const provider = new ConsentingOAuthProvider(server.ownerPassword);
    await expect(new ClientV2({ name: "e2e-v2", version: "1" }).connect(new TransportV2(new URL(coreUrl), { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedV2);
    // The SDK asked for a token bound to the resource the metadata named, /mcp.
    expect(provider.authorizationUrl?.searchParams.get("resource")).toBe(server.mcpUrl);
    const transport = new TransportV2(new URL(coreUrl), { authProvider: provider });
    await transport.finishAuth(provider.callback!.searchParams);
    const client = new ClientV2({ name: "e2e-v2", version: "1" });
    await client.connect(transport);
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual([...CORE].sort());
    await workLoop(client, "v2-agent");
    await client.close();
  });

  it("SDK v1: discovery, registration, consent, token for /mcp, then the work loop", async () => {
    const provider = new ConsentingOAuthProvider(server.ownerPassword);
    // The v1 SDK declares the same provider interface with its own type names.
    const v1Provider = provider as unknown as OAuthClientProviderV1;
    await expect(new ClientV1({ name: "e2e-v1", version: "1" }).connect(new TransportV1(new URL(coreUrl), { authProvider: v1Provider }))).rejects.toBeInstanceOf(UnauthorizedV1);
    expect(provider.authorizationUrl?.searchParams.get("resource")).toBe(server.mcpUrl);
    const transport = new TransportV1(new URL(coreUrl), { authProvider: v1Provider });
    await transport.finishAuth(provider.callback!.searchParams.get("code")!);
    const client = new ClientV1({ name: "e2e-v1", version: "1" });
    await client.connect(transport);
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual([...CORE].sort());
    await workLoop(client, "v1-agent");
    await client.close();
  });
});

describe("one resource, every endpoint", () => {
  it("a token for /mcp works on every endpoint, and each lists exactly its tools", async () => {
    const { accessToken } = await authorize(server);
    const all = await connectV2(server, accessToken);
    const every = (await all.listTools()).tools.map((tool) => tool.name);
    await all.close();
    for (const [path, endpoint] of Object.entries(ENDPOINTS)) {
      const client = await connectV1(server, accessToken, { url: `${server.origin}${path}` });
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names.sort(), path).toEqual([...(endpoint.tools === "all" ? every : endpoint.tools)].sort());
      await client.close();
    }
  });

  it("shares one user's data across endpoints: a task made on /mcp is worked on /mcp/core", async () => {
    const { accessToken } = await authorize(server);
    const planner = await connectV2(server, accessToken);
    const goal = await callTool<{ id: number }>(planner, "create_goal", { name: "across endpoints", description: "d" });
    const task = await callTool<Task>(planner, "create_task", { title: "made on /mcp", goal_id: goal.id });
    const worker = await connectV1(server, accessToken, { url: coreUrl });
    const claim = await callTool<Claim>(worker, "get_next_task", { agent_id: "core-agent", goal_id: goal.id });
    expect(claim.task?.id).toBe(task.id);
    // A tool that is not in the set is not there, with the protocol's own error, not a tool result.
    await expect(worker.callTool({ name: "create_goal", arguments: { name: "n", description: "d" } })).rejects.toThrow(/create_goal/);
    await planner.close();
    await worker.close();
  });

  it("answers an unknown endpoint below /mcp with 401 before sign-in and 404 after, never 500", async () => {
    const unknown = `${server.mcpUrl}/no-such-set`;
    expect((await fetch(unknown, { method: "POST" })).status).toBe(401);
    const { accessToken } = await authorize(server);
    expect((await fetch(unknown, { method: "POST", headers: { Authorization: `Bearer ${accessToken}` } })).status).toBe(404);
  });
});

describe("both protocol generations on every endpoint", () => {
  it("a client on the 2026-07-28 revision (server/discover, no initialize) gets the same tools and answers", async () => {
    const { accessToken } = await authorize(server);
    const transport = new TransportV2(new URL(coreUrl), { requestInit: { headers: { Authorization: `Bearer ${accessToken}` } } });
    const client = new ClientV2({ name: "e2e-v2-modern", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await client.connect(transport);
    expect(client.getProtocolEra()).toBe("modern");
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual([...CORE].sort());
    await workLoop(client, "modern-agent");
    expect(await callToolError(client, "get_task", { task_id: 999_999 })).toBe("not_found: task 999999 does not exist");
    await client.close();
  });

  it("2025-era requests are answered as one JSON body (the SDK clients' default)", async () => {
    const { accessToken } = await authorize(server);
    const response = await fetch(coreUrl, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${accessToken}`,
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/list", params: {} }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    const body = (await response.json()) as { id: number; result: { tools: { name: string }[] } };
    expect(body.id).toBe(7);
    expect(body.result.tools.map((tool) => tool.name).sort()).toEqual([...CORE].sort());
  });
});
