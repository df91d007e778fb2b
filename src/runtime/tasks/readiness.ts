/**
 * Readiness (docs/tasks.md, "When a task may run"). Each task keeps counters of its direct
 * dependencies by outcome — how many there are (`dep_count`), not completed (`unmet_deps`),
 * failed (`failed_deps`) and cancelled (`cancelled_deps`) — updated whenever one of them moves,
 * and its judgement `hold` (model.ts HOLD), recomputed from those counters, its `run_when` and
 * its `not_before`. The ready queue is then a partial index over `hold = 0`, so handing out work
 * never walks the graph, whatever the rule.
 *
 * The rule's judgement, from the counters (n dependencies, c completed, f failed, x cancelled):
 *   all_completed  holds when c = n            never when x > 0
 *   any_completed  holds when c ≥ 1            never when x = n
 *   any_failed     holds when f ≥ 1            never when c + x = n   (every one settled, none failed)
 *   all_finished   holds when c + f + x = n    never: always settles
 * A failed task is not final (it may be retried), so only cancellations and completions can make
 * a rule impossible. The SQL below is the one place this table is written down.
 */
import { enqueueNotification } from "../notify/enqueue";
import { HOLD, OWNER_ROLE, type Dependency, type Hold, type RunWhen, type TaskStatus } from "./model";

/** The judgement of a row as a SQL expression; `?1` is the time (ms) against `not_before`. */
export const HOLD_SQL = `CASE
  WHEN (run_when = 'all_completed' AND cancelled_deps > 0)
    OR (run_when = 'any_completed' AND cancelled_deps = dep_count)
    OR (run_when = 'any_failed' AND unmet_deps = cancelled_deps) THEN ${HOLD.never}
  WHEN NOT ((run_when = 'all_completed' AND unmet_deps = 0)
    OR (run_when = 'any_completed' AND unmet_deps < dep_count)
    OR (run_when = 'any_failed' AND failed_deps > 0)
    OR (run_when = 'all_finished' AND unmet_deps = failed_deps + cancelled_deps)) THEN ${HOLD.waiting}
  WHEN not_before > ?1 THEN ${HOLD.deferred}
  ELSE ${HOLD.ready} END`;

/** A task whose judgement changed. */
export interface Rejudged {
  id: number;
  goal_id: number | null;
  status: TaskStatus;
  role: string | null;
  hold: Hold;
}

export interface DependencyCounts {
  dep_count: number;
  unmet_deps: number;
  failed_deps: number;
  cancelled_deps: number;
}

export const NO_DEPENDENCIES: DependencyCounts = Object.freeze({ dep_count: 0, unmet_deps: 0, failed_deps: 0, cancelled_deps: 0 });

/** The counters of a task whose dependencies are `deps` (distinct, existing). */
export function countDependencies(deps: readonly Dependency[]): DependencyCounts {
  return {
    dep_count: deps.length,
    unmet_deps: deps.filter((d) => d.status !== "completed").length,
    failed_deps: deps.filter((d) => d.status === "failed").length,
    cancelled_deps: deps.filter((d) => d.status === "cancelled").length,
  };
}

/**
 * Re-judges the tasks `where` selects (a condition on `tasks`, its parameters numbered from ?2)
 * and returns those whose judgement changed.
 */
export function rejudge(sql: SqlStorage, where: string, params: SqlStorageValue[], now: number): Rejudged[] {
  const changes = sql
    .exec<Rejudged & Record<string, SqlStorageValue>>(
      `UPDATE tasks SET hold = ${HOLD_SQL} WHERE (${where}) AND hold != ${HOLD_SQL} RETURNING id, goal_id, status, role, hold`,
      now,
      ...params,
    )
    .toArray();
  for (const ready of changes) {
    if (ready.role === OWNER_ROLE && ready.status === "pending" && ready.hold === HOLD.ready) announceDecision(sql, ready.id, now);
  }
  return changes;
}

/** Every change of judgement passes through `rejudge`: an owner task becoming ready is told to the owner there. */
function announceDecision(sql: SqlStorage, taskId: number, now: number): void {
  const task = sql
    .exec<{ title: string; goal_id: number | null; goal_name: string | null }>(
      `SELECT t.title, t.goal_id, g.name AS goal_name FROM tasks t LEFT JOIN goals g ON g.id = t.goal_id WHERE t.id = ?`,
      taskId,
    )
    .one();
  enqueueNotification(sql, "owner_task_ready", { task_id: taskId, ...task }, now);
}

export const rejudgeTask = (sql: SqlStorage, taskId: number, now: number): Rejudged[] => rejudge(sql, "id = ?2", [taskId], now);

/**
 * Every task's judgement as it may stand at `now` (derived.ts recomputes with it). A task whose
 * not_before has passed may still be judged `deferred`: only the alarm, or a hand-out, makes it
 * ready, and either may not have run yet.
 */
export function rejudgeAll(sql: SqlStorage, now: number): void {
  sql.exec(
    `UPDATE tasks SET hold = CASE WHEN hold = ${HOLD.deferred} AND not_before IS NOT NULL AND (${HOLD_SQL}) = ${HOLD.ready} THEN ${HOLD.deferred} ELSE (${HOLD_SQL}) END`,
    now,
  );
}

/**
 * A task moved from `from` to `to`: its dependents' counters follow, and their judgement. Only
 * moves into or out of completed, failed and cancelled change a counter.
 */
export function dependencyMoved(sql: SqlStorage, taskId: number, from: TaskStatus, to: TaskStatus, now: number): Rejudged[] {
  const completed = Number(to === "completed") - Number(from === "completed");
  const failed = Number(to === "failed") - Number(from === "failed");
  const cancelled = Number(to === "cancelled") - Number(from === "cancelled");
  if (completed === 0 && failed === 0 && cancelled === 0) return [];
  sql.exec(
    `UPDATE tasks SET unmet_deps = unmet_deps - ?1, failed_deps = failed_deps + ?2, cancelled_deps = cancelled_deps + ?3
     WHERE id IN (SELECT task_id FROM task_deps WHERE depends_on = ?4)`,
    completed,
    failed,
    cancelled,
    taskId,
  );
  return rejudge(sql, "id IN (SELECT task_id FROM task_deps WHERE depends_on = ?2)", [taskId], now);
}

/** Whether `rule` could ever hold over dependencies in these states (a new or edited task). */
export function ruleCanHold(rule: RunWhen, deps: readonly Dependency[]): boolean {
  const cancelled = deps.filter((d) => d.status === "cancelled").length;
  const settled = deps.filter((d) => d.status === "completed" || d.status === "cancelled").length;
  switch (rule) {
    case "all_completed":
      return cancelled === 0;
    case "any_completed":
      return cancelled < deps.length;
    case "any_failed":
      return settled < deps.length;
    case "all_finished":
      return true;
  }
}

// ─── time: tasks that wait only for not_before ──────────────────────────────────────────────

/** The earliest not_before of a task that waits for nothing else (an index lookup), or null. */
export const nextDeferral = (sql: SqlStorage): number | null =>
  sql.exec<{ due: number | null }>(`SELECT min(not_before) AS due FROM tasks INDEXED BY tasks_deferred WHERE status = 'pending' AND hold = ${HOLD.deferred}`).one().due;

/** Makes ready at most `limit` tasks whose not_before has come, earliest first. */
export function releaseDeferred(sql: SqlStorage, now: number, limit: number): Rejudged[] {
  return rejudge(
    sql,
    `id IN (SELECT id FROM tasks INDEXED BY tasks_deferred WHERE status = 'pending' AND hold = ${HOLD.deferred} AND not_before <= ?1
            ORDER BY not_before LIMIT ?2)`,
    [limit],
    now,
  );
}
