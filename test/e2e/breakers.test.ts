/**
 * Circuit breakers end to end (SPEC §7, §8): the real `wrangler dev`, real alarms, real clients.
 * A breaker moves from OPEN to HALF_OPEN on its own when its cooldown ends, recovers on reported
 * successes, and everything (state, settings, history, pending due times) survives a restart.
 *
 * Cooldowns are 2 s (the allowed minimum is 1 s), so this file waits a few seconds in total.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { authorize, callTool, connectV1, connectV2, useDevServer, type ToolCaller, type V2Client } from "./harness";

interface Breaker {
  agent_id: string;
  state: "CLOSED" | "OPEN" | "HALF_OPEN";
  can_execute: boolean;
  trip_count: number;
  total_failures: number;
  total_successes: number;
  opened_at: string | null;
  cooldown_until: string | null;
  half_open_at: string | null;
  state_changed_at: string | null;
  config: Record<string, unknown>;
  fallback_agent: string;
  recent_transitions: { from: string; to: string; reason: string }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const server = useDevServer();
let accessToken: string;
let client: V2Client;

beforeAll(async () => {
  accessToken = (await authorize(server)).accessToken;
  client = await connectV2(server, accessToken);
});

const statusVia = (caller: ToolCaller, agentId: string) => callTool<Breaker>(caller, "circuit_breaker_status", { agent_id: agentId });
const status = (agentId: string) => statusVia(client, agentId);

/**
 * Waits until the alarm has had its chance: past the cooldown end, then polling the status, a
 * pure read that never moves a breaker (proved in test/breakers.test.ts), so only the alarm can.
 */
async function waitForHalfOpen(caller: ToolCaller, agentId: string, cooldownUntil: string): Promise<Breaker> {
  await sleep(Math.max(0, Date.parse(cooldownUntil) - Date.now()) + 200);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const breaker = await statusVia(caller, agentId);
    if (breaker.state !== "OPEN" || Date.now() > deadline) return breaker;
    await sleep(250);
  }
}

describe("a breaker over time", () => {
  it("trips, becomes HALF_OPEN by itself when the 2 s cooldown ends, and recovers to CLOSED", async () => {
    await callTool(client, "circuit_breaker_configure", { agent_id: "writer", failure_threshold: 2, cooldown_seconds: 2, fallback_agent: "editor" });
    await callTool(client, "create_task", { title: "draft" });
    for (let i = 0; i < 2; i++) {
      await callTool(client, "circuit_breaker_record_failure", { agent_id: "writer", failure_type: "rate_limited", error_message: "429" });
    }
    const open = await status("writer");
    expect(open).toMatchObject({ state: "OPEN", can_execute: false, trip_count: 1 });
    expect(Date.parse(open.cooldown_until!) - Date.parse(open.opened_at!)).toBe(2_000);
    expect(await callTool(client, "get_next_task", { agent_id: "writer" })).toMatchObject({ task: null, reason: "circuit_open", fallback_agent: "editor" });

    const half = await waitForHalfOpen(client, "writer", open.cooldown_until!);
    expect(half).toMatchObject({ state: "HALF_OPEN", can_execute: true, cooldown_until: null });
    // It changed when the cooldown ended, not when someone looked.
    expect(Date.parse(half.half_open_at!)).toBeGreaterThanOrEqual(Date.parse(open.cooldown_until!));
    expect(half.recent_transitions[0]).toMatchObject({ from: "OPEN", to: "HALF_OPEN", reason: "cooldown ended" });

    // A probe through the queue, then two reported successes (success_threshold 2) close it.
    const probe = await callTool<{ task: { title: string } | null; probe_expires_at?: string }>(client, "get_next_task", { agent_id: "writer" });
    expect(probe.task?.title).toBe("draft");
    expect(probe.probe_expires_at).toBeDefined();
    await callTool(client, "circuit_breaker_record_success", { agent_id: "writer" });
    const closed = await callTool<{ new_state: string; recovered: boolean }>(client, "circuit_breaker_record_success", { agent_id: "writer" });
    expect(closed).toMatchObject({ new_state: "CLOSED", recovered: true });
    expect(await status("writer")).toMatchObject({ state: "CLOSED", can_execute: true, total_successes: 2, total_failures: 2 });
  });
});

describe("continuity", () => {
  it("keeps state, settings, history and pending cooldowns across a dev-server restart", async () => {
    await callTool(client, "circuit_breaker_configure", { agent_id: "held", cooldown_seconds: 3_600, fallback_agent: "backup" });
    await callTool(client, "circuit_breaker_trip", { agent_id: "held", reason: "maintenance" });
    await callTool(client, "circuit_breaker_configure", { agent_id: "short", cooldown_seconds: 2 });
    await callTool(client, "circuit_breaker_trip", { agent_id: "short" });
    const held = await status("held");
    const short = await status("short");
    const writer = await status("writer");
    await client.close();

    await server.restart();

    const after = await connectV1(server, accessToken);
    try {
      expect(await statusVia(after, "held")).toEqual({ ...held, retry_after_seconds: expect.any(Number) });
      expect(await statusVia(after, "writer")).toMatchObject({ state: "CLOSED", trip_count: writer.trip_count, recent_transitions: writer.recent_transitions });
      // The 2 s cooldown ended while the server was down or starting: the persisted alarm still
      // moves the breaker to HALF_OPEN.
      expect((await waitForHalfOpen(after, "short", short.cooldown_until!)).state).toBe("HALF_OPEN");
      const list = await callTool<{ open_circuits: string[]; half_open_circuits: string[]; total_breakers: number }>(after, "circuit_breaker_list", {});
      expect(list).toMatchObject({ total_breakers: 3, open_circuits: ["held"], half_open_circuits: ["short"] });
    } finally {
      await after.close();
    }
  });
});
