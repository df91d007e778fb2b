/**
 * Wiping an instance: every row of every data table (tables.ts) and their id sequences go, so
 * that an import can be made again. The object's own keys (the list cursors' HMAC key) and the
 * migration log stay: they are not data. Dependents before what they reference, in one
 * transaction (the caller's): nothing or everything.
 */
import { dataTables, ident, insertOrder } from "./tables";

export interface WipeSummary {
  /** Rows removed, by table name. */
  rows: Record<string, number>;
}

export function wipeAll(sql: SqlStorage): WipeSummary {
  const rows: Record<string, number> = {};
  for (const table of insertOrder(dataTables(sql)).reverse()) {
    rows[table.name] = sql.exec(`DELETE FROM ${ident(table.name)}`).rowsWritten;
    if (table.autoincrement) sql.exec(`DELETE FROM sqlite_sequence WHERE name = ?`, table.name);
  }
  return { rows };
}
