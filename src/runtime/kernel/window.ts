/**
 * A window onto a list for a page that shows where it is: up to `limit` items newest first below a
 * key, how many there are in all, how many are newer, and where the newer and older windows
 * start. Keyset like every list here (kernel/page.ts): a window stays the same items while new
 * ones are added, so a page that refreshes itself does not shift under its reader.
 */

export interface ListWindow<T> {
  items: T[];
  /** Items in the whole list. */
  total: number;
  /** Items newer than this window (its first item is number `newer + 1`). */
  newer: number;
  /** The key below which the next older window starts, or null at the end. */
  olderBefore: number | null;
  /** Where the next newer window starts: a key, `"start"` for the newest window, or null when this is it. */
  newerBefore: number | "start" | null;
}

/** The list: a table and its integer key, newest first. */
export interface WindowSource {
  table: string;
  key: string;
}

/**
 * The window below `before` (null: the newest). `read` answers up to `limit` items with keys below
 * `before`, newest first, each with its key.
 */
export function windowOf<T>(
  sql: SqlStorage,
  source: WindowSource,
  before: number | null,
  limit: number,
  read: (before: number, limit: number) => { key: number; item: T }[],
): ListWindow<T> {
  const below = before ?? Number.MAX_SAFE_INTEGER;
  const rows = read(below, limit + 1);
  const count = (where: string, ...params: SqlStorageValue[]) =>
    sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${source.table} ${where}`, ...params).one().n;
  const newer = before === null ? 0 : count(`WHERE ${source.key} >= ?`, below);
  const items = rows.slice(0, limit);
  return {
    items: items.map((r) => r.item),
    total: count(""),
    newer,
    olderBefore: rows.length > limit ? items[items.length - 1].key : null,
    newerBefore: newer === 0 ? null : newer <= limit ? "start" : newerStart(sql, source, below, limit),
  };
}

/** The key that the window of the `limit` items just above `below` starts under. */
function newerStart(sql: SqlStorage, source: WindowSource, below: number, limit: number): number {
  const top = sql
    .exec<{ key: number }>(`SELECT ${source.key} AS key FROM ${source.table} WHERE ${source.key} >= ? ORDER BY ${source.key} LIMIT 1 OFFSET ?`, below, limit - 1)
    .one().key;
  return top + 1;
}
