/**
 * Export: every row of every table of one Runtime as one JSON document (tables.ts describes it).
 *
 * The text is deterministic: tables by name, rows by primary key, cells in column order, one row
 * per line, and nothing that changes between two exports of the same data (no export time). So
 * export → import → export gives the same bytes, and two exports can be compared with diff.
 * One synchronous pass inside the Durable Object, so the snapshot is consistent.
 */
import { exhausted } from "../kernel/errors";
import {
  appliedMigrations,
  dataTables,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  ident,
  MAX_TRANSFER_BYTES,
  type TransferDocument,
} from "./tables";

/** The document as an object (what import.ts validates, and what tests compare). */
export function exportDocument(sql: SqlStorage): TransferDocument {
  const tables: TransferDocument["tables"] = {};
  for (const table of dataTables(sql)) {
    const columns = table.columns.map((c) => c.name);
    const order = table.primaryKey.length > 0 ? table.primaryKey.map(ident).join(", ") : "rowid";
    const cursor = sql.exec(`SELECT ${columns.map(ident).join(", ")} FROM ${ident(table.name)} ORDER BY ${order}`);
    const rows = [...cursor.raw()] as (number | string | null)[][];
    tables[table.name] = { columns, rows };
  }
  const sequences: Record<string, number> = {};
  for (const row of sql.exec<{ name: string; seq: number }>(`SELECT name, seq FROM sqlite_sequence ORDER BY name`)) {
    sequences[row.name] = row.seq;
  }
  return { format: EXPORT_FORMAT, version: EXPORT_VERSION, migrations: appliedMigrations(sql), sequences, tables };
}

/** The document as the text of the download: stable, one row per line. */
export function serializeDocument(doc: TransferDocument): string {
  const tableNames = Object.keys(doc.tables).sort();
  const tables = tableNames.map((name) => {
    const { columns, rows } = doc.tables[name];
    const body = rows.map((row) => `      ${JSON.stringify(row)}`).join(",\n");
    return `    ${JSON.stringify(name)}: {\n      "columns": ${JSON.stringify(columns)},\n      "rows": [${rows.length ? `\n${body}\n    ` : ""}]\n    }`;
  });
  const sequences = Object.keys(doc.sequences)
    .sort()
    .map((name) => `${JSON.stringify(name)}: ${doc.sequences[name]}`)
    .join(", ");
  return [
    "{",
    `  "format": ${JSON.stringify(doc.format)},`,
    `  "version": ${doc.version},`,
    `  "migrations": ${JSON.stringify(doc.migrations)},`,
    `  "sequences": {${sequences}},`,
    `  "tables": {${tables.length ? `\n${tables.join(",\n")}\n  ` : ""}}`,
    "}",
    "",
  ].join("\n");
}

/**
 * The export file's text. Refused when it would be larger than an import accepts: a file that
 * cannot come back is not a backup.
 */
export function exportText(sql: SqlStorage): string {
  const text = serializeDocument(exportDocument(sql));
  const bytes = new TextEncoder().encode(text).byteLength;
  if (bytes > MAX_TRANSFER_BYTES) {
    throw exhausted(
      `the export would be ${(bytes / 2 ** 20).toFixed(1)} MiB, more than the ${MAX_TRANSFER_BYTES / 2 ** 20} MiB an import accepts`,
    );
  }
  return text;
}
