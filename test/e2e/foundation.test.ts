/**
 * The foundation end to end: `wrangler dev` as `npm start` runs it, an MCP client's OAuth flow over
 * HTTP (SPEC §3), both official SDK client generations (SPEC §4), the goal/task tools (SPEC §5) and
 * continuity across a restart of the dev server (SPEC §8).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorize,
  callTool,
  callToolError,
  codeFromRedirect,
  connectV1,
  connectV2,
  discover,
  exchangeCode,
  openConsent,
  refresh,
  registerClient,
  useDevServer,
  submitConsent,
  tokenRequest,
  type Tokens,
  type V1Client,
  type V2Client,
} from "./harness";

interface Task {
  id: number;
  title: string;
  status: string;
  priority: number;
  dependencies: number[];
  blocked_by: number[];
  goal_id: number | null;
  result: string | null;
}
interface Goal {
  id: number;
  name: string;
  status: string;
  task_counts: Record<string, number>;
  progress: number;
}

const GOAL_TASK_TOOLS = [
  "create_goal",
  "decompose_goal",
  "create_task",
  "get_next_task",
  "update_task_status",
  "list_goals",
  "list_tasks",
  "get_goal",
  "get_task",
];
const READ_ONLY_TOOLS = ["list_goals", "list_tasks", "get_goal", "get_task"];

const server = useDevServer();


describe("discovery", () => {
  it("publishes protected resource metadata for the exact MCP URL (RFC 9728)", async () => {
    const response = await fetch(`${server.origin}/.well-known/oauth-protected-resource/mcp`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as { resource: string; authorization_servers: string[] };
    // Tokens are bound to this string; it must be what the client typed, localhost and all.
    expect(metadata.resource).toBe(server.mcpUrl);
    expect(metadata.authorization_servers).toEqual([server.origin]);
  });

  it("publishes authorization server metadata with registration, PKCE S256 and refresh tokens (RFC 8414)", async () => {
    const response = await fetch(`${server.origin}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: server.origin,
      authorization_endpoint: `${server.origin}/authorize`,
      token_endpoint: `${server.origin}/oauth/token`,
      registration_endpoint: `${server.origin}/oauth/register`,
    });
    expect(metadata.code_challenge_methods_supported).toEqual(["S256"]);
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(["authorization_code", "refresh_token"]));
    // Public clients (CLIs, desktop apps) have no secret.
    expect(metadata.token_endpoint_auth_methods_supported).toContain("none");
  });
});

describe("bearer challenges", () => {
  const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: {} };
  const post = (headers: Record<string, string> = {}) =>
    fetch(server.mcpUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...headers },
      body: JSON.stringify(initialize),
    });

  it("answers POST /mcp without a token with 401 and a WWW-Authenticate naming the resource metadata", async () => {
    const response = await post();
    expect(response.status).toBe(401);
    // RFC 9728 §5.1: the challenge is how a client finds the authorization server at all.
    expect(response.headers.get("WWW-Authenticate")).toContain(
      `resource_metadata="${server.origin}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it("answers a made-up or malformed token with 401, never 500", async () => {
    for (const authorization of ["Bearer not-a-real-token", "Bearer a:b:c", "Bearer ", "Basic Zm9vOmJhcg=="]) {
      const response = await post({ Authorization: authorization });
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get("WWW-Authenticate"), authorization).toContain("resource_metadata=");
    }
  });
});

describe("authorization code flow", () => {
  it("issues tokens to a dynamically registered public client after the owner password and Allow", async () => {
    const discovery = await discover(server);
    expect(discovery.resource.resource).toBe(server.mcpUrl);
    const client = await registerClient(discovery, "Flow Test Client");
    const pending = await openConsent(server, discovery, client);

    // The page says which client asks and where the token goes (SPEC §3).
    expect(pending.html).toContain("Flow Test Client");
    expect(pending.html).toContain("127.0.0.1");
    expect(pending.html).toMatch(/<input[^>]*type="password"/);
    // The form is bound to this browser by a cookie; without it the handle is worthless.
    expect(pending.cookie).toMatch(/^__Host-/);

    const answer = await submitConsent(pending, { password: server.ownerPassword, decision: "approve" });
    const code = codeFromRedirect(answer, pending, discovery);
    const tokens = await exchangeCode(server, discovery, pending, code);
    expect(tokens.accessToken).not.toBe("");
    expect(tokens.refreshToken).not.toBe("");
    expect(tokens.clientId).toBe(client.clientId);

    // RFC 6749 §4.1.2: a code is single use.
    const replay = await tokenRequest(discovery, {
      grant_type: "authorization_code",
      code,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
      code_verifier: pending.codeVerifier,
      resource: server.mcpUrl,
    });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe("invalid_grant");
  });

  it("refuses a code exchanged without the matching PKCE verifier (RFC 7636 §4.6)", async () => {
    const discovery = await discover(server);
    const pending = await openConsent(server, discovery, await registerClient(discovery));
    const code = codeFromRedirect(await submitConsent(pending, { password: server.ownerPassword, decision: "approve" }), pending, discovery);
    const { status, body } = await tokenRequest(discovery, {
      grant_type: "authorization_code",
      code,
      redirect_uri: pending.client.redirectUri,
      client_id: pending.client.clientId,
      code_verifier: "x".repeat(43),
      resource: server.mcpUrl,
    });
    expect(status).toBe(400);
    expect(body.error).toBe("invalid_grant");
  });

  it("refuses a wrong password with 403 on the page and no code; the same form then accepts the right one", async () => {
    const discovery = await discover(server);
    const pending = await openConsent(server, discovery, await registerClient(discovery));

    const wrong = await submitConsent(pending, { password: "not the password", decision: "approve" });
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get("Location")).toBeNull();
    expect(await wrong.text()).toContain("Wrong password");

    // The refused attempt did not consume the consent: retyping the password works.
    const right = await submitConsent(pending, { password: server.ownerPassword, decision: "approve" });
    expect(codeFromRedirect(right, pending, discovery)).not.toBe("");
  });

  it("sends Deny back to the client as error=access_denied with its state and no code", async () => {
    const discovery = await discover(server);
    const pending = await openConsent(server, discovery, await registerClient(discovery));
    const denied = await submitConsent(pending, { decision: "deny" });
    expect(denied.status).toBe(302);
    const location = new URL(denied.headers.get("Location")!);
    expect(`${location.origin}${location.pathname}`).toBe(pending.client.redirectUri);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe(pending.state);
    expect(location.searchParams.get("code")).toBeNull();
  });

  it("exchanges a refresh token for a new access token that works on /mcp", async () => {
    const discovery = await discover(server);
    const tokens = await authorize(server);
    const renewed = await refresh(server, discovery, tokens);
    expect(renewed.accessToken).not.toBe(tokens.accessToken);
    const client = await connectV2(server, renewed.accessToken);
    try {
      expect((await callTool<{ goals: Goal[] }>(client, "list_goals", {})).goals).toBeInstanceOf(Array);
    } finally {
      await client.close();
    }
  });
});

describe("MCP over Streamable HTTP with SDK v1 and v2 clients", () => {
  let tokens: Tokens;
  let v1: V1Client;
  let v2: V2Client;

  beforeAll(async () => {
    tokens = await authorize(server);
    v1 = await connectV1(server, tokens.accessToken);
    v2 = await connectV2(server, tokens.accessToken);
  });
  afterAll(async () => {
    await v1?.close();
    await v2?.close();
  });

  it("lists the 9 goal and task tools, each with input and output schemas and truthful annotations", async () => {
    for (const [label, client] of [["v1", v1], ["v2", v2]] as const) {
      const { tools } = await client.listTools();
      const byName = new Map(tools.map((tool) => [tool.name, tool]));
      expect([...byName.keys()], label).toEqual(expect.arrayContaining(GOAL_TASK_TOOLS));
      for (const name of GOAL_TASK_TOOLS) {
        const tool = byName.get(name)!;
        expect(tool.inputSchema.type, `${label} ${name} inputSchema`).toBe("object");
        expect(tool.outputSchema?.type, `${label} ${name} outputSchema`).toBe("object");
        expect(tool.description, `${label} ${name} description`).toBeTruthy();
        // Hints equal to MCP's defaults are left out: a client reads them as those.
        const hints = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true, ...(tool.annotations ?? {}) };
        // Only the readers are read-only; get_next_task may claim, so it is not. Nothing here
        // reaches outside the instance but decompose_goal (the model), and no write destroys
        // but the editing and cancelling tools.
        expect(hints.readOnlyHint, `${label} ${name} readOnlyHint`).toBe(READ_ONLY_TOOLS.includes(name));
        expect(hints.openWorldHint, `${label} ${name} openWorldHint`).toBe(name === "decompose_goal");
        if (!hints.readOnlyHint) expect(hints.destructiveHint, `${label} ${name} destructiveHint`).toBe(/^(update_goal|update_task|cancel_goal)$/.test(name));
      }
    }
  });

  it("runs the seed's scenario: decompose sequentially, work Research, then Plan is next", async () => {
    const goal = await callTool<Goal>(v2, "create_goal", { name: "Ship the e2e harness", description: "end to end" });
    expect(goal.status).toBe("active");

    const plan = await callTool<{ source: string; count: number; tasks: Task[]; tasks_created: number[] }>(
      v2,
      "decompose_goal",
      { goal_id: goal.id, strategy: "sequential" },
    );
    // No ANTHROPIC_API_KEY in this server: the built-in template, a chain of five.
    expect(plan.source).toBe("template");
    expect(plan.count).toBe(5);
    expect(plan.tasks.map((task) => task.title.split(":")[0])).toEqual(["Research", "Plan", "Implement", "Test", "Document"]);
    const [research, planTask] = plan.tasks;
    expect(planTask.dependencies).toEqual([research.id]);

    const first = await callTool<{ task: Task | null }>(v2, "get_next_task", { goal_id: goal.id });
    expect(first.task?.id).toBe(research.id);

    expect((await callTool<Task>(v2, "update_task_status", { task_id: research.id, status: "in_progress" })).status).toBe("in_progress");
    const done = await callTool<Task>(v2, "update_task_status", { task_id: research.id, status: "completed", result: "notes" });
    expect(done).toMatchObject({ status: "completed", result: "notes" });

    const second = await callTool<{ task: Task | null }>(v2, "get_next_task", { goal_id: goal.id });
    expect(second.task?.id).toBe(planTask.id);
    expect(second.task?.blocked_by).toEqual([]);

    // The other client of the same user sees the same state (SPEC §8).
    const seen = await callTool<Goal>(v1, "get_goal", { goal_id: goal.id });
    expect(seen.task_counts).toMatchObject({ completed: 1, pending: 4 });
    expect(seen.progress).toBeCloseTo(0.2);
    expect((await callTool<{ task: Task | null }>(v1, "get_next_task", { goal_id: goal.id })).task?.id).toBe(planTask.id);
  });

  it("reports an invalid argument as an error result `invalid_argument: <field>: …` without structuredContent, in both clients", async () => {
    for (const [label, client] of [["v1", v1], ["v2", v2]] as const) {
      expect(await callToolError(client, "create_goal", { name: "", description: "d" }), label).toMatch(/^invalid_argument: name: /);
      expect(await callToolError(client, "get_task", { task_id: "seven" }), label).toMatch(/^invalid_argument: task_id: /);
      expect(await callToolError(client, "create_task", { title: "t", priority: 11 }), label).toMatch(/^invalid_argument: priority: /);
      expect(await callToolError(client, "get_goal", { goal_id: 1, extra: true }), label).toMatch(/^invalid_argument: extra: /);
      expect(await callToolError(client, "get_goal", { goal_id: 999_999 }), label).toMatch(/^not_found: /);
    }
  });
});

describe("continuity across a restart of the dev server (SPEC §8)", () => {
  it("keeps goals, tasks and their progress, for the same token and for a fresh one", async () => {
    const tokens = await authorize(server);
    const before = await connectV2(server, tokens.accessToken);
    const goal = await callTool<Goal>(before, "create_goal", { name: "Survive a restart", description: "persisted" });
    const { tasks } = await callTool<{ tasks: Task[] }>(before, "decompose_goal", { goal_id: goal.id });
    await callTool(before, "update_task_status", { task_id: tasks[0].id, status: "completed", result: "kept" });
    await before.close();

    await server.restart();

    // The same token still works: grants live in the persisted KV, not in memory.
    const sameToken = await connectV1(server, tokens.accessToken);
    try {
      const found = await callTool<Goal>(sameToken, "get_goal", { goal_id: goal.id });
      expect(found).toMatchObject({ name: "Survive a restart", status: "active" });
      expect(found.task_counts).toMatchObject({ completed: 1, pending: 4 });
      expect(await callTool<Task>(sameToken, "get_task", { task_id: tasks[0].id })).toMatchObject({ status: "completed", result: "kept" });
    } finally {
      await sameToken.close();
    }

    // A fresh sign-in reaches the same user's data.
    const fresh = await connectV2(server, (await authorize(server)).accessToken);
    try {
      const listed = await callTool<{ tasks: Task[] }>(fresh, "list_tasks", { goal_id: goal.id });
      expect(listed.tasks.map((task) => task.id)).toEqual(tasks.map((task) => task.id));
      expect((await callTool<{ task: Task | null }>(fresh, "get_next_task", { goal_id: goal.id })).task?.id).toBe(tasks[1].id);
    } finally {
      await fresh.close();
    }
  });
});
