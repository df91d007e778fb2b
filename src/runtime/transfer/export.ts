/**
 * Export: every row of every table of one Runtime as one JSON document (tables.ts describes it).
 *
 * The text is deterministic: tables by name, rows by primary key, cells in column order, one row
 * per line, and nothing that changes between two exports of the same data (no export time). So
 * export → import → export gives the same bytes, and two exports can be compared with diff.
 * One synchronous pass inside the Durable Object, so the snapshot is consistent.
 *
 * Memory is bounded by the limit, not by the database: rows are read one at a time from the
 * cursor and written as lines whose bytes are counted as they go, and the export is refused the
 * moment it passes what an import accepts — a file that cannot come back is not a backup.
 */
import { exhausted } from "../kernel/errors";
import { appliedMigrations, dataTables, EXPORT_FORMAT, EXPORT_VERSION, ident, MAX_TRANSFER_BYTES, utf8Length } from "./tables";

/** The lines of the file, refused as soon as they pass `limit` bytes. */
class BoundedText {
  private readonly parts: string[] = [];
  private bytes = 0;

  constructor(private readonly limit: number) {}

  add(part: string, where: string): void {
    this.bytes += utf8Length(part);
    if (this.bytes > this.limit) {
      throw exhausted(`the export is larger than the ${this.limit / 2 ** 20} MiB an import accepts (the limit was passed in ${where})`);
    }
    this.parts.push(part);
  }

  text(): string {
    return this.parts.join("");
  }
}

/** The export file's text, or resource_exhausted once it would pass `limit` bytes. */
export function exportText(sql: SqlStorage, limit: number = MAX_TRANSFER_BYTES): string {
  const out = new BoundedText(limit);
  const sequences = sql
    .exec<{ name: string; seq: number }>(`SELECT name, seq FROM sqlite_sequence ORDER BY name`)
    .toArray()
    .map((row) => `${JSON.stringify(row.name)}: ${row.seq}`)
    .join(", ");
  out.add(
    [
      "{",
      `  "format": ${JSON.stringify(EXPORT_FORMAT)},`,
      `  "version": ${EXPORT_VERSION},`,
      `  "migrations": ${JSON.stringify(appliedMigrations(sql))},`,
      `  "sequences": {${sequences}},`,
      `  "tables": {`,
    ].join("\n"),
    "the header",
  );
  const tables = dataTables(sql);
  tables.forEach((table, t) => {
    const columns = table.columns.map((c) => c.name);
    const order = table.primaryKey.length > 0 ? table.primaryKey.map(ident).join(", ") : "rowid";
    out.add(`${t === 0 ? "\n" : ",\n"}    ${JSON.stringify(table.name)}: {\n      "columns": ${JSON.stringify(columns)},\n      "rows": [`, table.name);
    let first = true;
    for (const row of sql.exec(`SELECT ${columns.map(ident).join(", ")} FROM ${ident(table.name)} ORDER BY ${order}`).raw()) {
      out.add(`${first ? "\n" : ",\n"}      ${JSON.stringify(row)}`, table.name);
      first = false;
    }
    out.add(`${first ? "" : "\n    "}]\n    }`, table.name);
  });
  out.add(`${tables.length > 0 ? "\n  " : ""}}\n}\n`, "the end");
  return out.text();
}
