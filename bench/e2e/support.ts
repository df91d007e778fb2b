/**
 * Shared pieces of the end-to-end benchmarks (`npm run bench:e2e`): timing HTTP exchanges as a
 * client sees them, percentiles, and the printed table. A scenario is one `*.bench.ts` file in
 * this folder that starts its own `wrangler dev` with the e2e harness (test/e2e/harness.ts).
 */

/** Times `request` (a plain HTTP exchange, body read) and records it. */
export async function timeRequest(samples: number[], request: () => Promise<Response>): Promise<void> {
  const start = performance.now();
  const response = await request();
  await response.arrayBuffer();
  samples.push(performance.now() - start);
}

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** chars / 4, the SPEC §9 measure of what a JSON text costs in an agent's context. */
export const tokensOf = (value: unknown): number => Math.round(JSON.stringify(value).length / 4);

/** A plain-text table: one header row, then rows; numbers right-aligned. */
export function table(title: string, header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map((cell) => (typeof cell === "number" ? format(cell) : cell)))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
  const rule = widths.map((w) => "─".repeat(w)).join("  ");
  return [`\n${title}`, line(cells[0]), rule, ...cells.slice(1).map(line)].join("\n");
}

function format(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString("en-US");
}
