/**
 * Owner tasks (SPEC §14; docs/owner.md): a task with role "owner" is a decision for the person
 * who owns the instance. No agent is handed one or can move or edit one through MCP; the owner
 * approves or rejects it on the dashboard (the Runtime's decideOwnerTask), and agents waiting on
 * its dependents hear of it at once.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import { connectAs } from "./helpers/mcp";
import { freshRuntime, snapshot, stubOf, value } from "./helpers/runtime";

/** How many calls wait in the object now. */
const waitersOf = (rt: RuntimeApi): Promise<number> =>
  runInDurableObject(stubOf(rt), (instance) => (instance as unknown as { waiters: { size: number } }).waiters.size);

async function gatedDeploy(rt: RuntimeApi) {
  const goal = value(await rt.createGoal({ name: "Release", description: "Ship 2.0" }));
  const build = value(await rt.createTask({ title: "Build", goal_id: goal.id }));
  const approve = value(await rt.createTask({ title: "Approve the deploy", goal_id: goal.id, role: "owner", dependencies: [build.id] }));
  const deploy = value(await rt.createTask({ title: "Deploy", goal_id: goal.id, dependencies: [approve.id] }));
  const rollback = value(await rt.createTask({ title: "Tell the team", goal_id: goal.id, dependencies: [approve.id], run_when: "any_failed" }));
  return { goal, build, approve, deploy, rollback };
}

async function finishBuild(rt: RuntimeApi, id: number) {
  const claim = value(await rt.nextTask({ agent_id: "builder" }));
  expect(claim.task!.id).toBe(id);
  value(await rt.updateTaskStatus({ task_id: id, status: "completed", result: "artifact 2.0.0", lease_id: claim.lease_id }));
}

describe("owner tasks are never an agent's", () => {
  it("are not handed out, whatever the agent asks; naming the role is refused", async () => {
    const rt = freshRuntime("owner-never");
    const { build, approve } = await gatedDeploy(rt);
    await finishBuild(rt, build.id);
    // Ready for the owner, not for agents: the answer says who has work.
    expect(value(await rt.nextTask({ agent_id: "eager" }))).toEqual({ task: null, reason: "no_task_for_roles", ready_by_role: { owner: 1 } });
    expect(await rt.nextTask({ agent_id: "eager", roles: ["owner"] })).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
    expect(value(await rt.getTask(approve.id))).toMatchObject({ status: "pending", assigned_to: null });
  });

  it("refuse every move and edit through MCP with failed_precondition naming the dashboard, changing nothing", async () => {
    const userId = `owner-mcp-${crypto.randomUUID()}`;
    const rt = env.RUNTIME.getByName(userId) as unknown as RuntimeApi;
    const { build, approve, deploy } = await gatedDeploy(rt);
    await finishBuild(rt, build.id);
    const mcp = await connectAs(userId);
    const before = await snapshot(rt);
    for (const status of ["completed", "in_progress", "cancelled"]) {
      expect(await mcp.fail("update_task_status", { task_id: approve.id, status })).toMatch(/^failed_precondition: task \d+ is the owner's decision: the owner decides it on the dashboard/);
    }
    expect(await mcp.fail("update_task", { task_id: approve.id, title: "Approved already" })).toMatch(/^failed_precondition: .*owner's decision/);
    // Nor can the gate be taken off the work it guards.
    expect(await mcp.fail("update_task", { task_id: deploy.id, dependencies: [] })).toMatch(/^failed_precondition: task \d+ waits for the owner's decision on task \d+/);
    expect(await mcp.fail("update_task", { task_id: deploy.id, run_when: "all_finished" })).toMatch(/^failed_precondition: .*owner's decision/);
    expect(await mcp.fail("update_task_status", { task_id: deploy.id, status: "completed" })).toMatch(/^failed_precondition: /);
    expect(await snapshot(rt)).toEqual(before);
    await mcp.close();
  });
});

describe("the owner decides", () => {
  it("approval completes the task with the note as its result, in the history, and the agent waiting on the dependent gets it at once with the note among its inputs", async () => {
    const rt = freshRuntime("owner-approve");
    const { build, approve, deploy, rollback } = await gatedDeploy(rt);
    await finishBuild(rt, build.id);
    expect(value(await rt.waitingForOwner(10)).count).toBe(1);
    const waiting = rt.nextTask({ agent_id: "deployer", wait_seconds: 30 });
    // The waiter is registered before the decision (it holds no lease meanwhile).
    await vi.waitFor(async () => expect(await waitersOf(rt)).toBe(1));
    const decided = value(await rt.decideOwnerTask({ task_id: approve.id, approve: true, note: "Go: window 14:00–15:00" }));
    expect(decided).toMatchObject({ status: "completed", result: "Go: window 14:00–15:00" });
    const claim = value(await waiting);
    expect(claim.task!.id).toBe(deploy.id);
    expect(claim.inputs).toEqual([{ task_id: approve.id, title: "Approve the deploy", status: "completed", result: "Go: window 14:00–15:00" }]);
    expect(value(await rt.getTask(approve.id)).events[0]).toMatchObject({ kind: "approved", status: "completed", detail: 'approved by owner: "Go: window 14:00–15:00"' });
    // The recovery path is skipped: the decision did not fail.
    expect(value(await rt.getTask(rollback.id))).toMatchObject({ status: "cancelled", error: expect.stringMatching(/^skipped: /) });
    expect(value(await rt.waitingForOwner(10)).count).toBe(0);
  });

  it("rejection fails the task with the note as its error, runs its any_failed dependents and skips the rest", async () => {
    const rt = freshRuntime("owner-reject");
    const { build, approve, deploy, rollback } = await gatedDeploy(rt);
    await finishBuild(rt, build.id);
    value(await rt.decideOwnerTask({ task_id: approve.id, approve: false, note: "Not on a Friday" }));
    expect(value(await rt.getTask(approve.id))).toMatchObject({ status: "failed", error: "Not on a Friday" });
    expect(value(await rt.getTask(approve.id)).events[0]).toMatchObject({ kind: "rejected", detail: 'rejected by owner: "Not on a Friday"' });
    const claim = value(await rt.nextTask({ agent_id: "notifier" }));
    expect(claim.task!.id).toBe(rollback.id);
    expect(claim.inputs).toEqual([{ task_id: approve.id, title: "Approve the deploy", status: "failed", error: "Not on a Friday" }]);
    // The deploy waits: a rejected decision may be asked again (the dashboard's Retry).
    expect(value(await rt.getTask(deploy.id))).toMatchObject({ status: "pending", blocked_by: [approve.id] });
    expect(value(await rt.redriveFailed({ task_id: approve.id }))).toEqual([approve.id]);
    expect(value(await rt.waitingForOwner(10)).tasks.map((t) => t.id)).toEqual([approve.id]);
  });

  it("lists what waits for the owner with its goal and inputs, and refuses a decision that is not ready, made already or with too long a note", async () => {
    const rt = freshRuntime("owner-list");
    const { goal, build, approve } = await gatedDeploy(rt);
    const before = await snapshot(rt);
    expect(await rt.decideOwnerTask({ task_id: approve.id, approve: true, note: "" })).toMatchObject({ ok: false, error: { code: "failed_precondition" } });
    expect(await rt.decideOwnerTask({ task_id: build.id, approve: true, note: "" })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await snapshot(rt)).toEqual(before);
    await finishBuild(rt, build.id);
    const ready = await snapshot(rt);
    expect(await rt.decideOwnerTask({ task_id: approve.id, approve: true, note: "x".repeat(20_001) })).toMatchObject({
      ok: false,
      error: { code: "invalid_argument", message: expect.stringMatching(/^note: /) },
    });
    expect(await snapshot(rt)).toEqual(ready);
    const waiting = value(await rt.waitingForOwner(10));
    expect(waiting.count).toBe(1);
    expect(waiting.tasks[0]).toMatchObject({
      id: approve.id,
      goal: { id: goal.id, name: "Release", description: "Ship 2.0" },
      inputs: [{ task_id: build.id, title: "Build", status: "completed", result: "artifact 2.0.0" }],
    });
    value(await rt.decideOwnerTask({ task_id: approve.id, approve: true, note: "ok" }));
    expect(await rt.decideOwnerTask({ task_id: approve.id, approve: false, note: "changed my mind" })).toMatchObject({ ok: false, error: { code: "failed_precondition" } });
  });

  it("cancelling the goal cancels its undecided owner tasks: nothing is left to decide", async () => {
    const rt = freshRuntime("owner-cancel");
    const { goal, build, approve } = await gatedDeploy(rt);
    await finishBuild(rt, build.id);
    value(await rt.cancelGoal(goal.id, "dropped"));
    expect(value(await rt.getTask(approve.id)).status).toBe("cancelled");
    expect(value(await rt.waitingForOwner(10)).count).toBe(0);
  });
});
