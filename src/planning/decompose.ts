/**
 * decompose_goal: choose where the plan comes from, validate it, and have the user's Runtime
 * write it in one transaction. Slow work (a model call) belongs here, in the Worker, before the
 * Durable Object is asked to write anything.
 *
 * Where the plan comes from, first match wins:
 *   1. the calling agent's own `tasks` (source "agent"; no API key needed);
 *   2. Claude, when ANTHROPIC_API_KEY is set (source "ai"), each model call counted against the
 *      user's daily cap (DECOMPOSE_DAILY_LIMIT) before it is made;
 *   3. the built-in template of the strategy (source "template").
 */
import type { RuntimeApi } from "../runtime/api";
import { DomainError, mapOutcome, outcomeOfAsync, type Outcome } from "../runtime/kernel/errors";
import { assertPlanTarget, type PlanMode } from "../runtime/plans/apply";
import { agentPlan, validatePlan, type AgentTask, type Plan } from "../runtime/plans/plan";
import type { Task } from "../runtime/tasks/model";
import { DEFAULT_MAX_TASKS, EXISTING_TASKS_SHOWN, planWithClaude, type ProviderOptions, type ProviderSettings } from "./anthropic";
import type { PlanSource, Strategy } from "./strategies";
import { templatePlan } from "./templates";

/** What decomposition works with: the user's Runtime, and the model when one is configured. */
export interface Planner {
  runtime: Pick<RuntimeApi, "getGoal" | "listTasks" | "applyPlan" | "spendModelCall">;
  /** null: no API key, so plans come from the agent or the templates. */
  model: ProviderSettings | null;
  /** The test seam for the model call; the product passes nothing (global fetch). */
  provider?: ProviderOptions;
  /** Hears how far a decomposition by Claude has got (the tool forwards it as MCP progress). */
  progress?: (step: PlanningStep) => Promise<void> | void;
}

/** Steps of a decomposition by Claude: 0 asking, 1 repairing (only if needed), 2 writing, 3 done, of 3. */
export interface PlanningStep {
  progress: number;
  total: number;
  message: string;
}

export interface DecomposeRequest {
  goal_id: number;
  strategy: Strategy;
  /** "new" (default): only a goal without tasks. "append": add to the existing tasks, which stay as they are. */
  mode?: PlanMode;
  /** Upper bound on the tasks Claude may propose (default 12, at most 50). */
  max_tasks?: number;
  /** The calling agent's own plan; dependencies are indexes into this list. */
  tasks?: AgentTask[];
  /** Roles Claude may assign the tasks to. */
  roles?: string[];
}

export interface Decomposition {
  goal_id: number;
  strategy: Strategy;
  source: PlanSource;
  /** The model that wrote the plan; null unless source is "ai". */
  model: string | null;
  tasks_created: number[];
  count: number;
  tasks: Task[];
}

interface ChosenPlan {
  plan: Plan;
  source: PlanSource;
  model: string | null;
}

export async function decomposeGoal(planner: Planner, request: DecomposeRequest): Promise<Outcome<Decomposition>> {
  const mode = request.mode ?? "new";
  const goal = await planner.runtime.getGoal(request.goal_id);
  if (!goal.ok) return goal;
  const chosen = await outcomeOfAsync(async (): Promise<ChosenPlan> => {
    // Before any model call, so that a refused decomposition costs no tokens.
    assertPlanTarget(goal.value, mode);
    if (request.tasks !== undefined) {
      return { plan: validatePlan(agentPlan(request.tasks)), source: "agent", model: null };
    }
    const settings = planner.model;
    if (!settings) return { plan: validatePlan(templatePlan(request.strategy, goal.value.name)), source: "template", model: null };
    const existing = mode === "append" ? await existingTasks(planner, request.goal_id) : [];
    const maxTasks = request.max_tasks ?? DEFAULT_MAX_TASKS;
    await planner.progress?.({ progress: 0, total: 3, message: `asking ${settings.model} for a plan of at most ${maxTasks} tasks` });
    const { plan, model } = await planWithClaude(
      settings,
      {
        goal: { name: goal.value.name, description: goal.value.description, metadata: goal.value.metadata },
        strategy: request.strategy,
        maxTasks,
        existingTasks: existing,
        roles: request.roles,
      },
      // Each model call is counted in the user's Runtime before it is made (DECOMPOSE_DAILY_LIMIT).
      async () => {
        const spent = await planner.runtime.spendModelCall(settings.dailyCallLimit);
        if (!spent.ok) throw new DomainError(spent.error.code, spent.error.message);
      },
      {
        ...planner.provider,
        onRepair: (reason) => planner.progress?.({ progress: 1, total: 3, message: `the plan was unusable (${reason.slice(0, 200)}); asking for a corrected one` }),
      },
    );
    return { plan, source: "ai", model };
  });
  if (!chosen.ok) return chosen;
  const { plan, source, model } = chosen.value;
  // Only a decomposition by Claude takes long enough to be worth reporting.
  const report = source === "ai" ? planner.progress : undefined;
  await report?.({ progress: 2, total: 3, message: `writing ${plan.tasks.length} tasks` });
  const written = await planner.runtime.applyPlan(request.goal_id, plan, mode);
  if (written.ok) await report?.({ progress: 3, total: 3, message: `wrote ${written.value.length} tasks` });
  return mapOutcome(written, (tasks) => ({
    goal_id: request.goal_id,
    strategy: request.strategy,
    source,
    model,
    tasks_created: tasks.map((t) => t.id),
    count: tasks.length,
    tasks,
  }));
}

async function existingTasks(planner: Planner, goalId: number): Promise<{ title: string; status: string }[]> {
  const listed = await planner.runtime.listTasks({ goal_id: goalId, limit: EXISTING_TASKS_SHOWN, view: "brief" });
  return listed.ok ? listed.value.items.map((t) => ({ title: t.title, status: t.status })) : [];
}
