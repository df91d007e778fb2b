/**
 * Import: writes an export document (export.ts) into an empty Runtime, ids and all — only if the
 * runtime itself could have written it.
 *
 * Everything that can be checked on the document is checked before the first row is written: the
 * format and version, the schema version (the applied migrations must be exactly this instance's),
 * that the instance is empty, that the document names exactly this schema's tables and columns,
 * the type of every cell, and then every cell and row against the domains' integrity rules
 * (verify.ts, rules.ts). The rows are inserted parents first (foreign keys are enforced), the
 * AUTOINCREMENT sequences set to the document's so new ids continue after the imported ones, and
 * the rules that need every row (derived columns recomputed and compared, cycles, a goal's status
 * against its tasks…) are checked last, in the same transaction: the caller runs all of this in
 * one, so any refusal rolls back every row already written. Refused → nothing changed.
 */
import { DomainError, exhausted, failedPrecondition, invalid } from "../kernel/errors";
import { INTEGRITY_RULES } from "./rules";
import {
  appliedMigrations,
  dataTables,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  ident,
  insertOrder,
  MAX_TRANSFER_BYTES,
  utf8Length,
  type Column,
  type TableInfo,
  type TransferDocument,
} from "./tables";
import { checkAcross, checkRows, rulesFor } from "./verify";

export interface ImportSummary {
  /** Rows written, by table name. */
  rows: Record<string, number>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The text of an upload as a document, or invalid_argument saying why not. */
export function parseDocument(text: string): unknown {
  if (utf8Length(text) > MAX_TRANSFER_BYTES) throw exhausted(`the file is larger than the ${MAX_TRANSFER_BYTES / 2 ** 20} MiB an import accepts`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid("file", `is not JSON (${(error as Error).message})`);
  }
}

function checkCell(value: unknown, column: Column, where: string): void {
  if (value === null) {
    if (column.notNull) throw invalid("file", `${where}: ${column.name} may not be null`);
    return;
  }
  const ok =
    column.type === "text"
      ? typeof value === "string"
      : column.type === "integer"
        ? Number.isSafeInteger(value)
        : typeof value === "number" && Number.isFinite(value);
  if (!ok) throw invalid("file", `${where}: ${column.name} must be ${column.type === "text" ? "a string" : `a${column.type === "integer" ? "n integer" : " number"}`}`);
}

/** Checks the document against this database; returns it typed, or throws invalid_argument. */
function validate(sql: SqlStorage, doc: unknown, tables: TableInfo[]): TransferDocument {
  if (!isObject(doc) || doc.format !== EXPORT_FORMAT) {
    throw invalid("file", `is not an Agent Runtime export (expected "format": "${EXPORT_FORMAT}")`);
  }
  if (doc.version !== EXPORT_VERSION) throw invalid("file", `has export version ${JSON.stringify(doc.version)}; this instance reads version ${EXPORT_VERSION}`);
  const here = appliedMigrations(sql);
  if (!Array.isArray(doc.migrations) || !sameList(doc.migrations as string[], here)) {
    throw failedPrecondition(
      `the file comes from another schema version (migrations ${JSON.stringify(doc.migrations)}); this instance has ${JSON.stringify(here)}`);
  }
  if (!isObject(doc.tables)) throw invalid("file", `"tables" must be an object`);
  const expected = tables.map((t) => t.name);
  const given = Object.keys(doc.tables).sort();
  if (!sameList(given, expected)) {
    throw invalid("file", `has tables ${JSON.stringify(given)}; this schema has ${JSON.stringify(expected)}`);
  }
  for (const table of tables) {
    const entry = doc.tables[table.name];
    const columns = table.columns.map((c) => c.name);
    if (!isObject(entry) || !Array.isArray(entry.columns) || !sameList(entry.columns as string[], columns)) {
      throw invalid("file", `table ${table.name} must have the columns ${JSON.stringify(columns)}`);
    }
    if (!Array.isArray(entry.rows)) throw invalid("file", `table ${table.name}: "rows" must be an array`);
    entry.rows.forEach((row: unknown, index: number) => {
      const where = `table ${table.name}, row ${index + 1}`;
      if (!Array.isArray(row) || row.length !== columns.length) throw invalid("file", `${where}: must be an array of ${columns.length} cells`);
      table.columns.forEach((column, i) => checkCell(row[i], column, where));
    });
  }
  if (!isObject(doc.sequences)) throw invalid("file", `"sequences" must be an object`);
  const counted = new Set(tables.filter((t) => t.autoincrement).map((t) => t.name));
  for (const [name, seq] of Object.entries(doc.sequences)) {
    if (!counted.has(name)) throw invalid("file", `sequences: ${name} is not an AUTOINCREMENT table of this schema`);
    if (!Number.isSafeInteger(seq) || (seq as number) < 0) throw invalid("file", `sequences: ${name} must be a non-negative integer`);
  }
  return doc as unknown as TransferDocument;
}

/** Refuses unless every data table is empty. */
function assertEmpty(sql: SqlStorage, tables: TableInfo[]): void {
  const held = tables
    .map((t) => ({ name: t.name, n: sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${ident(t.name)}`).one().n }))
    .filter((t) => t.n > 0);
  if (held.length > 0) {
    const what = held.map((t) => `${t.n} ${t.name}`).join(", ");
    throw failedPrecondition(`this instance is not empty (${what}); an import only goes into an empty instance`);
  }
}

/** Writes the document; call inside a transaction (the Runtime's write()). */
export function importDocument(sql: SqlStorage, input: unknown): ImportSummary {
  const tables = dataTables(sql);
  assertEmpty(sql, tables);
  const doc = validate(sql, input, tables);
  const rules = rulesFor(tables, INTEGRITY_RULES);
  checkRows(doc, tables, rules);
  const rows: Record<string, number> = {};
  for (const table of insertOrder(tables)) {
    const { columns, rows: cells } = doc.tables[table.name];
    const insert = `INSERT INTO ${ident(table.name)} (${columns.map(ident).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`;
    cells.forEach((row, index) => {
      try {
        sql.exec(insert, ...row);
      } catch (error) {
        if (error instanceof DomainError) throw error;
        throw invalid("file", `table ${table.name}, row ${index + 1} does not fit: ${(error as Error).message}`);
      }
    });
    rows[table.name] = cells.length;
  }
  // Inserting explicit ids moved each sequence to its table's largest id; the document's own
  // values win (they may be higher: ids of rows pruned since, which must never be reused).
  for (const [name, seq] of Object.entries(doc.sequences)) {
    const largest = sql.exec<{ seq: number | null }>(`SELECT seq FROM sqlite_sequence WHERE name = ?`, name).toArray()[0]?.seq ?? 0;
    if (seq < largest) throw invalid("file", `sequences: ${name} is ${seq}, below the largest id in the table (${largest})`);
    sql.exec(`DELETE FROM sqlite_sequence WHERE name = ?`, name);
    sql.exec(`INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)`, name, seq);
  }
  checkAcross(sql, doc, tables, rules);
  return { rows };
}
