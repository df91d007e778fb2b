/** Small conversions between SQLite rows and the JSON the product speaks, and shared row chores. */

export const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

export type JsonObject = Record<string, unknown>;

export const parseObject = (text: string | null): JsonObject => (text ? (JSON.parse(text) as JsonObject) : {});

/** Binds a user-sized id list as ONE parameter (`IN (SELECT value FROM json_each(?))`): a
 * statement takes at most 100 bound parameters, a JSON array any number of ids. */
export const idList = (ids: readonly (number | string)[]): string => JSON.stringify(ids);

export function randomToken(length: number): string {
  // RFC 4648 base32 alphabet, lower case: readable, URL-safe, no ambiguous padding.
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b & 31]).join("");
}

/** The append-only logs that keep only their newest rows per owner (a task, a breaker). */
export type BoundedLog = { table: "task_events"; owner: "task_id" } | { table: "breaker_events" | "breaker_failures"; owner: "agent_id" };

/** Deletes all but the newest `keep` rows (by id) of one owner in a bounded log. */
export function keepNewest(sql: SqlStorage, log: BoundedLog, ownerId: SqlStorageValue, keep: number): void {
  sql.exec(
    `DELETE FROM ${log.table} WHERE ${log.owner} = ? AND id < (
       SELECT min(id) FROM (SELECT id FROM ${log.table} WHERE ${log.owner} = ? ORDER BY id DESC LIMIT ?))`,
    ownerId,
    ownerId,
    keep,
  );
}

/**
 * The bounds of the strings that start with `prefix`, for an indexed range scan
 * (`col >= lo AND col < hi`). SQLite compares TEXT bytewise as UTF-8 and U+10FFFF is the largest
 * character, so `prefix + U+10FFFF` is above every string that starts with `prefix` (except one
 * that continues with U+10FFFF itself, a noncharacter no id uses).
 */
export const prefixRange = (prefix: string): [lo: string, hi: string] => [prefix, `${prefix}\u{10FFFF}`];
