/**
 * What the relay derives from other data and stores: a pipeline's `tokens_used`, the sum of its
 * steps' (machine.ts adds each report to both). Recomputed here for every pipeline at once, for
 * whatever must not trust a stored value (an import: src/runtime/transfer/).
 */
export function recomputeDerived(sql: SqlStorage): void {
  sql.exec(`UPDATE pipelines SET tokens_used = (SELECT coalesce(sum(tokens_used), 0) FROM relay_steps WHERE pipeline_id = pipelines.id)`);
}
