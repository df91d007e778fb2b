/**
 * Cancelling a goal: the goal becomes `cancelled` and takes no new tasks, and every task of it
 * that is not finished (pending, in_progress, failed) is cancelled through the ordinary status
 * move, so leases end, history is written and a late report from an agent is refused as for any
 * cancelled task. Completed tasks stay completed. Cancelling twice changes nothing more.
 */
import { getGoal, markGoalCancelled, type Goal } from "../goals/goals";
import { LIMITS } from "../kernel/limits";
import type { TaskRow } from "./model";
import { updateTaskStatus } from "./status";

export function cancelGoal(sql: SqlStorage, goalId: number, reason: string | undefined, now: number): Goal {
  markGoalCancelled(sql, goalId, now);
  const open = sql
    .exec<Pick<TaskRow, "id">>(`SELECT id FROM tasks WHERE goal_id = ? AND status IN ('pending', 'in_progress', 'failed') ORDER BY id`, goalId)
    .toArray();
  const error = `goal ${goalId} was cancelled${reason ? `: ${reason}` : ""}`.slice(0, LIMITS.text);
  for (const { id } of open) updateTaskStatus(sql, { task_id: id, status: "cancelled", error }, now);
  return getGoal(sql, goalId);
}
