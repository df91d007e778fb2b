/**
 * The built-in plans, used when neither Claude nor the calling agent supplies one. Each is a
 * fixed shape filled with the goal's name, so a user without an API key still gets a usable queue.
 */
import { LIMITS } from "../runtime/kernel/limits";
import type { Plan, PlannedTask } from "../runtime/plans/plan";
import type { Strategy } from "./strategies";

interface Step {
  title: string;
  does: string;
}

const SEQUENTIAL: Step[] = [
  { title: "Research", does: "Gather the information, prior work and constraints needed for" },
  { title: "Plan", does: "Design the approach and break down the work for" },
  { title: "Implement", does: "Build the planned solution for" },
  { title: "Test", does: "Verify that the implementation works and meets the requirements of" },
  { title: "Document", does: "Write down what was built and how to use it for" },
];

const PARALLEL: Step[] = [
  { title: "Backend", does: "Build the server-side part of" },
  { title: "Frontend", does: "Build the user-facing part of" },
  { title: "Testing", does: "Write and run the tests for" },
];

const HIERARCHICAL: Step[] = [
  { title: "Phase 1: Foundation", does: "Lay the groundwork (setup, structure, core decisions) for" },
  { title: "Phase 2: Core Implementation", does: "Implement the central functionality of" },
  { title: "Phase 3: Integration", does: "Connect the parts and make them work together for" },
  { title: "Phase 4: Optimization", does: "Improve performance, robustness and polish of" },
];

function task(step: Step, goalName: string, priority: number, dependsOn: number[]): PlannedTask {
  return {
    title: `${step.title}: ${goalName}`.slice(0, LIMITS.title),
    description: `${step.does} the goal "${goalName}".`,
    priority,
    depends_on: dependsOn,
  };
}

export function templatePlan(strategy: Strategy, goalName: string): Plan {
  switch (strategy) {
    case "sequential":
      return { tasks: SEQUENTIAL.map((s, i) => task(s, goalName, 10 - i, i === 0 ? [] : [i - 1])) };
    case "parallel":
      return { tasks: PARALLEL.map((s) => task(s, goalName, 10, [])) };
    case "hierarchical":
      return { tasks: HIERARCHICAL.map((s, i) => task(s, goalName, 10 - i, i === 0 ? [] : [i - 1])) };
  }
}
