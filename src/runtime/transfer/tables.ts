/**
 * What an export holds: every table the schema's migrations create, with its columns in
 * declaration order, its primary key and the tables its foreign keys point at, read from the
 * database itself rather than from a list kept by hand. A table added by a later migration is
 * exported and imported without touching this code; a file from another schema version is
 * refused (import.ts), so the lists read here always describe both sides. Tables nobody's
 * migration made are not ours and never exported: SQLite's own, Cloudflare's (_cf_*), and those
 * the local runtime adds (wrangler dev keeps a __miniflare_do_name table in every object).
 */
import { MIGRATIONS } from "../kernel/schema";

/** The document's identity and version; a reader refuses anything else. */
export const EXPORT_FORMAT = "agent-runtime-export";
export const EXPORT_VERSION = 1;

/**
 * The largest file an import accepts, and so the largest export that can come back. The whole
 * document is parsed in memory inside the Durable Object (128 MB per isolate) and crosses one RPC
 * call, so it stays well below both.
 */
export const MAX_TRANSFER_BYTES = 16 * 1024 * 1024;

export type CellType = "integer" | "real" | "text";

export interface Column {
  name: string;
  type: CellType;
  notNull: boolean;
}

export interface TableInfo {
  name: string;
  columns: Column[];
  /** Primary key columns in key order; empty for a plain rowid table. */
  primaryKey: string[];
  /** The table has an AUTOINCREMENT sequence in sqlite_sequence. */
  autoincrement: boolean;
  /** Tables this one's foreign keys reference (itself excluded). */
  references: string[];
}

export interface TransferDocument {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  /** Names of the schema migrations applied, in order: the schema version of the rows. */
  migrations: string[];
  /** sqlite_sequence: the last id handed out by each AUTOINCREMENT table, by table name. */
  sequences: Record<string, number>;
  /** Every row of every table, by table name; cells in `columns` order, times as epoch ms. */
  tables: Record<string, { columns: string[]; rows: (number | string | null)[][] }>;
}

/**
 * Tables the migrations create that hold no user data: runtime_keys keeps keys an object makes
* for itself (the list cursors' HMAC key), which another instance must not take over; the
 * notification outbox and its counters are this instance's deliveries to its own NOTIFY_URL,
 * which another instance must not send again; agent_keys holds the credentials of this
 * instance's agents, which must not sign in anywhere else.
 */
const NOT_DATA = new Set(["runtime_keys", "notify_outbox", "notify_state", "agent_keys"]);

/** The tables the migrations create (schema_migrations, the migration log, is not data). */
const SCHEMA_TABLES = new Set(
  MIGRATIONS.flatMap((m) => [...m.sql.matchAll(/CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)"?/gi)].map((match) => match[1])).filter(
    (name) => !NOT_DATA.has(name),
  ),
);

function cellType(declared: string): CellType {
  const type = declared.toUpperCase();
  if (type.includes("INT")) return "integer";
  if (type.includes("REAL") || type.includes("FLOA") || type.includes("DOUB")) return "real";
  return "text";
}

/** Every data table, sorted by name (the export's order). */
export function dataTables(sql: SqlStorage): TableInfo[] {
  const names = sql
    .exec<{ name: string; sql: string }>(`SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name`)
    .toArray()
    .filter((t) => SCHEMA_TABLES.has(t.name));
  return names.map(({ name, sql: ddl }) => {
    const info = sql
      .exec<{ name: string; type: string; notnull: number; pk: number }>(`SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, name)
      .toArray();
    const references = sql
      .exec<{ table: string }>(`SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, name)
      .toArray()
      .map((r) => r.table)
      .filter((t) => t !== name);
    return {
      name,
      columns: info.map((c) => ({ name: c.name, type: cellType(c.type), notNull: c.notnull === 1 || c.pk > 0 })),
      primaryKey: info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name),
      autoincrement: /AUTOINCREMENT/i.test(ddl),
      references,
    };
  });
}

/** The migrations this database has applied, by name (numbered, so this is their order). */
export function appliedMigrations(sql: SqlStorage): string[] {
  return sql.exec<{ name: string }>(`SELECT name FROM schema_migrations ORDER BY name`).toArray().map((r) => r.name);
}

/** Tables ordered so that every table comes after the tables it references (for inserts). */
export function insertOrder(tables: TableInfo[]): TableInfo[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: TableInfo[] = [];
  const placed = new Set<string>();
  const visit = (table: TableInfo, path: Set<string>) => {
    if (placed.has(table.name) || path.has(table.name)) return;
    path.add(table.name);
    for (const ref of table.references) {
      const target = byName.get(ref);
      if (target) visit(target, path);
    }
    placed.add(table.name);
    ordered.push(table);
  };
  for (const table of tables) visit(table, new Set());
  return ordered;
}

/** The quoted identifier of a table or column name read from sqlite_master (never user input). */
export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The UTF-8 size of `text` in bytes, counted without encoding it (lone surrogates count as U+FFFD would: 3). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
