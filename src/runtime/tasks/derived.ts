/**
 * What the task queue derives from other data and stores for speed (readiness.ts): a task's
 * counters of its dependencies by outcome (`dep_count`, `unmet_deps`, `failed_deps`,
 * `cancelled_deps`) and its judgement `hold`, over which the ready queue is an index. The queue
 * keeps them up to date write by write; this recomputes them from the edges and the
 * dependencies' statuses, for every task at once, for whatever must not trust a stored value (an
 * import: src/runtime/transfer/).
 */
import { rejudgeAll } from "./readiness";

export function recomputeDerived(sql: SqlStorage): void {
  // CROSS JOIN keeps task_deps the outer loop (its key starts with task_id): left to itself, the
  // planner may walk every task of a status for each row, quadratic in the table.
  const count = (condition: string) =>
    `(SELECT count(*) FROM task_deps d CROSS JOIN tasks dep ON dep.id = d.depends_on WHERE d.task_id = tasks.id AND ${condition})`;
  sql.exec(
    `UPDATE tasks SET dep_count = ${count("1")}, unmet_deps = ${count("dep.status != 'completed'")},
       failed_deps = ${count("dep.status = 'failed'")}, cancelled_deps = ${count("dep.status = 'cancelled'")}`,
  );
  rejudgeAll(sql, Date.now());
}
