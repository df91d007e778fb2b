/**
 * What an agent signed in with its own key (docs/security.md, "Agent keys") may not do to another
 * agent's work: move a task that another agent holds under a lease. Quoting that lease is the
 * one way past it (the lease is the holder's proof); the owner, signed in with OAuth or on the
 * dashboard, is not an acting agent and is not checked. Checked inside the write's own
 * transaction, so no claim can slip between the check and the move.
 */
import { conflict } from "../kernel/errors";
import type { TaskRow } from "./model";

/** Refuses (conflict) when `task` is held by an agent other than `agentId` under a lease. */
export function assertNotHeldByAnother(task: TaskRow, agentId: string): void {
  if (task.status === "in_progress" && task.lease_id !== null && task.assigned_to !== agentId) {
    throw conflict(`task ${task.id} is held by ${task.assigned_to} under a lease: only its holder moves it, quoting lease_id`);
  }
}

/** The same for every task of a goal (cancelling a goal moves them all). */
export function assertGoalNotHeldByOthers(sql: SqlStorage, goalId: number, agentId: string): void {
  const held = sql
    .exec<TaskRow>(
      `SELECT * FROM tasks WHERE goal_id = ? AND status = 'in_progress' AND lease_id IS NOT NULL AND assigned_to IS NOT ? LIMIT 1`,
      goalId,
      agentId,
    )
    .toArray()[0];
  if (held) assertNotHeldByAnother(held, agentId);
}
