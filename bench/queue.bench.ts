/**
 * Queue benchmark (`npm run bench`): the cost of each queue operation inside one Runtime Durable
 * Object as the queue grows, run in workerd against real SQLite. Each operation is the Runtime's
 * own RPC method, called inside the object (so the numbers exclude RPC transport and HTTP).
 *
 * Half of the seeded tasks are blocked high-priority tasks (the starvation shape), half are ready.
 * Beside the materialised ready queue it times a "recomputed" next-task query that derives
 * readiness from the dependency edges on every call, to show why `unmet_deps` exists.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { it } from "vitest";
import type { Runtime } from "../src/runtime/runtime";
import { insertTask } from "../src/runtime/tasks/queue";
import { NO_DEPENDENCIES } from "../src/runtime/tasks/readiness";

/** A task waiting for one unfinished dependency. */
const ONE_UNMET = { dep_count: 1, unmet_deps: 1, failed_deps: 0, cancelled_deps: 0 };

const SIZES = [1_000, 10_000, 100_000];

const RECOMPUTED_NEXT = `
  SELECT * FROM tasks t WHERE t.status = 'pending' AND NOT EXISTS (
    SELECT 1 FROM task_deps d JOIN tasks dep ON dep.id = d.depends_on
    WHERE d.task_id = t.id AND dep.status != 'completed')
  ORDER BY t.priority DESC, t.id LIMIT 1`;

interface Row {
  tasks: number;
  create: number;
  claim: number;
  complete: number;
  next: number;
  recomputed: number;
}

/** Mean microseconds per call of `op` over `runs` sequential calls. */
async function timeEach(runs: number, op: (i: number) => unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < runs; i++) await op(i);
  return ((performance.now() - start) * 1000) / runs;
}

function seed(sql: SqlStorage, state: DurableObjectState, count: number): void {
  state.storage.transactionSync(() => {
    const now = Date.now();
    const blocker = insertTask(sql, { title: "blocker", priority: 1 }, NO_DEPENDENCIES, now);
    for (let i = 1; i < count; i++) {
      const blocked = i % 2 === 0;
      const row = insertTask(sql, { title: `task ${i}`, priority: blocked ? 10 : 1 + (i % 9) }, blocked ? ONE_UNMET : NO_DEPENDENCIES, now);
      if (blocked) sql.exec(`INSERT INTO task_deps (task_id, depends_on) VALUES (?, ?)`, row.id, blocker.id);
    }
  });
}

/** Each operation through the Runtime's own RPC method, called inside the object: its
 * transaction, the lease and breaker checks, and the re-derived alarm. */
async function measure(count: number): Promise<Row> {
  const stub = env.RUNTIME.getByName(`bench-${count}-${crypto.randomUUID()}`);
  return runInDurableObject(stub, async (runtime: Runtime, state) => {
    const sql = state.storage.sql;
    seed(sql, state, count);
    const next = await timeEach(2000, () => runtime.nextTask({}));
    const recomputed = await timeEach(count >= 100_000 ? 20 : 100, () => sql.exec(RECOMPUTED_NEXT).toArray());
    const claimed: number[] = [];
    const claim = await timeEach(300, async (i) => {
      const answer = await runtime.nextTask({ agent_id: `agent-${i}` });
      if (answer.ok && answer.value.task) claimed.push(answer.value.task.id);
    });
    const complete = await timeEach(300, (i) => runtime.updateTaskStatus({ task_id: claimed[i], status: "completed", result: "done" }));
    const create = await timeEach(300, (i) => runtime.createTask({ title: `new ${i}`, priority: 5, dependencies: [claimed[i]] }));
    return { tasks: count, create, claim, complete, next, recomputed };
  });
}

const us = (n: number) => `${n.toFixed(1)} µs`;

it("queue operations inside one Durable Object", { timeout: 600_000 }, async () => {
  await measure(SIZES[0]); // warm-up: JIT and SQLite caches, not reported
  const rows: Row[] = [];
  for (const size of SIZES) rows.push(await measure(size));
  const header = ["tasks", "create_task", "claim (get_next_task + agent)", "complete", "get_next_task", "recomputed next (for comparison)"];
  const lines = rows.map((r) => [r.tasks.toLocaleString("en-US"), us(r.create), us(r.claim), us(r.complete), us(r.next), us(r.recomputed)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i])).join(" | ")} |`;
  const ratio = rows[2].next / rows[0].next;
  console.log(
    [
      "",
      "Queue inside one Runtime Durable Object (mean per call of the Runtime method, in-object, SQLite in workerd)",
      format(header),
      `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
      ...lines.map(format),
      "",
      `get_next_task at 100,000 tasks / at 1,000: ${ratio.toFixed(2)}× (goal: ≤ 1.5×) ${ratio <= 1.5 ? "met" : "NOT met"}`,
      "",
    ].join("\n"),
  );
});
