/**
 * Notifications end to end (SPEC §14): `wrangler dev` started with NOTIFY_URL pointing at a local
 * receiver (node:http on 127.0.0.1, test/helpers/webhook-receiver.ts) and a random NOTIFY_SECRET.
 * Changes made through the real MCP client arrive at the receiver by the real alarm and the real
 * outgoing fetch, signed; the receiver verifies each with the `standardwebhooks` library.
 */
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSecret, startReceiver, type Delivery, type WebhookReceiver } from "../helpers/webhook-receiver";
import { authorize, callTool, connectV2, useDevServer, type V2Client } from "./harness";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
});
// Registered after the receiver's beforeAll, so its URL and key are known when the server starts.
const server = useDevServer(() => ({ vars: { NOTIFY_URL: receiver.url, NOTIFY_SECRET: receiver.secret } }));

let client: V2Client;
beforeAll(async () => {
  client = await connectV2(server, (await authorize(server)).accessToken);
});

/** Waits (10 s at most) until `count` deliveries match `pick`. */
async function arrived(pick: (d: Delivery) => boolean, count = 1): Promise<Delivery[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = receiver.deliveries.filter(pick);
    if (found.length >= count || Date.now() > deadline) return found;
    await sleep(100);
  }
}

const ofType = (type: string) => (d: Delivery) => d.verified.ok && d.verified.event.type === type;

describe("notifications to a webhook receiver", () => {
  it("a goal completing, a breaker opening and a relay pipeline ending arrive once each, signed per Standard Webhooks", async () => {
    const goal = await callTool<{ id: number }>(client, "create_goal", { name: "Nightly build", description: "" });
    const task = await callTool<{ id: number }>(client, "create_task", { title: "build", goal_id: goal.id });
    await callTool(client, "update_task_status", { task_id: task.id, status: "completed" });
    await callTool(client, "circuit_breaker_trip", { agent_id: "deployer", reason: "freeze" });
    const pipeline = await callTool<{ pipeline_id: string }>(client, "create_relay_pipeline", { name: "Digest", goal: "g", agent_types: ["formatter"] });
    await callTool(client, "advance_relay", { pipeline_id: pipeline.pipeline_id, quality_score: 0.9, l_score: 0.9, tokens_used: 5 });

    const [completed] = await arrived(ofType("goal_completed"));
    const [opened] = await arrived(ofType("breaker_opened"));
    const [ended] = await arrived(ofType("pipeline_ended"));
    expect(receiver.deliveries.filter((d) => !d.verified.ok)).toEqual([]);
    expect(completed?.verified).toMatchObject({ ok: true, event: { data: { goal_id: goal.id, name: "Nightly build", tasks_completed: 1 } } });
    expect(opened?.verified).toMatchObject({ ok: true, event: { data: { agent_id: "deployer", from_state: "CLOSED", reason: "manual trip: freeze" } } });
    expect(ended?.verified).toMatchObject({ ok: true, event: { data: { pipeline_id: pipeline.pipeline_id, status: "completed" } } });

    for (const delivery of [completed, opened, ended]) {
      expect(delivery.headers["content-type"]).toBe("application/json");
      expect(delivery.headers["webhook-id"]).toMatch(/^msg_[a-z2-7]{24}$/);
      // Signed when sent: the timestamp is the sending time, which receivers check against theirs.
      expect(Math.abs(Number(delivery.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
      // The signature is the key's and no other's.
      expect(() => new Webhook(newSecret()).verify(delivery.body, delivery.headers as Record<string, string>)).toThrow("No matching signature found");
    }
    // Delivered means taken: nothing arrives twice.
    await sleep(500);
    expect(receiver.deliveries).toHaveLength(3);
  });
});
