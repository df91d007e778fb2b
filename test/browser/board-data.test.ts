/**
 * What the goal board draws from its tool calls (src/dashboard/assets/board-data.js): the tasks of
 * `list_tasks {view: "full"}` as the graph's data, the shape the dashboard's server sends. The
 * file is browser code with no DOM, so it runs here in Node as it is; the board at work in
 * Chromium is ./app.test.ts.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { GraphNode, TaskGraph } from "../../src/runtime/tasks/graph";

type GraphData = Omit<TaskGraph, "total" | "truncated">;
interface BoardData {
  graphOf(goalId: number, tasks: object[], now?: number): GraphData;
  stateOf(task: object, now?: number): GraphNode["state"];
}

let board: BoardData;

beforeAll(async () => {
  board = (await import(pathToFileURL(join(import.meta.dirname, "../../src/dashboard/assets/board-data.js")).href)) as BoardData;
});

/** A task as list_tasks answers it with view "full" (the fields the board reads, and others). */
const task = (id: number, fields: Record<string, unknown> = {}) => ({
  id,
  goal_id: 1,
  title: `Task ${id}`,
  description: "",
  status: "pending",
  priority: 5,
  role: null,
  run_when: "all_completed",
  dependencies: [],
  not_before: null,
  blocked_by: [],
  created_at: "2026-12-03T10:00:00.000Z",
  updated_at: "2026-12-03T10:00:00.000Z",
  started_at: null,
  completed_at: null,
  result: null,
  error: null,
  metadata: {},
  assigned_to: null,
  attempt: 0,
  max_attempts: 3,
  lease_id: null,
  lease_expires_at: null,
  progress: null,
  ...fields,
});

describe("a task's state in the drawing", () => {
  it("splits pending into ready (nothing to wait for) and blocked (unfinished dependencies)", () => {
    expect(board.stateOf(task(1))).toBe("ready");
    expect(board.stateOf(task(2, { dependencies: [1], blocked_by: [1] }))).toBe("blocked");
    expect(board.stateOf(task(3, { dependencies: [1], blocked_by: [] }))).toBe("ready");
  });

  it("draws a pending task whose rule holds but whose not_before is still ahead as scheduled, ready once it has passed", () => {
    const at = Date.parse("2026-12-03T10:00:00.000Z");
    const later = task(1, { not_before: "2026-12-03T10:05:00.000Z" });
    expect(board.stateOf(later, at)).toBe("scheduled");
    expect(board.stateOf(later, at + 5 * 60_000)).toBe("ready");
    // Waiting on a dependency comes first: the start matters only once the rule holds.
    expect(board.stateOf(task(2, { dependencies: [1], blocked_by: [1], not_before: "2026-12-03T10:05:00.000Z" }), at)).toBe("blocked");
  });

  it("keeps every other status, and draws one it does not know as blocked rather than failing", () => {
    for (const status of ["in_progress", "completed", "failed", "cancelled"]) expect(board.stateOf(task(1, { status }))).toBe(status);
    expect(board.stateOf(task(1, { status: "someday" }))).toBe("blocked");
  });
});

describe("the graph of a goal's tasks", () => {
  it("has a node per task in id order and an edge per dependency inside the goal, as the server sorts them", () => {
    const data = board.graphOf(1, [
      task(3, { dependencies: [1, 2], blocked_by: [2] }),
      task(1, { status: "completed" }),
      task(2, { status: "in_progress", assigned_to: "coder-1", lease_expires_at: "2026-12-03T10:05:00.000Z", attempt: 1 }),
    ]);
    expect(data.goal_id).toBe(1);
    expect(data.nodes.map((n) => [n.id, n.state])).toEqual([
      [1, "completed"],
      [2, "in_progress"],
      [3, "blocked"],
    ]);
    expect(data.edges).toEqual([
      [1, 3],
      [2, 3],
    ]);
    expect(data.nodes[1]).toEqual({
      id: 2,
      title: "Task 2",
      state: "in_progress",
      priority: 5,
      role: null,
      run_when: "all_completed",
      not_before: null,
      blocked_by: [],
      external_dependencies: [],
      assigned_to: "coder-1",
      lease_expires_at: "2026-12-03T10:05:00.000Z",
      attempt: 1,
      max_attempts: 3,
      updated_at: "2026-12-03T10:00:00.000Z",
    });
  });

  it("draws no edge to a dependency outside the tasks it has, and lists it as external", () => {
    const data = board.graphOf(1, [task(5, { dependencies: [2, 4], blocked_by: [4, 2] }), task(4)]);
    expect(data.edges).toEqual([[4, 5]]);
    expect(data.nodes.find((n) => n.id === 5)).toMatchObject({ external_dependencies: [2], blocked_by: [2, 4], state: "blocked" });
  });

  it("carries each task's role, rule and start, so owner tasks and rules are drawn as on the dashboard", () => {
    const data = board.graphOf(1, [
      task(1, { status: "failed" }),
      task(2, { role: "owner", run_when: "any_failed", dependencies: [1], not_before: "2026-12-04T09:00:00.000Z" }),
      task(3, { role: "tester", run_when: undefined }),
    ]);
    expect(data.nodes.map((n) => [n.role, n.run_when, n.not_before])).toEqual([
      [null, "all_completed", null],
      ["owner", "any_failed", "2026-12-04T09:00:00.000Z"],
      ["tester", "all_completed", null],
    ]);
  });

  it("ignores fields it does not know, so tasks with more fields draw the same", () => {
    const plain = board.graphOf(1, [task(1), task(2, { dependencies: [1], blocked_by: [1] })]);
    const richer = board.graphOf(1, [
      task(1, { schedule_id: "sc_x", retry_backoff_seconds: 30, labels: ["a"] }),
      task(2, { dependencies: [1], blocked_by: [1], inputs: [{ task_id: 1, title: "Task 1", status: "pending" }] }),
    ]);
    expect(richer).toEqual(plain);
  });
});
