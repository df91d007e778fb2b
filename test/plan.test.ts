/** validatePlan: the one check every plan passes before it is written, whoever wrote it. */
import { describe, expect, it } from "vitest";
import { agentPlan, validatePlan, type Plan } from "../src/runtime/plans/plan";
import { DomainError } from "../src/runtime/kernel/errors";

const plan = (...deps: number[][]): Plan => ({
  tasks: deps.map((depends_on, i) => ({ title: `t${i}`, description: "", priority: 5, depends_on })),
});

/** The invalid_argument message validatePlan throws, or null when the plan passes. */
function problem(p: Plan, maxTasks?: number): string | null {
  try {
    validatePlan(p, { maxTasks });
    return null;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    expect(error.code).toBe("invalid_argument");
    return error.message;
  }
}

describe("validatePlan", () => {
  it("accepts a DAG: chains, diamonds, forward references and repeated dependencies", () => {
    expect(problem(plan([], [0], [1]))).toBeNull();
    expect(problem(plan([], [0], [0], [1, 2]))).toBeNull();
    expect(problem(plan([1], []))).toBeNull();
    expect(problem(plan([], [0, 0]))).toBeNull();
  });

  it("names a cycle by the tasks on it, in dependency order", () => {
    expect(problem(plan([1], [0]))).toMatch(/^tasks: dependencies form a cycle \(each task waits for the next\): (0 → 1 → 0|1 → 0 → 1)$/);
    // 3 waits for 4, 4 for 5, 5 for 3; tasks 0..2 are fine and not named.
    const message = problem(plan([], [0], [1], [4, 2], [5], [3]))!;
    const path = message.split(": ").pop()!.split(" → ").map(Number);
    expect(path[0]).toBe(path[path.length - 1]);
    expect(new Set(path)).toEqual(new Set([3, 4, 5]));
    for (let i = 0; i + 1 < path.length; i++) expect(plan([], [0], [1], [4, 2], [5], [3]).tasks[path[i]].depends_on).toContain(path[i + 1]);
  });

  it("names the field of an index out of range or a task depending on itself", () => {
    expect(problem(plan([], [2]))).toBe("tasks[1].depends_on: index 2 is not a task of this plan (0..1)");
    expect(problem(plan([], [-1]))).toBe("tasks[1].depends_on: index -1 is not a task of this plan (0..1)");
    expect(problem(plan([], [0.5]))).toBe("tasks[1].depends_on: index 0.5 is not a task of this plan (0..1)");
    expect(problem(plan([0]))).toBe("tasks[0].depends_on: a task cannot depend on itself");
  });

  it("enforces the sizes of SPEC §4 and the plan's task limit", () => {
    expect(problem({ tasks: [] })).toBe("tasks: a plan needs at least one task");
    expect(problem(plan(...Array.from({ length: 51 }, () => [])))).toBe("tasks: a plan has at most 50 tasks (got 51)");
    expect(problem(plan([], [], []), 2)).toBe("tasks: a plan has at most 2 tasks (got 3)");
    // A caller's max_tasks never lifts the hard limit.
    expect(problem(plan(...Array.from({ length: 51 }, () => [])), 500)).toBe("tasks: a plan has at most 50 tasks (got 51)");
    const long = plan([]);
    long.tasks[0].title = "x".repeat(201);
    expect(problem(long)).toBe("tasks[0].title: at most 200 characters");
    long.tasks[0].title = "   ";
    expect(problem(long)).toBe("tasks[0].title: must not be empty");
    long.tasks[0].title = "ok";
    long.tasks[0].description = "d".repeat(20_001);
    expect(problem(long)).toBe("tasks[0].description: at most 20000 characters");
    long.tasks[0].description = "";
    long.tasks[0].priority = 0;
    expect(problem(long)).toBe("tasks[0].priority: must be a whole number from 1 to 10");
    const wide = plan(...Array.from({ length: 50 }, () => []));
    wide.tasks[0].depends_on = Array.from({ length: 101 }, (_, i) => (i % 49) + 1);
    expect(problem(wide)).toBe("tasks[0].depends_on: at most 100 dependencies");
  });

  it("fills an agent's plan with create_task's defaults", () => {
    expect(agentPlan([{ title: "a" }, { title: "b", description: "d", priority: 9, depends_on: [0] }])).toEqual({
      tasks: [
        { title: "a", description: "", priority: 5, depends_on: [] },
        { title: "b", description: "d", priority: 9, depends_on: [0] },
      ],
    });
  });
});
