/**
 * Moving a task along its lifecycle (docs/tasks.md). With a `lease_id` the move is fenced: it
 * happens only while that lease is the task's live lease. Any move ends the current lease (a task
 * set back to pending is claimable at once, a failed one is not). Completing a task makes its
 * dependents one step closer to ready.
 */
import { refreshGoalStatus } from "../goals/goals";
import { conflict, failedPrecondition } from "../kernel/errors";
import { assertNotHeldByAnother } from "./acting";
import { recordEvent } from "./history";
import { assertLeaseHeld } from "./leases";
import { LEASE_CLEARED, taskRow, toTasks, TRANSITIONS, type Task, type TaskRow, type TaskStatus } from "./model";

export interface StatusChange {
  task_id: number;
  status: TaskStatus;
  result?: string;
  error?: string;
  lease_id?: string;
}

/** `actingAgent`: the agent of a keyed call, who may not move another agent's leased task without its lease. */
export function updateTaskStatus(sql: SqlStorage, change: StatusChange, now: number, actingAgent?: string): Task {
  const task = taskRow(sql, change.task_id);
  const to = change.status;
  // The lease first: a stale holder learns that it lost the task, whatever it tried to do.
  if (change.lease_id !== undefined) assertLeaseHeld(task, change.lease_id, now);
  else if (actingAgent !== undefined) assertNotHeldByAnother(task, actingAgent);
  if (!TRANSITIONS[task.status].includes(to)) {
    throw conflict(`task ${task.id} cannot move from ${task.status} to ${to}`);
  }
  if ((to === "in_progress" || to === "completed") && task.unmet_deps > 0) {
    const blockedBy = toTasks(sql, [task])[0].blocked_by;
    throw failedPrecondition(`task ${task.id} depends on unfinished task ${blockedBy.join(", ")}`);
  }
  const row = sql
    .exec<TaskRow>(
      `UPDATE tasks SET status = ?, result = ?, error = ?, updated_at = ?,
         started_at = ?, completed_at = ?, attempt = ?, assigned_to = ?, ${LEASE_CLEARED}
       WHERE id = ? RETURNING *`,
      to,
      change.result ?? task.result,
      change.error ?? task.error,
      now,
      to === "in_progress" ? now : task.started_at,
      to === "completed" ? now : task.completed_at,
      to === "in_progress" ? task.attempt + 1 : task.attempt,
      // Going back to the queue frees the task for anyone; other moves keep who worked on it.
      to === "pending" ? null : task.assigned_to,
      task.id,
    )
    .one();
  recordEvent(
    sql,
    task.id,
    {
      kind: "status_changed",
      agent_id: task.assigned_to,
      lease_id: task.lease_id,
      attempt: row.attempt,
      status: to,
      detail: `${task.status} → ${to}${change.lease_id === undefined ? "" : " by the lease holder"}`,
    },
    now,
  );
  if (to === "completed") {
    sql.exec(`UPDATE tasks SET unmet_deps = unmet_deps - 1 WHERE id IN (SELECT task_id FROM task_deps WHERE depends_on = ?)`, task.id);
  }
  if (row.goal_id !== null) refreshGoalStatus(sql, row.goal_id, now);
  return toTasks(sql, [row])[0];
}
