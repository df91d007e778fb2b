/**
 * A receiver that hangs never slows a tool call (SPEC §14), measured on `wrangler dev`: three
 * servers in one run — without NOTIFY_URL, with a local receiver that answers at once, and with
 * one that takes every POST and never answers (test/helpers/webhook-receiver.ts). Each round
 * completes the last task of a fresh goal on each, interleaved — an `update_task_status` that
 * writes a goal_completed event where NOTIFY_URL is set — and times that call alone (one HTTP
 * exchange, request sent → whole body received). Meanwhile the third server's alarm keeps trying
 * to deliver, each batch hanging until its 10 s timeout. Prints p50/p90 of each and the ratios.
 *
 * A benchmark, not a test: it asserts nothing about time and is not part of `npm test`.
 */
import { it } from "vitest";
import { authorize, startDevServer, type DevServer } from "../../test/e2e/harness";
import { startReceiver } from "../../test/helpers/webhook-receiver";
import { percentile, table, timeRequest } from "./support";

const WARMUP = 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);

interface Lane {
  what: string;
  call: (method: string, params: object) => Promise<Response>;
  samples: number[];
}

async function laneOf(what: string, server: DevServer): Promise<Lane> {
  const { accessToken } = await authorize(server);
  let id = 0;
  // What an SDK client sends, replayed by a plain fetch: the client's own work stays out of the figures.
  const call = (method: string, params: object) =>
    fetch(server.mcpUrl, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${accessToken}`,
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
    });
  return { what, call, samples: [] };
}

async function tool<T>(lane: Lane, name: string, args: object): Promise<T> {
  const response = await lane.call("tools/call", { name, arguments: args });
  const body = (await response.json()) as { result?: { structuredContent?: T; isError?: boolean }; error?: unknown };
  if (!body.result?.structuredContent || body.result.isError) throw new Error(`${name}: ${JSON.stringify(body).slice(0, 300)}`);
  return body.result.structuredContent;
}

/** One round: a goal with one task (untimed), then the timed call that completes it, and the goal. */
async function round(lane: Lane, index: number, timed: boolean): Promise<void> {
  const goal = await tool<{ id: number }>(lane, "create_goal", { name: `bench ${index}`, description: "" });
  const task = await tool<{ id: number }>(lane, "create_task", { title: "last", goal_id: goal.id });
  const taken: number[] = [];
  await timeRequest(taken, () => expectResult(lane.call("tools/call", { name: "update_task_status", arguments: { task_id: task.id, status: "completed" } })));
  if (timed) lane.samples.push(...taken);
}

async function expectResult(pending: Promise<Response>): Promise<Response> {
  const response = await pending;
  const text = await response.clone().text();
  const body = response.status === 200 ? (JSON.parse(text) as { error?: unknown; result?: { isError?: boolean } }) : {};
  if (!body.result || body.result.isError) throw new Error(`expected a result, got ${response.status} ${text.slice(0, 300)}`);
  return response;
}

it("update_task_status that writes an event: no receiver, one that answers, one that hangs", async () => {
  const answering = await startReceiver();
  const hanging = await startReceiver({ hang: true });
  const servers: DevServer[] = [];
  const start = async (vars?: Record<string, string>) => {
    const server = await startDevServer(vars && { vars });
    servers.push(server);
    return server;
  };
  try {
    const lanes = [
      await laneOf("no NOTIFY_URL", await start()),
      await laneOf("a receiver that answers at once", await start({ NOTIFY_URL: answering.url, NOTIFY_SECRET: answering.secret })),
      await laneOf("a receiver that never answers", await start({ NOTIFY_URL: hanging.url, NOTIFY_SECRET: hanging.secret })),
    ];
    for (let r = 0; r < WARMUP + ROUNDS; r++) {
      // Rotate which server goes first, so that none always follows another's work.
      const order = [...lanes.slice(r % lanes.length), ...lanes.slice(0, r % lanes.length)];
      for (const lane of order) await round(lane, r, r >= WARMUP);
    }
    const [none, answered, hung] = lanes.map((lane) => percentile(lane.samples, 50));
    console.log(
      table(
        `Completing a goal's last task (update_task_status), ${ROUNDS} interleaved rounds on three wrangler dev servers (ms)`,
        ["NOTIFY_URL", "p50", "p90"],
        lanes.map((lane) => [lane.what, percentile(lane.samples, 50), percentile(lane.samples, 90)]),
      ) +
        `\n\np50 with a hanging receiver / p50 without NOTIFY_URL: ${(hung / none).toFixed(2)}` +
        `\np50 with a hanging receiver / p50 with one that answers: ${(hung / answered).toFixed(2)}` +
        `\nPOSTs taken meanwhile: ${answering.deliveries.length} answered, ${hanging.deliveries.length} never answered`,
    );
  } finally {
    for (const server of servers) await server.stop();
    await answering.close();
    await hanging.close();
  }
});
