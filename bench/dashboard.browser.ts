/**
 * Dashboard benchmark (`npm run bench:dashboard`, never part of `npm test`): how long Chromium
 * takes to show the task graph of a goal with 500 tasks, from the start of the navigation to the
 * first frame painted with the graph in it (the page's own `graph-painted` mark).
 *
 * `wrangler dev` on this machine, a goal of 500 tasks made through MCP (each depending on one or
 * two tasks a little earlier, the first 150 completed, a few claimed), then RUNS fresh page loads
 * of its page in one signed-in browser. Prints the median and the spread, with the layout (dagre)
 * and drawing (SVG) parts measured inside the page, and writes test-output/bench-dashboard.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, it } from "vitest";
import { authorize, callTool, connectV2, startDevServer, type DevServer, type V2Client } from "../test/e2e/harness";
import { launchChromium, openPage, OUTPUT_DIR, signIn, type DashboardBrowser } from "../test/browser/browser";

const TASKS = 500;
const RUNS = 9;
const BATCH = 10;

let server: DevServer;
let chromium: DashboardBrowser;
let client: V2Client;

beforeAll(async () => {
  server = await startDevServer();
  chromium = await launchChromium();
  client = await connectV2(server, (await authorize(server)).accessToken);
}, 180_000);

afterAll(async () => {
  await client?.close();
  await chromium?.close();
  await server?.stop();
});

/** A small deterministic generator, so every run draws the same graph. */
function random(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

/** 500 tasks; task i depends on one or two of tasks i-40..i-10 (made in batches of 10 in parallel). */
async function seedGoal(): Promise<number> {
  const goal = await callTool<{ id: number }>(client, "create_goal", { name: "Benchmark: 500 tasks", description: "" });
  const ids: number[] = [];
  const next = random(42);
  for (let start = 0; start < TASKS; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, TASKS - start) }, (_, k) => start + k);
    const made = await Promise.all(
      batch.map((i) => {
        const earlier = ids.slice(Math.max(0, i - 40), Math.max(0, i - 10));
        const dependencies = [...new Set([earlier[Math.floor(next() * earlier.length)], earlier[Math.floor(next() * earlier.length)]])].filter(
          (d) => d !== undefined && next() < 0.95,
        );
        return callTool<{ id: number }>(client, "create_task", {
          title: `Task ${i + 1}: ${["research", "design", "build", "test", "document"][i % 5]} part ${Math.floor(i / 5) + 1}`,
          goal_id: goal.id,
          dependencies,
          priority: 1 + (i % 10),
        });
      }),
    );
    ids.push(...made.map((t) => t.id));
  }
  for (let start = 0; start < 150; start += BATCH) {
    await Promise.all(ids.slice(start, start + BATCH).map((id) => callTool(client, "update_task_status", { task_id: id, status: "completed" })));
  }
  for (const agent of ["coder-1", "coder-2", "coder-3", "coder-4"]) await callTool(client, "get_next_task", { goal_id: goal.id, agent_id: agent });
  return goal.id;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p + 0.5))];
};

it(`renders the graph of a ${TASKS}-task goal`, async () => {
  const goalId = await seedGoal();
  const { page } = await openPage(chromium, { width: 1280, height: 900 });
  await signIn(page, server, server.ownerPassword);
  const runs: { total: number; layout: number; draw: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    await page.goto(`${server.origin}/app/goals/${goalId}`);
    await page.waitForFunction(`performance.getEntriesByName("graph-painted").length > 0`, undefined, { timeout: 60_000 });
    const nodes = await page.locator("#graph .node").count();
    if (nodes !== TASKS) throw new Error(`drew ${nodes} nodes, not ${TASKS}`);
    runs.push(
      await page.evaluate<{ total: number; layout: number; draw: number }>(`({
        total: performance.getEntriesByName("graph-painted")[0].startTime,
        layout: Number(document.getElementById("graph").dataset.layoutMs),
        draw: Number(document.getElementById("graph").dataset.drawMs),
      })`),
    );
  }
  const column = (key: "total" | "layout" | "draw") => runs.map((r) => r[key]);
  const summary = Object.fromEntries(
    (["total", "layout", "draw"] as const).map((key) => [
      key,
      { p50: Math.round(percentile(column(key), 0.5)), min: Math.round(Math.min(...column(key))), max: Math.round(Math.max(...column(key))) },
    ]),
  );
  const edges = await page.locator("#graph .edge").count();
  console.log(`\nDashboard: a goal of ${TASKS} tasks and ${edges} dependencies in Chromium, ${RUNS} page loads (ms)`);
  console.table(summary);
  mkdirSync(OUTPUT_DIR, { recursive: true });
  writeFileSync(join(OUTPUT_DIR, "bench-dashboard.json"), JSON.stringify({ tasks: TASKS, edges, runs, summary }, null, 2));
}, 600_000);
