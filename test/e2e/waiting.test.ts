/**
 * Waiting instead of polling, end to end (SPEC §5, §6; docs/tasks.md, docs/relay.md): real MCP
 * clients against `wrangler dev` wait for work and for their baton with `wait_seconds`, and are
 * answered by another client's write, by the alarm, by the end of their wait, or, when the server
 * goes down under them, with an error they can retry: never a hang.
 *
 * The workerd tests (test/waiting.test.ts) prove who wakes whom, deterministically; here a short
 * pause after starting a waiting call gives it time to reach the server before the write that
 * should answer it (if it arrived later, its first look would find the work: the checks hold
 * either way). The server runs with LEASE_MIN_SECONDS=1 so that a lease can run out in the test.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { authorize, callTool, callToolRaw, connectV1, connectV2, useDevServer, type ToolResult } from "./harness";

interface Task {
  id: number;
  status: string;
  assigned_to: string | null;
}
interface Claim {
  task: Task | null;
  reason?: string;
  lease_id?: string;
}
interface Baton {
  baton_id: string;
  step_index: number;
  agent_type: string;
}
interface BatonAnswer {
  baton: Baton | null;
  prompt: string | null;
  pipeline_status: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Time for a call just sent to reach the object and start waiting. */
const ARRIVAL_MS = 500;

const server = useDevServer({ vars: { LEASE_MIN_SECONDS: "1" } });
let accessToken: string;

beforeAll(async () => {
  accessToken = (await authorize(server)).accessToken;
});

async function newGoal(client: Parameters<typeof callTool>[0], name: string): Promise<number> {
  return (await callTool<{ id: number }>(client, "create_goal", { name, description: "waiting e2e" })).id;
}

describe("waiting for work", () => {
  it("an agent waiting on get_next_task is handed the task another client creates (SDK v1 waits, v2 writes)", async () => {
    const waiter = await connectV1(server, accessToken);
    const writer = await connectV2(server, accessToken);
    try {
      const goal = await newGoal(writer, "created while waiting");
      const waiting = callTool<Claim>(waiter, "get_next_task", { agent_id: "waiter", goal_id: goal, wait_seconds: 30 });
      await sleep(ARRIVAL_MS);
      const task = await callTool<Task>(writer, "create_task", { title: "for the waiter", goal_id: goal });
      const answer = await waiting;
      expect(answer.task).toMatchObject({ id: task.id, status: "in_progress", assigned_to: "waiter" });
      expect(answer.lease_id).toMatch(/^ls_/);
    } finally {
      await waiter.close();
      await writer.close();
    }
  });

  it("a lease that runs out while another agent waits is handed to it by the alarm, with no call in between", async () => {
    const silent = await connectV2(server, accessToken);
    const waiter = await connectV2(server, accessToken);
    try {
      const goal = await newGoal(silent, "lease runs out");
      const task = await callTool<Task>(silent, "create_task", { title: "abandoned", goal_id: goal });
      const held = await callTool<Claim>(silent, "get_next_task", { agent_id: "silent", goal_id: goal, lease_seconds: 2 });
      expect(held.task?.id).toBe(task.id);
      // Nobody writes from now on: only the alarm, when the 2 s lease ends, can answer the waiter.
      const answer = await callTool<Claim>(waiter, "get_next_task", { agent_id: "waiter", goal_id: goal, wait_seconds: 30 });
      expect(answer.task).toMatchObject({ id: task.id, assigned_to: "waiter" });
    } finally {
      await silent.close();
      await waiter.close();
    }
  });

  it("a wait that finds nothing ends with the ordinary answer", async () => {
    const client = await connectV2(server, accessToken);
    try {
      const goal = await newGoal(client, "nothing comes");
      expect(await callTool<Claim>(client, "get_next_task", { agent_id: "patient", goal_id: goal, wait_seconds: 1 })).toEqual({
        task: null,
        reason: "no_pending_tasks",
      });
    } finally {
      await client.close();
    }
  });

  it("a client that goes away mid-wait holds its place no longer than its wait: then the next waiter gets the work", async () => {
    const gone = await connectV2(server, accessToken);
    const next = await connectV1(server, accessToken);
    try {
      const goal = await newGoal(next, "client goes away");
      const abandoned = callToolRaw(gone, "get_next_task", { agent_id: "gone", goal_id: goal, wait_seconds: 1 }).catch((error: unknown) => error);
      await sleep(ARRIVAL_MS);
      await gone.close();
      await abandoned;
      // wrangler dev does not tell the Worker that its client left, so the object keeps the call
      // until its wait ends (docs/tasks.md). Past that, the place is free.
      await sleep(2_000);
      const waiting = callTool<Claim>(next, "get_next_task", { agent_id: "next", goal_id: goal, wait_seconds: 30 });
      await sleep(ARRIVAL_MS);
      const task = await callTool<Task>(next, "create_task", { title: "not for the gone one", goal_id: goal });
      expect((await waiting).task).toMatchObject({ id: task.id, assigned_to: "next" });
    } finally {
      await next.close();
    }
  });
});

describe("waiting for the baton", () => {
  it("three agents wait for their steps and each is answered once, when the baton reaches it", async () => {
    const agents = await Promise.all([connectV2(server, accessToken), connectV1(server, accessToken), connectV2(server, accessToken)]);
    try {
      const created = await callTool<{ pipeline_id: string; baton: Baton }>(agents[0], "create_relay_pipeline", {
        name: "waiting relay",
        goal: "hand off without polling",
        agent_types: ["researcher", "analyzer", "formatter"],
      });
      const id = created.pipeline_id;
      // Agents 1 and 2 each ask once, for their own step, before their turn.
      const turns = [1, 2].map((step) => callTool<BatonAnswer>(agents[step], "get_relay_baton", { pipeline_id: id, step_index: step, wait_seconds: 30 }));
      await sleep(ARRIVAL_MS);
      let baton = created.baton;
      for (const step of [1, 2]) {
        const advanced = await callTool<{ status: string; baton?: Baton }>(agents[step - 1], "advance_relay", {
          pipeline_id: id,
          baton_id: baton.baton_id,
          quality_score: 0.9,
          l_score: 0.9,
          tokens_used: 10,
          output_summary: `step ${step - 1} done`,
        });
        const answer = await turns[step - 1];
        expect(answer.baton).toMatchObject({ baton_id: advanced.baton!.baton_id, step_index: step });
        expect(answer.prompt).toContain(`step ${step - 1} done`);
        baton = answer.baton!;
      }
    } finally {
      await Promise.all(agents.map((agent) => agent.close()));
    }
  });
});

/**
 * A tools/call over plain HTTP, as the 2025-era protocol allows without a session: the answer is
 * one SSE message. Used where the SDK clients would hide what happened to the connection (they
 * take a cut stream for one to resume, and report it only at their request timeout, 60 s).
 */
async function plainToolCall(name: string, args: Record<string, unknown>): Promise<ToolResult> {
  const response = await fetch(server.mcpUrl, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${accessToken}`,
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2025-06-18",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } }),
  });
  const text = await response.text();
  const data = text.split("\n").find((line) => line.startsWith("data: "));
  if (!data) throw new Error(`no answer in ${response.status} ${text.slice(0, 200)}`);
  return (JSON.parse(data.slice("data: ".length)) as { result: ToolResult }).result;
}

describe("the server goes down during a wait", () => {
  for (const how of ["crash", "restart"] as const) {
    it(`a ${how} during a wait ends the call at once with an error to retry (never a hang), and waiting works again after it`, async () => {
      const setup = await connectV2(server, accessToken);
      const goal = await newGoal(setup, `${how} during a wait`);
      await setup.close();
      const cut = plainToolCall("get_next_task", { agent_id: "waiter", goal_id: goal, wait_seconds: 30 }).then(
        (result): ToolResult | Error => result,
        (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
      );
      await sleep(ARRIVAL_MS);
      await (how === "crash" ? server.crash() : server.restart());
      // The call settles (a hang would run into the test's timeout): either its connection was
      // cut, which the client sees and may retry, or it was answered unavailable. Never a task.
      const outcome = await cut;
      if (outcome instanceof Error) expect(outcome.message).toMatch(/terminated|closed|reset|fetch failed/i);
      else expect(outcome.isError && outcome.content[0]?.text).toMatch(/^unavailable: /);

      const after = await connectV1(server, accessToken);
      try {
        const waiting = callTool<Claim>(after, "get_next_task", { agent_id: "waiter", goal_id: goal, wait_seconds: 30 });
        await sleep(ARRIVAL_MS);
        const task = await callTool<Task>(after, "create_task", { title: `after the ${how}`, goal_id: goal });
        expect((await waiting).task).toMatchObject({ id: task.id, assigned_to: "waiter" });
      } finally {
        await after.close();
      }
    });
  }
});
