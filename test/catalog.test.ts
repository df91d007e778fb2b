/**
 * What clients browse (SPEC §10) against the real Runtime: a goal with its tasks in one read, the
 * live items page by page, and the user's own ids by prefix for completions.
 */
import { describe, expect, it } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import type { LiveItem, LivePage } from "../src/runtime/catalog";
import { freshRuntime, value } from "./helpers/runtime";

async function goal(runtime: RuntimeApi, name: string) {
  return value(await runtime.createGoal({ name, description: "" }));
}

async function pipeline(runtime: RuntimeApi, name: string) {
  return value(await runtime.createRelayPipeline({ name, goal: "g", agent_types: ["researcher"] }));
}

/** Every item of a walk through the live items, `limit` per page, running `between` after each page. */
async function walk(runtime: RuntimeApi, limit: number, between: () => Promise<void> = async () => {}): Promise<LiveItem[]> {
  const items: LiveItem[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page: LivePage = value(await runtime.listLive(cursor, limit));
    items.push(...page.items);
    if (page.next_cursor === null) return items;
    expect(page.items).toHaveLength(limit);
    cursor = page.next_cursor;
    await between();
  }
  throw new Error("the walk did not end");
}

describe("a goal with its tasks", () => {
  it("reads the goal and its tasks in creation order, and not_found for an unknown goal", async () => {
    const runtime = freshRuntime();
    const g = await goal(runtime, "g");
    const a = value(await runtime.createTask({ title: "a", goal_id: g.id }));
    const b = value(await runtime.createTask({ title: "b", goal_id: g.id, dependencies: [a.id] }));
    value(await runtime.createTask({ title: "elsewhere" }));
    const read = value(await runtime.goalWithTasks(g.id));
    expect(read.goal).toEqual(value(await runtime.getGoal(g.id)));
    expect(read.tasks.map((t) => [t.id, t.blocked_by])).toEqual([
      [a.id, []],
      [b.id, [a.id]],
    ]);
    expect(await runtime.goalWithTasks(999)).toMatchObject({ ok: false, error: { code: "not_found", message: "goal 999 does not exist" } });
  });
});

describe("the live items, page by page", () => {
  it("lists active goals and then running pipelines, newest first, each exactly once", async () => {
    const runtime = freshRuntime();
    const goals: { id: number }[] = [];
    for (let i = 0; i < 5; i++) goals.push(await goal(runtime, `goal ${i}`));
    value(await runtime.cancelGoal(goals[1].id));
    const done = await goal(runtime, "done");
    const t = value(await runtime.createTask({ title: "t", goal_id: done.id }));
    value(await runtime.updateTaskStatus({ task_id: t.id, status: "completed" }));
    const pipelines: { pipeline_id: string }[] = [];
    for (let i = 0; i < 3; i++) pipelines.push(await pipeline(runtime, `pipeline ${i}`));
    value(await runtime.advanceRelay({ pipeline_id: pipelines[0].pipeline_id, quality_score: 1, l_score: 1, tokens_used: 1 }));

    const expected = [
      ...[4, 3, 2, 0].map((i) => ({ kind: "goal", id: String(goals[i].id), name: `goal ${i}` })),
      ...[2, 1].map((i) => ({ kind: "pipeline", id: pipelines[i].pipeline_id, name: `pipeline ${i}` })),
    ];
    for (const limit of [1, 2, 3, 4, 6, 100]) expect(await walk(runtime, limit), `limit ${limit}`).toEqual(expected);
  });

  it("ends with the last page when the goals fill it exactly and no pipeline runs", async () => {
    const runtime = freshRuntime();
    await goal(runtime, "a");
    await goal(runtime, "b");
    expect(value(await runtime.listLive(undefined, 2)).next_cursor).toBeNull();
  });

  it("returns every item exactly once while items are added during the walk", async () => {
    const runtime = freshRuntime();
    for (let i = 0; i < 7; i++) await goal(runtime, `goal ${i}`);
    for (let i = 0; i < 4; i++) await pipeline(runtime, `pipeline ${i}`);
    const before = await walk(runtime, 100);
    let added = 0;
    const during = await walk(runtime, 3, async () => {
      await goal(runtime, `new goal ${added}`);
      await pipeline(runtime, `new pipeline ${added++}`);
    });
    const ids = during.map((item) => `${item.kind}:${item.id}`);
    expect(new Set(ids).size).toBe(ids.length);
    // Everything that was live when the walk began is met; what was added meanwhile may or may not be.
    expect(during.filter((item) => !item.name.startsWith("new"))).toEqual(before);
  });
});

describe("completions of the user's own ids", () => {
  it("completes goal ids by decimal prefix, newest first, at most 100", async () => {
    const runtime = freshRuntime();
    for (let i = 0; i < 120; i++) await goal(runtime, `g${i}`);
    const ones = value(await runtime.complete("goal_id", "1"));
    expect(ones).toEqual([...Array.from({ length: 21 }, (_, i) => String(120 - i)), ...Array.from({ length: 10 }, (_, i) => String(19 - i)), "1"]);
    expect(value(await runtime.complete("goal_id", "12"))).toEqual(["120", "12"]);
    const all = value(await runtime.complete("goal_id", ""));
    expect(all).toHaveLength(100);
    expect(all[0]).toBe("120");
    for (const prefix of ["0", "x", "1x", "121", "9".repeat(40)]) expect(value(await runtime.complete("goal_id", prefix)), prefix).toEqual([]);
  });

  it("completes pipeline ids by prefix", async () => {
    const runtime = freshRuntime();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await pipeline(runtime, `p${i}`)).pipeline_id);
    expect(value(await runtime.complete("pipeline_id", "rp_"))).toEqual([...ids].sort());
    expect(value(await runtime.complete("pipeline_id", ids[0]))).toEqual([ids[0]]);
    expect(value(await runtime.complete("pipeline_id", "nope"))).toEqual([]);
  });

  it("completes agent ids from breakers and from agents that held tasks, each once, in order, at most 100", async () => {
    const runtime = freshRuntime();
    value(await runtime.configureBreaker("coder-2", { failure_threshold: 4 }));
    value(await runtime.recordBreakerFailure("coder-1", { failure_type: "timeout", error_message: "slow" }));
    for (const agent of ["coder-1", "coder-3", "coder-3", "coder-3", "writer-1"]) {
      value(await runtime.createTask({ title: `for ${agent}` }));
      value(await runtime.nextTask({ agent_id: agent }));
    }
    expect(value(await runtime.complete("agent_id", "coder"))).toEqual(["coder-1", "coder-2", "coder-3"]);
    expect(value(await runtime.complete("agent_id", "w"))).toEqual(["writer-1"]);
    expect(value(await runtime.complete("agent_id", ""))).toEqual(["coder-1", "coder-2", "coder-3", "writer-1"]);

    for (let i = 0; i < 60; i++) value(await runtime.configureBreaker(`bulk-b${String(i).padStart(2, "0")}`, { failure_threshold: 4 }));
    for (let i = 0; i < 60; i++) {
      value(await runtime.createTask({ title: `t${i}` }));
      value(await runtime.nextTask({ agent_id: `bulk-t${String(i).padStart(2, "0")}` }));
    }
    const bulk = value(await runtime.complete("agent_id", "bulk-"));
    expect(bulk).toHaveLength(100);
    expect(bulk.slice(58, 62)).toEqual(["bulk-b58", "bulk-b59", "bulk-t00", "bulk-t01"]);
  });

  it("never completes another user's ids", async () => {
    const alice = freshRuntime();
    const bob = freshRuntime();
    await goal(alice, "alice's");
    await pipeline(alice, "alice's");
    value(await alice.configureBreaker("alice-agent", { failure_threshold: 4 }));
    for (const kind of ["goal_id", "pipeline_id", "agent_id"] as const) expect(value(await bob.complete(kind, "")), kind).toEqual([]);
  });
});
