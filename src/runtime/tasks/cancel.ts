/**
 * Cancelling a goal: the goal becomes `cancelled` and takes no new tasks, and every task of it
 * that is not finished (pending, in_progress, failed) is cancelled — owner tasks included: there
 * is nothing left to decide. Completed tasks stay completed. Tasks of other goals that waited for
 * the cancelled ones are judged again (they may run, or be skipped). Cancelling twice changes
 * nothing more.
 *
 * It writes exactly what cancelling each task by hand with `update_task_status` writes (a test
 * holds it to that), but set-based: a constant number of statements whatever the goal's size, so
 * a goal of tens of thousands of tasks is cancelled well inside the CPU limit. Each cancelled task
 * gets its `status_changed` event, its lease ends (a late report is refused as for any cancelled
 * task), and its history stays bounded. Like a manual cancel, it leaves breaker probes alone: a
 * HALF_OPEN agent's probe on a cancelled task is resolved by the agent's report or its deadline.
 */
import { getGoal, markGoalCancelled, type Goal } from "../goals/goals";
import { LIMITS } from "../kernel/limits";
import { LEASE_CLEARED } from "./model";
import { rejudge } from "./readiness";
import { skipDoomed } from "./skip";

/** The statuses a goal's cancel moves to `cancelled` (each may move there: TRANSITIONS). */
const OPEN = `status IN ('pending', 'in_progress', 'failed')`;

export function cancelGoal(sql: SqlStorage, goalId: number, reason: string | undefined, now: number): Goal {
  markGoalCancelled(sql, goalId, now);
  const error = `goal ${goalId} was cancelled${reason ? `: ${reason}` : ""}`.slice(0, LIMITS.text);
  // Dependents' counters first, while the statuses still show what is being cancelled: one
  // statement for all of them, as dependencyMoved does for one task (readiness.ts).
  // The dependents are found from the goal's tasks; each one's count from its own edges (CROSS
  // JOIN keeps task_deps the outer loop: otherwise each dependent walks the whole goal).
  const ofDependent = `FROM task_deps d CROSS JOIN tasks t ON t.id = d.depends_on WHERE d.task_id = tasks.id AND t.goal_id = ?1 AND t.${OPEN}`;
  sql.exec(
    `UPDATE tasks SET
       cancelled_deps = cancelled_deps + (SELECT count(*) ${ofDependent}),
       failed_deps = failed_deps - (SELECT count(*) ${ofDependent} AND t.status = 'failed')
     WHERE id IN (SELECT d.task_id FROM tasks t JOIN task_deps d ON d.depends_on = t.id WHERE t.goal_id = ?1 AND t.${OPEN})`,
    goalId,
  );
  // The history first, while each row still shows who held it under which lease.
  sql.exec(
    `INSERT INTO task_events (task_id, at, kind, agent_id, lease_id, attempt, status, detail)
     SELECT id, ?, 'status_changed', assigned_to, lease_id, attempt, 'cancelled', status || ' → cancelled'
     FROM tasks WHERE goal_id = ? AND ${OPEN} ORDER BY id`,
    now,
    goalId,
  );
  // Result, attempt, assigned_to and started_at stay, as in a manual move to cancelled.
  sql.exec(`UPDATE tasks SET status = 'cancelled', error = ?, updated_at = ?, ${LEASE_CLEARED} WHERE goal_id = ? AND ${OPEN}`, error, now, goalId);
  // Each task keeps its newest LIMITS.taskEvents events (recordEvent's bound), for all of them at once.
  sql.exec(
    `DELETE FROM task_events WHERE id IN (
       SELECT id FROM (
         SELECT e.id, row_number() OVER (PARTITION BY e.task_id ORDER BY e.id DESC) AS newer
         FROM task_events e JOIN tasks t ON t.id = e.task_id
         WHERE t.goal_id = ? AND t.status = 'cancelled' AND t.updated_at = ?)
       WHERE newer > ?)`,
    goalId,
    now,
    LIMITS.taskEvents,
  );
  // Tasks of other goals that waited for these are judged again: ready (all_finished), or skipped.
  rejudge(
    sql,
    `id IN (SELECT d.task_id FROM task_deps d JOIN tasks t ON t.id = d.depends_on WHERE t.goal_id = ?2 AND t.status = 'cancelled' AND t.updated_at = ?1)`,
    [goalId],
    now,
  );
  skipDoomed(sql, now);
  return getGoal(sql, goalId);
}
