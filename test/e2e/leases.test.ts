/**
 * Leases end to end (docs/tasks.md): against `wrangler dev`, a claimed task whose agent goes
 * silent is released by the Durable Object's alarm — nothing else touches it — and handed to the
 * next agent, and the silent agent's late completion is refused.
 *
 * The contract's shortest lease is 60 s; this server runs with LEASE_MIN_SECONDS=1 (the testing
 * aid) so a lease of a few seconds can run out while the test waits.
 */
import { describe, expect, it } from "vitest";
import { authorize, callTool, callToolError, connectV1, connectV2, useDevServer } from "./harness";

interface TaskEvent {
  kind: string;
  agent_id: string | null;
  status: string;
}
interface Task {
  id: number;
  status: string;
  assigned_to: string | null;
  attempt: number;
  result: string | null;
  progress: string | null;
  lease_id: string | null;
  lease_expires_at: string | null;
  events?: TaskEvent[];
}
interface Claim {
  task: Task | null;
  reason?: string;
  lease_id?: string;
  lease_expires_at?: string;
}

const server = useDevServer({ vars: { LEASE_MIN_SECONDS: "1" } });


describe("a crashed agent's task", () => {
  it("is released by the alarm, claimed by another agent, and the first agent's late completion is refused", async () => {
    const { accessToken } = await authorize(server);
    // Two agents, on the two SDK generations, acting for the same user.
    const agentA = await connectV2(server, accessToken);
    const agentB = await connectV1(server, accessToken);

    const tools = await agentA.listTools();
    const getNext = tools.tools.find((t) => t.name === "get_next_task")!;
    // The setting reached the Worker: the advertised minimum is lowered.
    expect(getNext.inputSchema.properties!.lease_seconds).toMatchObject({ minimum: 1, maximum: 86400 });

    const goal = await callTool<{ id: number }>(agentA, "create_goal", { name: "lease e2e", description: "d" });
    const created = await callTool<Task>(agentA, "create_task", { title: "survive a crash", goal_id: goal.id });

    // Agent A claims (5 s, time enough for its heartbeat on a busy machine), leaves a progress
    // note with a heartbeat that shortens the lease to 2 s, and goes silent.
    const a = await callTool<Claim>(agentA, "get_next_task", { goal_id: goal.id, agent_id: "agent-a", lease_seconds: 5 });
    expect(a.task).toMatchObject({ id: created.id, status: "in_progress", assigned_to: "agent-a", attempt: 1 });
    await callTool(agentA, "heartbeat_task", { task_id: created.id, lease_id: a.lease_id, extend_seconds: 2, progress: "half done" });

    // Only reads from here until the task is back in the queue: get_task never releases a lease,
    // so the release can only come from the alarm firing inside wrangler dev.
    const released = await until(
      () => callTool<Task>(agentB, "get_task", { task_id: created.id }),
      (task) => task.status === "pending",
      30_000,
    );
    expect(released).toMatchObject({ assigned_to: null, attempt: 1, lease_id: null, progress: "half done" });
    expect(released.events![0]).toMatchObject({ kind: "lease_expired", agent_id: "agent-a", status: "pending" });

    // Agent B takes it over and sees where A got to.
    const b = await callTool<Claim>(agentB, "get_next_task", { goal_id: goal.id, agent_id: "agent-b", lease_seconds: 600 });
    expect(b.task).toMatchObject({ id: created.id, assigned_to: "agent-b", attempt: 2, progress: "half done" });
    expect(b.lease_id).not.toBe(a.lease_id);

    // A wakes up and reports: refused, and nothing changes.
    const late = await callToolError(agentA, "update_task_status", { task_id: created.id, status: "completed", result: "from a", lease_id: a.lease_id });
    expect(late).toMatch(/^conflict: .*lease ls_\w+ is lost: the task was claimed again, by agent-b/);
    expect(await callToolError(agentA, "heartbeat_task", { task_id: created.id, lease_id: a.lease_id })).toMatch(/^conflict: /);
    expect(await callTool<Task>(agentA, "get_task", { task_id: created.id })).toMatchObject({ status: "in_progress", assigned_to: "agent-b", result: null });

    // B's completion, under the live lease, is the one that counts.
    const done = await callTool<Task>(agentB, "update_task_status", { task_id: created.id, status: "completed", result: "from b", lease_id: b.lease_id });
    expect(done).toMatchObject({ status: "completed", result: "from b" });

    await agentA.close();
    await agentB.close();
  });
});

/** Calls `read` until `done` holds for its answer, for at most `timeoutMs`; returns that answer. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`still not there after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
