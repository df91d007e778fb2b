/**
 * Worst-case benchmark (`npm run bench`): the calls whose work grows with the user's data, at
 * sizes far beyond normal use, each timed inside one Runtime Durable Object in workerd against
 * real SQLite. Every one must stay well inside the Workers CPU limit (30 s by default) so that no
 * call can fail on every attempt, however much data a user has:
 *
 *   - cancel_goal of a goal with 50,000 tasks (set-based: a constant number of statements);
 *   - one alarm run with 10,000 expired leases (a bounded batch; the alarm re-fires for the rest),
 *     and every run it takes to release them all;
 *   - get_relay_baton whose previous summary is 20,000 characters of hostile fence-like text, and
 *     the fence check itself on such texts, beside the quadratic pattern it replaced.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { it } from "vitest";
import { TIMED_WORK } from "../src/runtime/dispatch";
import { LIMITS } from "../src/runtime/kernel/limits";
import { nextDue, runDue } from "../src/runtime/kernel/timed";
import { fenceAgentData } from "../src/runtime/relay/prompt";
import type { Runtime } from "../src/runtime/runtime";

/** The fence pattern before it was made linear, for comparison only. */
const QUADRATIC_FENCE = /=*[ \t]*(?:BEGIN|END)[ \t_-]*AGENT[ \t_-]*DATA\b[^\n]*/gi;

const HOSTILE: Record<string, string> = {
  '20,000 × "="': "=".repeat(20_000),
  '"END" + 19,997 spaces': `END${" ".repeat(19_997)}`,
  '5,000 × "END "': "END ".repeat(5_000),
  'fence lines, 700 × "=====END AGENT DATA x=====\\n"': "=====END AGENT DATA x=====\n".repeat(700),
};

interface Row {
  work: string;
  ms: number;
  note?: string;
  /** Of a relay row: the fence check alone, per call. */
  fence?: number;
}

const stub = (name: string) => env.RUNTIME.getByName(`bench-${name}-${crypto.randomUUID()}`);

async function timed<T>(run: () => T | Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await run();
  return { ms: performance.now() - start, result };
}

/** Inserts `count` rows of `tasks` in one statement: `columns` as SQL over n (0-based). */
function seedTasks(sql: SqlStorage, count: number, columns: Record<string, string>, ...params: SqlStorageValue[]): void {
  const names = Object.keys(columns);
  sql.exec(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${count} - 1)
     INSERT INTO tasks (${names.join(", ")}) SELECT ${names.map((k) => columns[k]).join(", ")} FROM n`,
    ...params,
  );
}

/** A goal of 50,000 tasks: 70 % pending (a tenth of them blocked), 10 % each in progress under a lease, failed, completed. */
async function cancelGoalOf(count: number): Promise<Row> {
  return runInDurableObject(stub("cancel"), async (runtime: Runtime, state) => {
    const sql = state.storage.sql;
    const now = Date.now();
    const goal = await runtime.createGoal({ name: "big", description: "" });
    if (!goal.ok) throw new Error(goal.error.message);
    const goalId = goal.value.id;
    seedTasks(sql, count, {
      goal_id: "?",
      title: "'task ' || i",
      status: "CASE i % 10 WHEN 0 THEN 'in_progress' WHEN 1 THEN 'failed' WHEN 2 THEN 'completed' ELSE 'pending' END",
      priority: "1 + i % 10",
      unmet_deps: "CASE WHEN i % 10 = 9 THEN 1 ELSE 0 END",
      assigned_to: "CASE WHEN i % 10 IN (0, 1) THEN 'agent-' || (i % 50) END",
      attempt: "CASE WHEN i % 10 IN (0, 1, 2) THEN 1 ELSE 0 END",
      lease_id: "CASE WHEN i % 10 = 0 THEN 'ls_bench' || i END",
      lease_expires_at: "CASE WHEN i % 10 = 0 THEN ? END",
      lease_seconds: "CASE WHEN i % 10 = 0 THEN 3600 END",
      created_at: "?",
      updated_at: "?",
    }, goalId, now + 3600_000, now, now);
    sql.exec(`INSERT INTO task_deps (task_id, depends_on) SELECT id, id - 1 FROM tasks WHERE unmet_deps = 1`);
    sql.exec(
      `INSERT INTO task_events (task_id, at, kind, agent_id, lease_id, attempt, status, detail)
       SELECT id, ?, 'claimed', assigned_to, lease_id, 1, status, 'seeded' FROM tasks WHERE attempt > 0`,
      now,
    );
    const { ms, result } = await timed(() => runtime.cancelGoal(goalId, "benchmark"));
    if (!result.ok || result.value.task_counts.cancelled !== count * 0.9) throw new Error(`cancel_goal went wrong: ${JSON.stringify(result)}`);
    return { work: `cancel_goal, a goal of ${count.toLocaleString("en-US")} tasks`, ms, note: `${(count * 0.9).toLocaleString("en-US")} cancelled, each with its event` };
  });
}

/** 10,000 claimed tasks whose leases ran out: one alarm run, and every run until all are released. */
async function expiredLeases(count: number): Promise<Row[]> {
  return runInDurableObject(stub("alarm"), async (runtime: Runtime, state) => {
    const sql = state.storage.sql;
    const now = Date.now();
    seedTasks(sql, count, {
      title: "'held ' || i",
      status: "'in_progress'",
      priority: "1 + i % 10",
      assigned_to: "'agent-' || (i % 100)",
      attempt: "1",
      lease_id: "'ls_bench' || i",
      lease_expires_at: "? - 1000 - i",
      lease_seconds: "60",
      created_at: "?",
      updated_at: "?",
    }, now, now, now);
    const released = () => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE status = 'pending'`).one().n;
    // The Runtime's own alarm handler: the bounded batch in one transaction, then the re-armed alarm.
    const first = await timed(() => runtime.alarm());
    const afterFirst = released();
    // The real alarm, re-armed in the past, would now take the rest on its own; take it here instead.
    await state.storage.deleteAlarm();
    let runs = 1;
    const rest = await timed(() => {
      while (nextDue(TIMED_WORK, sql, Date.now()) !== null && nextDue(TIMED_WORK, sql, Date.now())! <= Date.now()) {
        state.storage.transactionSync(() => runDue(TIMED_WORK, sql, Date.now()));
        runs++;
      }
    });
    if (afterFirst !== LIMITS.expiriesPerRun || released() !== count) throw new Error(`alarm went wrong: ${afterFirst}, ${released()}`);
    return [
      { work: `one alarm run, ${count.toLocaleString("en-US")} expired leases`, ms: first.ms, note: `releases ${LIMITS.expiriesPerRun}, re-arms for the rest` },
      { work: `every alarm run until all ${count.toLocaleString("en-US")} are released`, ms: first.ms + rest.ms, note: `${runs} runs, each its own alarm` },
    ];
  });
}

/** get_relay_baton (the Runtime method: pipeline, steps, breaker lookup, prompt) with a hostile summary. */
async function hostileBaton(): Promise<Row[]> {
  return runInDurableObject(stub("fence"), async (runtime: Runtime) => {
    const rows: Row[] = [];
    for (const [label, summary] of Object.entries(HOSTILE)) {
      const created = await runtime.createRelayPipeline({ name: "bench", goal: "g", agent_types: ["a", "b"] });
      if (!created.ok) throw new Error(created.error.message);
      await runtime.advanceRelay({ pipeline_id: created.value.pipeline_id, quality_score: 1, l_score: 1, tokens_used: 1, output_summary: summary });
      runtime.getRelayBaton(created.value.pipeline_id); // warm-up
      // Many runs each: the clock inside workerd ticks in whole milliseconds.
      const runs = 500;
      const { ms } = await timed(() => {
        for (let i = 0; i < runs; i++) runtime.getRelayBaton(created.value.pipeline_id);
      });
      const fence = await timed(() => {
        for (let i = 0; i < runs; i++) fenceAgentData(summary, "abcdefghijklmnop");
      });
      const old = await timed(() => summary.replace(QUADRATIC_FENCE, "[fence marker removed]"));
      rows.push({
        work: `get_relay_baton, summary of ${label}`,
        ms: ms / runs,
        note: `fence check ${(fence.ms / runs).toFixed(3)} ms; the former pattern ${old.ms.toFixed(0)} ms`,
        fence: fence.ms / runs,
      });
    }
    return rows;
  });
}

it("worst cases inside one Durable Object stay far inside the CPU limit", { timeout: 600_000 }, async () => {
  await cancelGoalOf(5_000); // warm-up: JIT and SQLite caches, not reported
  const rows: Row[] = [await cancelGoalOf(50_000), ...(await expiredLeases(10_000)), ...(await hostileBaton())];
  const header = ["work", "time", ""];
  const lines = rows.map((r) => [r.work, `${r.ms < 10 ? r.ms.toFixed(2) : r.ms.toFixed(0)} ms`, r.note ?? ""]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => (i === 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")} |`;
  const worst = Math.max(...rows.map((r) => r.ms));
  const worstFence = Math.max(...rows.map((r) => r.fence ?? 0));
  console.log(
    [
      "",
      "Worst cases inside one Runtime Durable Object (in-object, SQLite in workerd; Workers CPU limit 30 s by default)",
      format(header),
      `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
      ...lines.map(format),
      "",
      `slowest: ${worst.toFixed(0)} ms, ${((worst / 30_000) * 100).toFixed(1)} % of the 30 s limit (goal: under 1 s) ${worst < 1000 ? "met" : "NOT met"}`,
      `fence check of a hostile 20,000-character summary: at most ${worstFence.toFixed(3)} ms (goal: under 5 ms) ${worstFence < 5 ? "met" : "NOT met"}`,
      "",
    ].join("\n"),
  );
});
