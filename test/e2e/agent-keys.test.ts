/**
 * Agent keys end to end (SPEC §16): against `wrangler dev`, the owner makes keys on the dashboard's
 * form; headless agents connect with nothing but `Authorization: Bearer <key>` on the transport —
 * no browser, no consent page — each with its own SDK client (v1 and v2 alternating) on
 * `/mcp/core`, and work a goal to completion as themselves. A key revoked mid-run is refused on
 * its very next call while the others go on; no agent can finish another's claimed task; and no
 * key ever reaches the server's log.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  authorize,
  callTool,
  callToolError,
  connectV1,
  connectV2,
  makeAgentKey,
  revokeAgentKey,
  signInDashboard,
  useDevServer,
  type DashboardSession,
  type V1Client,
  type V2Client,
} from "./harness";

interface Task {
  id: number;
  status: string;
  assigned_to: string | null;
  result: string | null;
}
interface Claim {
  task: Task | null;
  reason?: string;
  lease_id?: string;
}

const server = useDevServer();
let owner: V2Client;
let dashboard: DashboardSession;
/** Every key made in this file: none may appear in the server's log. */
const keys: string[] = [];

beforeAll(async () => {
  owner = await connectV2(server, (await authorize(server)).accessToken);
  dashboard = await signInDashboard(server);
});

interface Agent {
  id: string;
  keyId: string;
  client: V1Client | V2Client;
}

/** `count` agents, each with a key of its own on /mcp/core and its own client, SDK v1 and v2 alternating. */
async function team(prefix: string, count: number): Promise<Agent[]> {
  const agents: Agent[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i}`;
    const { key, keyId } = await makeAgentKey(server, dashboard, { agent_id: id, endpoint: "/mcp/core" });
    keys.push(key);
    const url = `${server.mcpUrl}/core`;
    agents.push({ id, keyId, client: i % 2 === 0 ? await connectV2(server, key, { url }) : await connectV1(server, key, { url }) });
  }
  return agents;
}

/** A goal of 24 tasks in four waves: each task waits for its counterpart and its neighbour in the wave before. */
async function goalOf24(name: string): Promise<number> {
  const goal = await callTool<{ id: number }>(owner, "create_goal", { name, description: "worked by keyed agents" });
  const tasks = Array.from({ length: 24 }, (_, i) => {
    const wave = Math.floor(i / 6);
    const before = wave === 0 ? [] : [i - 6, (wave - 1) * 6 + ((i + 1) % 6)];
    return { title: `wave ${wave} task ${i % 6}`, depends_on: before };
  });
  await callTool(owner, "decompose_goal", { goal_id: goal.id, tasks });
  return goal.id;
}

/**
 * The work loop of one agent, signed in with its key: claim (no agent_id: the key says who),
 * finish under the lease, until nothing is left to claim. `afterFirst` runs once, after its first
 * completed task. Returns the ids of the tasks it completed.
 */
async function work(agent: Agent, goalId: number, afterFirst?: () => Promise<void>): Promise<number[]> {
  const done: number[] = [];
  for (;;) {
    const claim = await callTool<Claim>(agent.client, "get_next_task", { goal_id: goalId, wait_seconds: 2 });
    if (!claim.task) {
      if (claim.reason === "no_pending_tasks") return done;
      continue;
    }
    expect(claim.task.assigned_to).toBe(agent.id);
    await callTool(agent.client, "update_task_status", { task_id: claim.task.id, status: "completed", result: `by ${agent.id}`, lease_id: claim.lease_id });
    done.push(claim.task.id);
    if (done.length === 1 && afterFirst) {
      await afterFirst();
      return done;
    }
  }
}

const closeAll = (agents: Agent[]) => Promise.all(agents.map((agent) => agent.client.close()));

describe("headless agents with their own keys", () => {
  it("eight agents, each with its own key and client, finish a goal together, each task done by the agent that claimed it", async () => {
    const agents = await team("worker", 8);
    const goalId = await goalOf24("eight keyed agents");
    const doneBy = await Promise.all(agents.map((agent) => work(agent, goalId)));

    const goal = await callTool<{ status: string; task_counts: Record<string, number> }>(owner, "get_goal", { goal_id: goalId });
    expect(goal).toMatchObject({ status: "completed", task_counts: { completed: 24 } });
    const { tasks } = await callTool<{ tasks: Task[] }>(owner, "list_tasks", { goal_id: goalId, view: "full", limit: 50 });
    const claimedBy = new Map(agents.flatMap((agent, i) => doneBy[i].map((taskId) => [taskId, agent.id] as const)));
    expect(claimedBy.size).toBe(24);
    for (const task of tasks) expect(task).toMatchObject({ status: "completed", assigned_to: claimedBy.get(task.id), result: `by ${claimedBy.get(task.id)}` });
    await closeAll(agents);
  });

  it("refuses a key revoked on the dashboard on its very next call, while the other agents go on and finish", async () => {
    const agents = await team("crew", 8);
    const goalId = await goalOf24("one key revoked");
    const revoked = agents[3];
    let refusal: unknown;
    const doneBy = await Promise.all(
      agents.map((agent) =>
        work(agent, goalId, agent === revoked ? async () => {
          await revokeAgentKey(server, dashboard, agent.keyId);
          refusal = await callTool(agent.client, "get_next_task", { goal_id: goalId }).then(() => "accepted", (error: unknown) => error);
        } : undefined),
      ),
    );
    expect(refusal).toBeInstanceOf(Error);
    expect(String(refusal)).toContain("This agent key was revoked.");
    expect(doneBy[3]).toHaveLength(1);
    const goal = await callTool<{ status: string }>(owner, "get_goal", { goal_id: goalId });
    expect(goal.status).toBe("completed");
    const { tasks } = await callTool<{ tasks: Task[] }>(owner, "list_tasks", { goal_id: goalId, view: "full", limit: 50 });
    expect(tasks.filter((task) => task.assigned_to === revoked.id).map((task) => task.id)).toEqual(doneBy[3]);
    await closeAll(agents);
  });

  it("cannot complete another agent's claimed task, with a guessed task id or a guessed lease", async () => {
    const [holder, other] = await team("pair", 2);
    const goal = await callTool<{ id: number }>(owner, "create_goal", { name: "guessing", description: "" });
    await callTool(owner, "decompose_goal", { goal_id: goal.id, tasks: [{ title: "only one" }] });
    const claim = await callTool<Claim>(holder.client, "get_next_task", { goal_id: goal.id });
    const taskId = claim.task!.id;

    expect(await callToolError(other.client, "update_task_status", { task_id: taskId, status: "completed", result: "stolen" })).toBe(
      `conflict: task ${taskId} is held by pair-0 under a lease: only its holder moves it, quoting lease_id`,
    );
    expect(await callToolError(other.client, "update_task_status", { task_id: taskId, status: "completed", lease_id: "ls_aaaaaaaaaaaaaaaa" })).toMatch(
      /^conflict: task \d+: lease ls_aaaaaaaaaaaaaaaa is lost/,
    );
    expect(await callToolError(other.client, "get_next_task", { goal_id: goal.id, agent_id: "pair-0" })).toBe(
      "failed_precondition: agent_id: this agent key is for pair-1, not pair-0",
    );
    expect(await callTool<Task>(owner, "get_task", { task_id: taskId })).toMatchObject({ status: "in_progress", assigned_to: "pair-0", result: null });
    await callTool(holder.client, "update_task_status", { task_id: taskId, status: "completed", result: "mine", lease_id: claim.lease_id });
    expect(await callTool<Task>(owner, "get_task", { task_id: taskId })).toMatchObject({ status: "completed", result: "mine" });
    await closeAll([holder, other]);
  });
});

describe("a key as a script uses it", () => {
  it("answers the dashboard's curl line, and 403 outside the key's endpoint set", async () => {
    const { key } = await makeAgentKey(server, dashboard, { agent_id: "script", endpoint: "/mcp/core" });
    keys.push(key);
    const post = (path: string) =>
      fetch(`${server.origin}${path}`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${key}`,
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
          "MCP-Protocol-Version": "2025-11-25",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
    const listed = await post("/mcp/core");
    expect(listed.status).toBe(200);
    const names = ((await listed.json()) as { result: { tools: { name: string }[] } }).result.tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(["get_next_task", "update_task_status"]));
    const elsewhere = await post("/mcp");
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.headers.get("WWW-Authenticate")).toContain('error="insufficient_scope"');
  });

  it("never shows up in the server's log, whatever was accepted or refused", async () => {
    expect(keys.length).toBeGreaterThanOrEqual(19);
    const logs = server.logs();
    for (const key of keys) {
      expect(logs).not.toContain(key);
      expect(logs).not.toContain(key.slice(-32));
    }
  });
});
