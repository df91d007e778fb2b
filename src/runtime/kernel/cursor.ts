/**
 * List cursors (docs/lists.md): an opaque token saying where the next page of one list starts.
 * It carries the *keyset position* of the last item handed out (an id, a sequence number, an
 * agent id), never an offset, so items added during a walk never shift the pages. An HMAC binds
 * it to its list, its filter and the Durable Object that issued it, under a random key kept in
 * that object's SQLite: a cursor that was altered, or that comes from another list, another
 * filter or another user, is refused with invalid_argument instead of silently starting
 * somewhere else.
 *
 *   cursor = base64url(JSON position) "." base64url(HMAC-SHA256(key, scope "\n" payload))[0..16)
 *
 * A position is not a secret and not a capability (it is only ever applied to the data of the
 * object that issued it); the MAC is there so that a wrong cursor is an error, not a wrong page.
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import { invalid } from "./errors";

/** Where a page ends in its list's order: the sort key of its last item. */
export type Position = number | string;

/** Characters of the MAC kept in a cursor (96 bits). */
const MAC_CHARS = 16;
/** Longer input is not a cursor this module issued (a position is at most an agent id). */
export const CURSOR_MAX_CHARS = 1_000;
/**
 * The shape of every cursor `issue` makes: base64url, a dot, the MAC. Checked first, so that the
 * comparison below only ever sees two ASCII MACs of the same byte length (a MAC of non-ASCII
 * characters would be longer in bytes, and timingSafeEqual throws on unequal lengths).
 */
const ISSUED = new RegExp(`^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{${MAC_CHARS}}$`);

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url");

/**
 * What a cursor is bound to besides the object's key: the list and its filter, in a canonical
 * form (keys sorted, absent values left out), e.g. `tasks {"goal_id":3}`.
 */
export function listScope(list: string, filter: Record<string, string | number | boolean | null | undefined> = {}): string {
  const entries = Object.entries(filter)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${list} ${JSON.stringify(Object.fromEntries(entries))}`;
}

/** Issues and opens the cursors of one Durable Object, under its key. */
export class Cursors {
  #key: Uint8Array | null = null;

  /** `key` is read on first use (it lives in the object's SQLite: see `cursorKey`). */
  constructor(private readonly loadKey: () => ArrayBuffer) {}

  issue(scope: string, position: Position): string {
    const payload = base64url(new TextEncoder().encode(JSON.stringify(position)));
    return `${payload}.${this.mac(scope, payload)}`;
  }

  /** The position a cursor stands for; invalid_argument for anything this object did not issue for `scope`. */
  open(scope: string, cursor: string): Position {
    const refused = () => invalid("cursor", "not a next_cursor of this list with these filters; start again without cursor");
    if (cursor.length > CURSOR_MAX_CHARS || !ISSUED.test(cursor)) throw refused();
    const [payload, mac] = cursor.split(".");
    if (!timingSafeEqual(Buffer.from(mac), Buffer.from(this.mac(scope, payload)))) throw refused();
    const position: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    if (typeof position !== "number" && typeof position !== "string") throw refused();
    return position;
  }

  private mac(scope: string, payload: string): string {
    this.#key ??= new Uint8Array(this.loadKey());
    return createHmac("sha256", this.#key).update(`${scope}\n${payload}`).digest("base64url").slice(0, MAC_CHARS);
  }
}

/**
 * The object's cursor key: 32 random bytes, made on first use and kept (table `runtime_keys`), so
 * cursors stay valid across restarts and are worthless in any other object. Call it inside a
 * transaction: the first call writes.
 */
export function cursorKey(sql: SqlStorage): ArrayBuffer {
  const stored = sql.exec<{ value: ArrayBuffer }>(`SELECT value FROM runtime_keys WHERE name = 'cursor'`).toArray()[0];
  if (stored) return stored.value;
  const key = crypto.getRandomValues(new Uint8Array(32));
  sql.exec(`INSERT INTO runtime_keys (name, value) VALUES ('cursor', ?)`, key.buffer);
  return key.buffer;
}
