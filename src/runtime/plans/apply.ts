/**
 * Writing a decomposition plan into a goal's queue. The plan was validated before it reached the
 * Durable Object; it is validated again here because this is the last step before storage, and
 * everything happens in the caller's single transaction: a plan is written whole or not at all.
 *
 * Decomposition never destroys work: a goal that already has tasks only takes a plan in mode
 * "append", which adds tasks and leaves every existing one (completed or not) as it is.
 */
import { assertAcceptsTasks, getGoal, refreshGoalStatus, type Goal } from "../goals/goals";
import { conflict } from "../kernel/errors";
import { toTasks, type Task, type TaskRow } from "../tasks/model";
import { addDependencies, insertTask } from "../tasks/queue";
import { validatePlan, type Plan } from "./plan";

export const PLAN_MODES = ["new", "append"] as const;
export type PlanMode = (typeof PLAN_MODES)[number];

/**
 * Whether `goal` may take a plan in `mode`. Checked twice with the same rule: by the Worker before
 * any model call (so a refused decomposition costs no tokens), and here inside the writing
 * transaction (the goal may have changed while the model was thinking).
 */
export function assertPlanTarget(goal: Pick<Goal, "id" | "status" | "task_counts">, mode: PlanMode): void {
  assertAcceptsTasks(goal);
  const existing = Object.values(goal.task_counts).reduce((a, b) => a + b, 0);
  if (existing > 0 && mode !== "append") {
    throw conflict(`goal ${goal.id} already has ${existing} tasks; pass mode "append" to add more (existing tasks are kept)`);
  }
}

export function applyPlan(sql: SqlStorage, goalId: number, plan: Plan, mode: PlanMode, now: number): Task[] {
  validatePlan(plan);
  assertPlanTarget(getGoal(sql, goalId), mode);
  // Every dependency is inside the plan and starts pending: none completed, failed or cancelled.
  const rows: TaskRow[] = plan.tasks.map((t) => {
    const count = new Set(t.depends_on).size;
    const counts = { dep_count: count, unmet_deps: count, failed_deps: 0, cancelled_deps: 0 };
    const { depends_on: _dependsOn, ...task } = t;
    return insertTask(sql, { ...task, goal_id: goalId }, counts, now);
  });
  plan.tasks.forEach((t, i) => addDependencies(sql, rows[i].id, [...new Set(t.depends_on)].map((dep) => rows[dep].id)));
  refreshGoalStatus(sql, goalId, now);
  return toTasks(sql, rows);
}
