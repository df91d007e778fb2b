/**
 * One page of a list (docs/lists.md): the items after the cursor's position, at most `limit` of
 * them and at most `PAGE_BYTES[view]` bytes of JSON, with the cursor of the next page (null at the
 * end). Lists are keyset-paged: a page ends at the sort key of its last item and the next one
 * starts after it, so a walk over all pages returns every item that existed when it began exactly
 * once, whatever is added meanwhile.
 */
import { listScope, type Cursors, type Position } from "./cursor";

/** "brief": what an agent scanning a list needs, empty values left out; "full": the whole objects. */
export const VIEWS = ["brief", "full"] as const;
export type View = (typeof VIEWS)[number];

/** The items of one page take at most this many bytes of JSON; a page ended by it says `truncated`. */
export const PAGE_BYTES: Record<View, number> = { brief: 64 * 1024, full: 256 * 1024 };

/** Rows read by a page's first query; later reads are sized by the bytes left, so a page of large
 * items reads little more than it shows. */
const FIRST_READ: Record<View, number> = { brief: 128, full: 16 };

/** The item type of a view. */
export type Viewed<V extends View, Brief, Full> = V extends "brief" ? Brief : Full;

export interface PageQuery<V extends View = View> {
  /** At most this many items (1..500). */
  limit: number;
  /** The `next_cursor` of the previous page; absent: from the start. */
  cursor?: string;
  /** Default "full" for Runtime callers; the tools default to "brief". */
  view?: V;
}

export interface Page<T> {
  items: T[];
  /** Where the next page starts; null when this page ends the list. */
  next_cursor: string | null;
  /** Present when the byte bound, not `limit`, ended the page. */
  truncated?: true;
}

/** An item and its sort key: what a cursor remembers, whether or not the item shows it. */
export interface Keyed<T, K extends Position> {
  key: K;
  item: T;
}

/** Reads up to `count` items after `after` (null: from the start), in the list's order. */
export type PageReader<T, K extends Position> = (after: K | null, count: number) => Keyed<T, K>[];

export const viewOf = (query: { view?: View }): View => query.view ?? "full";

const encoder = new TextEncoder();

/**
 * Collects one page from `read`, for the list and filter named by `scope` (`listScope`). Always
 * at least one item when any is left, so a walk makes progress whatever the sizes.
 */
export function readPage<T, K extends Position>(cursors: Cursors, scope: string, query: PageQuery, read: PageReader<T, K>): Page<T> {
  const view = viewOf(query);
  const maxBytes = PAGE_BYTES[view];
  // The MAC proves this cursor was issued for this scope, whose positions are K's.
  let after = query.cursor === undefined ? null : (cursors.open(scope, query.cursor) as K);
  const items: T[] = [];
  let bytes = 0;
  let last: K | null = null;
  let count = Math.min(query.limit + 1, FIRST_READ[view]);
  for (;;) {
    const batch = read(after, count);
    for (const { key, item } of batch) {
      if (items.length === query.limit) return { items, next_cursor: cursors.issue(scope, last!) };
      const size = encoder.encode(JSON.stringify(item)).byteLength + 1;
      if (items.length > 0 && bytes + size > maxBytes) return { items, next_cursor: cursors.issue(scope, last!), truncated: true };
      items.push(item);
      bytes += size;
      last = key;
    }
    if (batch.length < count) return { items, next_cursor: null };
    after = last;
    const left = query.limit - items.length + 1;
    count = Math.max(1, Math.min(left, Math.ceil((maxBytes - bytes) / (bytes / items.length)) + 1));
  }
}

/** A table read in keyset order: where a list's rows come from. Names are the code's, never input. */
export interface KeysetTable {
  table: string;
  /** The sort key, unique: an id, a sequence number, an agent id. */
  key: string;
  /** Newest first: the key descending. */
  descending?: boolean;
  /** Equality filters; undefined ones are left out, null ones match NULL. */
  filter?: Record<string, string | number | null | undefined>;
}

/** The list's scope for its cursors: the table and its filter. */
export const scopeOf = (source: KeysetTable): string => listScope(source.table, source.filter);

/** Up to `count` rows of `columns` after `after` in the table's key order (an index range scan). */
export function keysetRows<R extends Record<string, SqlStorageValue>>(
  sql: SqlStorage,
  source: KeysetTable,
  columns: string,
  after: SqlStorageValue | null,
  count: number,
): R[] {
  const where: string[] = [];
  const params: SqlStorageValue[] = [];
  for (const [column, value] of Object.entries(source.filter ?? {})) {
    if (value === undefined) continue;
    if (value === null) {
      where.push(`${column} IS NULL`);
      continue;
    }
    where.push(`${column} = ?`);
    params.push(value);
  }
  if (after !== null) {
    where.push(`${source.key} ${source.descending ? "<" : ">"} ?`);
    params.push(after);
  }
  const clause = where.length ? `WHERE ${where.join(" AND ")}` : "";
  const order = `${source.key} ${source.descending ? "DESC" : "ASC"}`;
  return sql.exec<R>(`SELECT ${columns} FROM ${source.table} ${clause} ORDER BY ${order} LIMIT ?`, ...params, count).toArray();
}
