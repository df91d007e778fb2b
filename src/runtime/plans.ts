/**
 * Writing a decomposition plan into a goal's queue. The plan was validated before it reached the
 * Durable Object; it is validated again here because this is the last step before storage, and
 * everything happens in the caller's single transaction: a plan is written whole or not at all.
 */
import { validatePlan, type Plan } from "../decompose/plan";
import { conflict } from "./errors";
import { assertGoalAcceptsTasks, refreshGoalStatus } from "./goals";
import { insertTask, toTasks, type Task, type TaskRow } from "./tasks";

export type PlanMode = "new" | "append";

export function applyPlan(sql: SqlStorage, goalId: number, plan: Plan, mode: PlanMode, now: number): Task[] {
  validatePlan(plan);
  assertGoalAcceptsTasks(sql, goalId);
  const existing = sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE goal_id = ?`, goalId).one().n;
  if (existing > 0 && mode !== "append") {
    throw conflict(`goal ${goalId} already has ${existing} tasks; pass mode "append" to add more (existing tasks are kept)`, "goal_id");
  }
  // Every dependency is inside the plan and starts unfinished, so unmet = number of distinct deps.
  const rows: TaskRow[] = plan.tasks.map((t) =>
    insertTask(sql, { goal_id: goalId, title: t.title, description: t.description, priority: t.priority }, new Set(t.depends_on).size, now),
  );
  plan.tasks.forEach((t, i) => {
    for (const dep of new Set(t.depends_on)) {
      sql.exec(`INSERT INTO task_deps (task_id, depends_on) VALUES (?, ?)`, rows[i].id, rows[dep].id);
    }
  });
  refreshGoalStatus(sql, goalId, now);
  return toTasks(sql, rows);
}
