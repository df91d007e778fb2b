/**
 * Skipping (docs/tasks.md, "Skipping"): a pending task whose rule can never hold any more — it
 * waits for every dependency to complete and one was cancelled; it waits for one to complete and
 * all were cancelled; it waits for one to fail and all settled otherwise — is cancelled with an
 * error that names the dependencies and why, and a `skipped` event. Its own dependents are then
 * judged in turn, so a chain of skips runs down the graph.
 *
 * Work per call is bounded: each write skips a small batch itself and the alarm takes the rest
 * in larger ones. Until then such a task is judged `never` (readiness.ts), so it is never handed
 * out, and it shows the dependencies that settled it in `blocked_by`.
 */
import { refreshGoalStatus } from "../goals/goals";
import { LIMITS } from "../kernel/limits";
import { recordEvent } from "./history";
import { HOLD, type RunWhen, type TaskRow } from "./model";
import { dependencyMoved } from "./readiness";

interface SettledDependency extends Record<string, SqlStorageValue> {
  id: number;
  title: string;
  status: string;
}

/** Dependencies named in a reason; the rest are counted. */
const NAMED = 3;

function named(deps: SettledDependency[], what: (d: SettledDependency) => string): string {
  const shown = deps.slice(0, NAMED).map(what).join(", ");
  return deps.length > NAMED ? `${shown} and ${deps.length - NAMED} more` : shown;
}

/** Why a task whose rule can never hold is skipped, in words an agent can act on. */
export function skipReason(rule: RunWhen, deps: SettledDependency[]): string {
  const title = (d: SettledDependency) => `#${d.id} ${JSON.stringify(d.title.length > 60 ? `${d.title.slice(0, 59)}…` : d.title)}`;
  switch (rule) {
    case "all_completed": {
      const cancelled = deps.filter((d) => d.status === "cancelled");
      return `skipped: dependency ${named(cancelled, title)} was cancelled, so not every dependency can complete`;
    }
    case "any_completed":
      return `skipped: every dependency was cancelled (${named(deps, title)}), so none can complete`;
    case "any_failed":
      return `skipped: every dependency settled without failing (${named(deps, (d) => `${title(d)} ${d.status}`)}), so none can fail`;
    case "all_finished":
      // Never judged impossible: every dependency finishes one way or another.
      return "skipped";
  }
}

/**
 * Skips up to `limit` pending tasks whose rule can never hold, oldest first, following each one
 * to its dependents. Returns how many it skipped; what is left stays for the next call.
 */
export function skipDoomed(sql: SqlStorage, now: number, limit: number = LIMITS.skipsPerWrite): number {
  const goals = new Set<number>();
  let skipped = 0;
  while (skipped < limit) {
    const batch = sql
      .exec<TaskRow>(`SELECT * FROM tasks INDEXED BY tasks_doomed WHERE status = 'pending' AND hold = ${HOLD.never} ORDER BY id LIMIT ?`, limit - skipped)
      .toArray();
    if (batch.length === 0) break;
    for (const task of batch) {
      skipOne(sql, task, now);
      if (task.goal_id !== null) goals.add(task.goal_id);
      skipped++;
    }
  }
  for (const goalId of goals) refreshGoalStatus(sql, goalId, now);
  return skipped;
}

function skipOne(sql: SqlStorage, task: TaskRow, now: number): void {
  const deps = sql
    .exec<SettledDependency>(
      `SELECT t.id, t.title, t.status FROM task_deps d JOIN tasks t ON t.id = d.depends_on WHERE d.task_id = ? ORDER BY t.id`,
      task.id,
    )
    .toArray();
  const reason = skipReason(task.run_when, deps);
  sql.exec(`UPDATE tasks SET status = 'cancelled', error = ?, updated_at = ? WHERE id = ?`, reason, now, task.id);
  recordEvent(sql, task.id, { kind: "skipped", agent_id: null, lease_id: null, attempt: task.attempt, status: "cancelled", detail: reason }, now);
  dependencyMoved(sql, task.id, "pending", "cancelled", now);
}

/** Whether any task waits to be skipped (an index probe): then the alarm is due at once. */
export const anyDoomed = (sql: SqlStorage): boolean =>
  sql.exec<{ found: number }>(`SELECT EXISTS (SELECT 1 FROM tasks INDEXED BY tasks_doomed WHERE status = 'pending' AND hold = ${HOLD.never}) AS found`).one()
    .found === 1;
