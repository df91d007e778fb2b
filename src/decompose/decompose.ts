/**
 * decompose_goal: choose where the plan comes from, validate it, and have the user's Runtime
 * write it in one transaction. Slow work (a model call) belongs here, in the Worker, before the
 * Durable Object is asked to write anything.
 */
import type { ToolContext } from "../mcp/context";
import { mapOutcome, type Outcome } from "../runtime/errors";
import type { Task } from "../runtime/tasks";
import { validatePlan, type PlanSource, type Strategy } from "./plan";
import { templatePlan } from "./templates";

export interface DecomposeRequest {
  goal_id: number;
  strategy: Strategy;
}

export interface Decomposition {
  goal_id: number;
  strategy: Strategy;
  source: PlanSource;
  tasks_created: number[];
  count: number;
  tasks: Task[];
}

export async function decomposeGoal(context: ToolContext, request: DecomposeRequest): Promise<Outcome<Decomposition>> {
  const goal = await context.runtime.getGoal(request.goal_id);
  if (!goal.ok) return goal;
  const plan = validatePlan(templatePlan(request.strategy, goal.value.name));
  const written = await context.runtime.applyPlan(request.goal_id, plan, "new");
  return mapOutcome(written, (tasks) => ({
    goal_id: request.goal_id,
    strategy: request.strategy,
    source: "template" as const,
    tasks_created: tasks.map((t) => t.id),
    count: tasks.length,
    tasks,
  }));
}
