/**
 * An agent signed in with its key is itself (SPEC §16, docs/security.md "Agent keys"): through
 * the real Worker, a keyed session acts as its key's agent only — in claims, waits, breaker
 * reports — cannot move or cancel work another agent holds under a lease, and leaves the breaker
 * controls to the owner. The owner (an OAuth token of the same user) keeps every power it had.
 * Every refused call changes nothing.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { issueAgentKey, type KeyRequest } from "../src/dashboard/agent-keys";
import { rolesAllowed } from "../src/mcp/caller";
import type { Caller } from "../src/mcp/context";
import type { RuntimeApi } from "../src/runtime/api";
import { connectAs, connectWith, type McpSession } from "./helpers/mcp";
import { snapshot, value, withSql } from "./helpers/runtime";

interface Claim {
  task: { id: number; assigned_to: string | null } | null;
  lease_id?: string;
  reason?: string;
}

/** A fresh user with its owner session and a keyed session per agent. */
async function team(name: string, agents: (string | [string, Omit<KeyRequest, "agent_id">])[]) {
  const userId = `rules-${name}-${crypto.randomUUID()}`;
  const rt = env.RUNTIME.getByName(userId) as unknown as RuntimeApi;
  const owner = await connectAs(userId);
  const keyed: Record<string, McpSession> = {};
  for (const agent of agents) {
    const [agentId, options] = typeof agent === "string" ? [agent, {}] : agent;
    const { key } = value(await issueAgentKey(env, userId, { agent_id: agentId, ...options }));
    keyed[agentId] = await connectWith(key);
  }
  return { rt, owner, keyed };
}

describe("an agent acts as its key's agent only", () => {
  it("claims for itself when get_next_task names no agent_id, and when it names its own", async () => {
    const { owner, keyed } = await team("claim", ["coder-1"]);
    await owner.call("create_task", { title: "first" });
    await owner.call("create_task", { title: "second" });
    const implicit = await keyed["coder-1"].call<Claim>("get_next_task", {});
    expect(implicit.task?.assigned_to).toBe("coder-1");
    expect(implicit.lease_id).toMatch(/^ls_/);
    const explicit = await keyed["coder-1"].call<Claim>("get_next_task", { agent_id: "coder-1" });
    expect(explicit.task?.assigned_to).toBe("coder-1");
  });

  it("is refused with failed_precondition when it names another agent: claims, waits, breaker reports and trips — changing nothing", async () => {
    const { rt, owner, keyed } = await team("others", ["coder-1"]);
    await owner.call("create_task", { title: "t" });
    await owner.call("circuit_breaker_record_failure", { agent_id: "coder-2", failure_type: "timeout", error_message: "slow" });
    const before = await snapshot(rt);
    const me = keyed["coder-1"];
    const refusal = "failed_precondition: agent_id: this agent key is for coder-1, not coder-2";
    expect(await me.fail("get_next_task", { agent_id: "coder-2" })).toBe(refusal);
    expect(await me.fail("get_next_task", { agent_id: "coder-2", wait_seconds: 5 })).toBe(refusal);
    expect(await me.fail("circuit_breaker_record_failure", { agent_id: "coder-2", failure_type: "timeout", error_message: "x" })).toBe(refusal);
    expect(await me.fail("circuit_breaker_record_success", { agent_id: "coder-2" })).toBe(refusal);
    expect(await me.fail("circuit_breaker_trip", { agent_id: "coder-2" })).toBe(refusal);
    expect(await snapshot(rt)).toEqual(before);
  });

  it("reports its own successes and failures, and may trip its own breaker", async () => {
    const { keyed } = await team("own-breaker", ["coder-1"]);
    const me = keyed["coder-1"];
    expect(await me.call("circuit_breaker_record_failure", { agent_id: "coder-1", failure_type: "exception", error_message: "boom" })).toMatchObject({ tripped: false });
    expect(await me.call("circuit_breaker_record_success", { agent_id: "coder-1" })).toMatchObject({ new_state: "CLOSED" });
    expect(await me.call("circuit_breaker_trip", { agent_id: "coder-1", reason: "I am broken" })).toMatchObject({ new_state: "OPEN" });
  });

  it("leaves reset and configure to the owner, even of its own breaker; the owner still may", async () => {
    const { rt, owner, keyed } = await team("owner-only", ["coder-1"]);
    await owner.call("circuit_breaker_trip", { agent_id: "coder-1" });
    const before = await snapshot(rt);
    const me = keyed["coder-1"];
    expect(await me.fail("circuit_breaker_reset", { agent_id: "coder-1" })).toBe(
      "failed_precondition: circuit_breaker_reset is the owner's: an agent key cannot use it (sign in with OAuth, or use the dashboard)",
    );
    expect(await me.fail("circuit_breaker_configure", { agent_id: "coder-1", failure_threshold: 100 })).toMatch(
      /^failed_precondition: circuit_breaker_configure is the owner's/,
    );
    expect(await me.fail("circuit_breaker_reset", { agent_id: "coder-2" })).toMatch(/^failed_precondition: circuit_breaker_reset is the owner's/);
    expect(await snapshot(rt)).toEqual(before);
    expect(await owner.call("circuit_breaker_reset", { agent_id: "coder-1" })).toMatchObject({ new_state: "CLOSED" });
    expect(await owner.call("circuit_breaker_configure", { agent_id: "coder-1", failure_threshold: 9 })).toMatchObject({ failure_threshold: 9 });
  });

  it("reads any agent's breaker: looking is not acting", async () => {
    const { owner, keyed } = await team("read", ["coder-1"]);
    await owner.call("circuit_breaker_record_failure", { agent_id: "coder-2", failure_type: "timeout", error_message: "slow" });
    expect(await keyed["coder-1"].call("circuit_breaker_status", { agent_id: "coder-2" })).toMatchObject({ agent_id: "coder-2", total_failures: 1 });
  });
});

describe("another agent's work", () => {
  it("cannot be moved by an agent without its lease, whatever task ids it tries: conflict, nothing changed", async () => {
    const { rt, owner, keyed } = await team("guess", ["coder-1", "coder-2"]);
    for (const title of ["a", "b", "c"]) await owner.call("create_task", { title });
    const held = await keyed["coder-1"].call<Claim>("get_next_task", {});
    await keyed["coder-1"].call<Claim>("get_next_task", {});
    const before = await snapshot(rt);
    for (const status of ["completed", "failed", "pending", "cancelled"]) {
      expect(await keyed["coder-2"].fail("update_task_status", { task_id: held.task!.id, status })).toBe(
        `conflict: task ${held.task!.id} is held by coder-1 under a lease: only its holder moves it, quoting lease_id`,
      );
    }
    // Guessing ids: the ones coder-1 holds are refused, nothing is moved.
    for (let taskId = 1; taskId <= 2; taskId++) {
      expect(await keyed["coder-2"].fail("update_task_status", { task_id: taskId, status: "completed", result: "mine now" })).toMatch(/^conflict: /);
    }
    expect(await snapshot(rt)).toEqual(before);
  });

  it("can be moved by its holder, with or without quoting the lease, and by another agent quoting the holder's lease", async () => {
    const { owner, keyed } = await team("holder", ["coder-1", "coder-2"]);
    for (const title of ["a", "b"]) await owner.call("create_task", { title });
    const first = await keyed["coder-1"].call<Claim>("get_next_task", {});
    expect(await keyed["coder-1"].call("update_task_status", { task_id: first.task!.id, status: "completed" })).toMatchObject({ status: "completed" });
    const second = await keyed["coder-1"].call<Claim>("get_next_task", {});
    // The lease is the holder's proof: whoever quotes it acts for the holder.
    expect(await keyed["coder-2"].call("update_task_status", { task_id: second.task!.id, status: "completed", lease_id: second.lease_id })).toMatchObject({
      status: "completed",
      assigned_to: "coder-1",
    });
  });

  it("can still be moved by the owner with an OAuth token, without the lease", async () => {
    const { owner, keyed } = await team("owner-moves", ["coder-1"]);
    await owner.call("create_task", { title: "a" });
    const held = await keyed["coder-1"].call<Claim>("get_next_task", {});
    expect(await owner.call("update_task_status", { task_id: held.task!.id, status: "pending" })).toMatchObject({ status: "pending", assigned_to: null });
  });

  it("stays the holder's while its lease has run out but the task is not released yet", async () => {
    const { rt, owner, keyed } = await team("expired", ["coder-1", "coder-2"]);
    await owner.call("create_task", { title: "a" });
    const held = await keyed["coder-1"].call<Claim>("get_next_task", {});
    await withSql(rt, (sql) => sql.exec(`UPDATE tasks SET lease_expires_at = ?`, Date.now() - 1));
    expect(await keyed["coder-2"].fail("update_task_status", { task_id: held.task!.id, status: "completed" })).toMatch(/^conflict: /);
    // The next hand-out releases it, and then it is anyone's to claim.
    expect((await keyed["coder-2"].call<Claim>("get_next_task", {})).task).toMatchObject({ id: held.task!.id, assigned_to: "coder-2" });
  });

  it("blocks an agent's cancel_goal while another agent holds one of the goal's tasks; the owner may cancel", async () => {
    const { rt, owner, keyed } = await team("cancel", ["coder-1", "planner"]);
    const goal = await owner.call("create_goal", { name: "g", description: "" });
    await owner.call("create_task", { title: "a", goal_id: goal.id });
    await owner.call("create_task", { title: "b", goal_id: goal.id });
    const held = await keyed["coder-1"].call<Claim>("get_next_task", {});
    const before = await snapshot(rt);
    expect(await keyed.planner.fail("cancel_goal", { goal_id: goal.id })).toBe(
      `conflict: task ${held.task!.id} is held by coder-1 under a lease: only its holder moves it, quoting lease_id`,
    );
    expect(await snapshot(rt)).toEqual(before);
    // Its holder may cancel the goal: the only held task is its own.
    expect(await keyed["coder-1"].call("cancel_goal", { goal_id: goal.id })).toMatchObject({ status: "cancelled" });
    const other = await owner.call("create_goal", { name: "h", description: "" });
    await owner.call("create_task", { title: "c", goal_id: other.id });
    await keyed["coder-1"].call<Claim>("get_next_task", { goal_id: other.id });
    expect(await owner.call("cancel_goal", { goal_id: other.id })).toMatchObject({ status: "cancelled" });
  });

  it("leaves unclaimed tasks to anyone, as before", async () => {
    const { owner, keyed } = await team("unclaimed", ["coder-2"]);
    const task = await owner.call("create_task", { title: "a" });
    expect(await keyed["coder-2"].call("update_task_status", { task_id: task.id, status: "cancelled" })).toMatchObject({ status: "cancelled" });
  });
});

describe("roles a key allows (rolesAllowed, the check get_next_task makes)", () => {
  const owner: Caller = { kind: "owner" };
  const agent = (roles: string[] | null): Caller => ({ kind: "agent", key_id: "aaaaaaaaaaaa", agent_id: "coder-1", roles, endpoint: "/mcp" });

  it("lets the owner and a key without roles ask for what they name, or none", () => {
    for (const caller of [owner, agent(null)]) {
      expect(rolesAllowed(caller, undefined)).toEqual({ ok: true, value: undefined });
      expect(rolesAllowed(caller, ["ops", "coder"])).toEqual({ ok: true, value: ["ops", "coder"] });
    }
  });

  it("gives a keyed call that names no roles all of its key's roles", () => {
    expect(rolesAllowed(agent(["coder", "reviewer"]), undefined)).toEqual({ ok: true, value: ["coder", "reviewer"] });
  });

  it("lets a keyed call narrow to some of its key's roles, and refuses any beyond them", () => {
    expect(rolesAllowed(agent(["coder", "reviewer"]), ["reviewer"])).toEqual({ ok: true, value: ["reviewer"] });
    expect(rolesAllowed(agent(["coder", "reviewer"]), ["coder", "ops", "owner"])).toEqual({
      ok: false,
      error: { code: "failed_precondition", message: "roles: this agent key allows coder, reviewer; not ops, owner" },
    });
  });
});

describe("roles and owner tasks through a keyed session", () => {
  it("hands a key limited to roles only its roles' tasks (and role-less ones), refusing roles beyond it, changing nothing", async () => {
    const { rt, owner, keyed } = await team("roles", [["reviewer-1", { roles: ["reviewer"] }]]);
    await owner.call("create_task", { title: "code", role: "coder", priority: 9 });
    const review = await owner.call("create_task", { title: "review", role: "reviewer" });
    const me = keyed["reviewer-1"];
    const before = await snapshot(rt);
    expect(await me.fail("get_next_task", { roles: ["coder"] })).toBe("failed_precondition: roles: this agent key allows reviewer; not coder");
    expect(await snapshot(rt)).toEqual(before);
    // Naming no roles: the key's.
    expect((await me.call<Claim>("get_next_task", {})).task?.id).toBe(review.id);
    expect(await me.call<Claim>("get_next_task", {})).toMatchObject({ task: null, reason: "no_task_for_roles" });
  });

  it("cannot decide an owner task: with a key as with a token, it is the owner's, on the dashboard", async () => {
    const { rt, owner, keyed } = await team("owner-task", ["deployer"]);
    const gate = await owner.call("create_task", { title: "Approve the deploy", role: "owner" });
    const before = await snapshot(rt);
    expect(await keyed.deployer.fail("update_task_status", { task_id: gate.id, status: "completed" })).toMatch(/^failed_precondition: .*owner's decision/);
    expect(await keyed.deployer.fail("get_next_task", { roles: ["owner"] })).toMatch(/^(invalid_argument|failed_precondition): roles/);
    expect(await snapshot(rt)).toEqual(before);
  });
});
