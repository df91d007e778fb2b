/**
 * Owner tasks (docs/owner.md): a task with role "owner" is a decision for the person who owns the
 * instance — approve a plan, a deploy, a cost. Agents create such tasks like any other and make
 * their work depend on them, but no agent is ever handed one and no MCP call moves or edits one:
 * the owner approves it (completed, the note as its result) or rejects it (failed, the note as its
 * error, so `any_failed` dependents run) on the dashboard, where the person is proven by the owner
 * password. An agent cannot approve its own gate, nor take the gate off the work it guards.
 */
import { refreshGoalStatus } from "../goals/goals";
import { failedPrecondition, invalid, notFound } from "../kernel/errors";
import { LIMITS } from "../kernel/limits";
import { recordEvent } from "./history";
import { HOLD, OWNER_ROLE, taskRow, toTasks, type Task, type TaskRow } from "./model";
import { dependencyMoved } from "./readiness";
import { skipDoomed } from "./skip";

export const isOwnerTask = (task: Pick<TaskRow, "role">): boolean => task.role === OWNER_ROLE;

const DASHBOARD = "the owner decides it on the dashboard (Waiting for you)";

/** Refuses any MCP move or edit of an owner task. */
export function assertNotOwnerTask(task: Pick<TaskRow, "id" | "role">): void {
  if (isOwnerTask(task)) throw failedPrecondition(`task ${task.id} is the owner's decision: ${DASHBOARD}; no agent can move or edit it`);
}

/**
 * Refuses an edit that would take an undecided owner task's gate off `task`: changing the
 * dependencies or the rule of a task that waits for one.
 */
export function assertGateKept(sql: SqlStorage, task: Pick<TaskRow, "id">, what: string): void {
  const gate = sql
    .exec<{ id: number }>(
      `SELECT t.id FROM task_deps d CROSS JOIN tasks t ON t.id = d.depends_on
       WHERE d.task_id = ? AND t.role = ? AND t.status IN ('pending', 'in_progress', 'failed') ORDER BY t.id LIMIT 1`,
      task.id,
      OWNER_ROLE,
    )
    .toArray()[0];
  if (gate) {
    throw failedPrecondition(`task ${task.id} waits for the owner's decision on task ${gate.id}: its ${what} cannot change until ${DASHBOARD}`);
  }
}

export interface OwnerDecision {
  task_id: number;
  approve: boolean;
  /** The owner's note: the result of an approval, the error of a rejection. */
  note: string;
}

/** The owner approves or rejects a ready owner task (dashboard only). */
export function decideOwnerTask(sql: SqlStorage, decision: OwnerDecision, now: number): Task {
  // The note becomes the task's result or error, which every other text limit also bounds.
  if (decision.note.length > LIMITS.text) throw invalid("note", `at most ${LIMITS.text} characters`);
  const task = taskRow(sql, decision.task_id);
  if (!isOwnerTask(task)) throw notFound(`task ${task.id} is not an owner task`);
  if (task.status !== "pending") throw failedPrecondition(`task ${task.id} is ${task.status}: it was decided already`);
  if (task.hold !== HOLD.ready) throw failedPrecondition(`task ${task.id} is not ready for a decision yet`);
  const to = decision.approve ? "completed" : "failed";
  sql.exec(
    `UPDATE tasks SET status = ?, result = ?, error = ?, completed_at = ?, updated_at = ? WHERE id = ?`,
    to,
    decision.approve ? decision.note : task.result,
    decision.approve ? task.error : decision.note,
    decision.approve ? now : null,
    now,
    task.id,
  );
  const quoted = decision.note ? `: ${JSON.stringify(decision.note.length > 200 ? `${decision.note.slice(0, 199)}…` : decision.note)}` : "";
  recordEvent(
    sql,
    task.id,
    {
      kind: decision.approve ? "approved" : "rejected",
      agent_id: null,
      lease_id: null,
      attempt: task.attempt,
      status: to,
      detail: `${decision.approve ? "approved" : "rejected"} by owner${quoted}`,
    },
    now,
  );
  dependencyMoved(sql, task.id, "pending", to, now);
  skipDoomed(sql, now);
  if (task.goal_id !== null) refreshGoalStatus(sql, task.goal_id, now);
  return toTasks(sql, [taskRow(sql, task.id)])[0];
}

/** Ready owner tasks, oldest first (the dashboard's "Waiting for you"), at most `limit`. */
export function readyOwnerTasks(sql: SqlStorage, limit: number): Task[] {
  const rows = sql
    .exec<TaskRow>(`SELECT * FROM tasks INDEXED BY tasks_ready WHERE role = ? AND status = 'pending' AND hold = ${HOLD.ready} ORDER BY id LIMIT ?`, OWNER_ROLE, limit)
    .toArray();
  return toTasks(sql, rows);
}

/** How many owner tasks wait for a decision (the count in the dashboard's navigation). */
export const waitingForOwner = (sql: SqlStorage): number =>
  sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tasks INDEXED BY tasks_ready WHERE role = ? AND status = 'pending' AND hold = ${HOLD.ready}`, OWNER_ROLE).one().n;
