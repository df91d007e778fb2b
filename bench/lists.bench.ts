/**
 * List benchmark (`npm run bench`): `list_relay_pipelines` inside one Runtime Durable Object over
 * 100 pipelines × 48 steps, every step carrying a full 20,000-character output summary (≈ 96 MB
 * of summaries), brief and full. Each row is the Runtime's own RPC method called inside the object
 * (no RPC transport, no HTTP), so it is the CPU a list costs the object.
 *
 * The last column reads what the list read before it chose its columns (every step row whole,
 * summaries included), to show why the summary view must not touch `output_summary`.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { it } from "vitest";
import type { Runtime } from "../src/runtime/runtime";

const PIPELINES = 100;
const STEPS = 48;
const SUMMARY = 20_000;

interface Row {
  label: string;
  items: number;
  bytes: number;
  micros: number;
}

/** Mean microseconds per call of `op` over `runs` sequential calls. */
async function timeEach(runs: number, op: () => unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < runs; i++) await op();
  return ((performance.now() - start) * 1000) / runs;
}

async function seed(runtime: Runtime, sql: SqlStorage, state: DurableObjectState): Promise<void> {
  const agents = Array.from({ length: STEPS }, (_, i) => ["researcher", "analyzer", "synthesizer", "validator", "formatter"][i % 5]);
  for (let p = 0; p < PIPELINES; p++) {
    const created = await runtime.createRelayPipeline({ name: `Market study ${p}`, goal: `Size the market for product ${p}. `.repeat(6), agent_types: agents });
    if (!created.ok) throw new Error(created.error.message);
  }
  // Every step done, with a full-size summary and an output entity: the heaviest rows a list can meet.
  state.storage.transactionSync(() =>
    sql.exec(
      `UPDATE relay_steps SET status = 'completed', quality_score = 0.9, l_score = 0.8, tokens_used = 1000,
         output_summary = ?, output_entity_id = 'doc-' || pipeline_id || '-' || step_index`,
      "s".repeat(SUMMARY),
    ),
  );
}

it("list_relay_pipelines over 100 pipelines × 48 steps with 20,000-character summaries", { timeout: 600_000 }, async () => {
  const stub = env.RUNTIME.getByName(`bench-lists-${crypto.randomUUID()}`);
  const rows = await runInDurableObject(stub, async (runtime: Runtime, state) => {
    const sql = state.storage.sql;
    await seed(runtime, sql, state);
    const out: Row[] = [];
    for (const view of ["brief", "full"] as const) {
      for (const limit of [50, 100]) {
        const call = () => runtime.listRelayPipelines({ limit, view });
        await call(); // warm-up
        const answer = await call();
        if (!answer.ok) throw new Error(answer.error.message);
        const micros = await timeEach(50, call);
        out.push({ label: `${view}, limit ${limit}`, items: answer.value.items.length, bytes: JSON.stringify(answer.value).length, micros });
      }
    }
    const ids = JSON.stringify(sql.exec<{ id: string }>(`SELECT id FROM pipelines ORDER BY seq DESC LIMIT 50`).toArray().map((r) => r.id));
    const whole = () => sql.exec(`SELECT * FROM relay_steps WHERE pipeline_id IN (SELECT value FROM json_each(?)) ORDER BY pipeline_id, step_index`, ids).toArray();
    out.push({ label: "before: reading the steps whole (limit 50)", items: 50, bytes: 0, micros: await timeEach(5, whole) });
    return out;
  });
  const header = ["list_relay_pipelines", "items", "answer (JSON chars)", "mean per call"];
  const lines = rows.map((r) => [r.label, String(r.items), r.bytes ? r.bytes.toLocaleString("en-US") : "—", `${(r.micros / 1000).toFixed(2)} ms`]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  console.log(
    [
      "",
      `${PIPELINES} pipelines × ${STEPS} steps, every step with a ${SUMMARY.toLocaleString("en-US")}-character summary (the Runtime method, in-object, SQLite in workerd)`,
      format(header),
      `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
      ...lines.map(format),
      "",
    ].join("\n"),
  );
});
