/**
 * Checking an export against the domains' integrity rules (rules.ts; kernel/integrity.ts says what
 * a rule is), so that an import is accepted only if the runtime could have written it. In two
 * passes around the inserts of one transaction (import.ts):
 *
 *   before: each cell against its column's rule, each row against its row rules, each id
 *           sequence below the ceiling — from the document, before anything is written;
 *   after:  the rules across rows and tables (cycles, dense steps, a goal's status…) as queries,
 *           then each derived column recomputed by its domain and compared with the file's value.
 *
 * The first violation refuses the whole import, naming the table, the row (its place in the file
 * and its key) and the rule; the transaction then rolls back whatever was written.
 */
import { invalid } from "../kernel/errors";
import { ID_CEILING, type Cell, type Row, type TableRules } from "../kernel/integrity";
import { ident, type TableInfo, type TransferDocument } from "./tables";

/**
 * The rules of each data table, by name. Rules must cover exactly the tables and columns of the
 * schema: a column without a rule would be taken on trust, so a gap is a bug and throws (a plain
 * Error, never a refusal a user could act on).
 */
export function rulesFor(tables: readonly TableInfo[], all: readonly TableRules[]): Map<string, TableRules> {
  const byTable = new Map(all.map((rules) => [rules.table, rules]));
  for (const table of tables) {
    const rules = byTable.get(table.name);
    const columns = table.columns.map((c) => c.name);
    const declared = rules ? Object.keys(rules.columns) : [];
    const missing = columns.filter((c) => !declared.includes(c));
    const unknown = declared.filter((c) => !columns.includes(c));
    if (!rules || missing.length > 0 || unknown.length > 0) {
      throw new Error(
        `integrity rules out of date for table ${table.name}: ` +
          `${!rules ? "none declared" : `no rule for ${missing.join(", ") || "-"}; rules for unknown ${unknown.join(", ") || "-"}`} ` +
          `(declare them in the owning domain's integrity.ts, listed in src/runtime/transfer/rules.ts)`,
      );
    }
  }
  return byTable;
}

/** Before the inserts: every cell, every row, every sequence. */
export function checkRows(doc: TransferDocument, tables: readonly TableInfo[], rules: Map<string, TableRules>): void {
  for (const table of tables) {
    const { columns, rows } = doc.tables[table.name];
    const { columns: cellRules, rows: rowRules = [] } = rules.get(table.name)!;
    rows.forEach((cells, index) => {
      const row = asRow(columns, cells);
      for (const column of columns) {
        const value = row[column];
        if (value !== null && !cellRules[column].holds(value)) throw refusal(table, doc, index, `${column} ${cellRules[column].says}`);
      }
      for (const rule of rowRules) if (!rule.holds(row)) throw refusal(table, doc, index, rule.says);
    });
  }
  for (const [name, seq] of Object.entries(doc.sequences)) {
    if (seq > ID_CEILING) throw invalid("file", `sequences: ${name} is ${seq}, above ${ID_CEILING}, the most ids may reach`);
  }
}

/**
 * After the inserts, in the same transaction: the rules across rows first (a cycle, a missing
 * step: what is wrong with the shape of the data is named before what follows from it), then
 * each derived column recomputed and compared with the file's.
 */
export function checkAcross(sql: SqlStorage, doc: TransferDocument, tables: readonly TableInfo[], rules: Map<string, TableRules>): void {
  for (const table of tables) {
    for (const rule of rules.get(table.name)!.across ?? []) {
      const found = rule.find(sql);
      if (found) throw refusal(table, doc, indexOf(doc, table, found), rule.says);
    }
  }
  for (const table of tables) {
    const derived = rules.get(table.name)!.derived;
    if (!derived) continue;
    const key = keyOf(table);
    const read = () =>
      sql.exec<Record<string, Cell>>(`SELECT ${[...key, ...derived.columns].map(ident).join(", ")} FROM ${ident(table.name)} ORDER BY ${key.map(ident).join(", ")}`).toArray();
    const given = read();
    derived.recompute(sql);
    const recomputed = read();
    given.forEach((row, i) => {
      const name = derived.columns.find((c) => row[c] !== recomputed[i][c]);
      if (name === undefined) return;
      const says = `${name} is ${row[name]} in the file, but ${derived.says} is ${recomputed[i][name]}`;
      throw refusal(table, doc, indexOf(doc, table, row), says);
    });
  }
}

const asRow = (columns: readonly string[], cells: readonly Cell[]): Row => Object.fromEntries(columns.map((c, i) => [c, cells[i]]));

/** The columns that name a row: its primary key, or all of it for a table without one. */
const keyOf = (table: TableInfo): string[] => (table.primaryKey.length > 0 ? table.primaryKey : table.columns.map((c) => c.name));

/** Where the row with key `found` is in the file (-1 when the query named columns that are not the key). */
function indexOf(doc: TransferDocument, table: TableInfo, found: Row): number {
  const { columns, rows } = doc.tables[table.name];
  const key = Object.keys(found).filter((c) => columns.includes(c));
  return rows.findIndex((cells) => key.every((c) => cells[columns.indexOf(c)] === found[c]));
}

function refusal(table: TableInfo, doc: TransferDocument, index: number, says: string) {
  const { columns, rows } = doc.tables[table.name];
  if (index < 0) return invalid("file", `table ${table.name}: ${says}`);
  const row = asRow(columns, rows[index]);
  const key = keyOf(table)
    .map((c) => `${c} ${JSON.stringify(row[c])}`)
    .join(", ");
  return invalid("file", `table ${table.name}, row ${index + 1} (${key}): ${says}`);
}
