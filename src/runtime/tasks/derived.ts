/**
 * What the task queue derives from other data and stores for speed: `unmet_deps`, the number of
 * a task's dependencies not yet completed (the ready queue is an index over it). The queue keeps
 * it up to date write by write (queue.ts, status.ts, edit.ts); this recomputes it from the edges
 * and the dependencies' statuses, for every task at once, for whatever must not trust a stored
 * value (an import: src/runtime/transfer/).
 */
export function recomputeDerived(sql: SqlStorage): void {
  sql.exec(
    `UPDATE tasks SET unmet_deps = (
       SELECT count(*) FROM task_deps d JOIN tasks dep ON dep.id = d.depends_on
       WHERE d.task_id = tasks.id AND dep.status != 'completed')`,
  );
}
