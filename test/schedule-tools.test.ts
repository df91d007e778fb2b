/**
 * The schedule tools, resource and completions through a real MCP client (SDK v2) against the
 * Worker in workerd (SPEC §13, §10; docs/schedules.md). The alarm's side is test/schedules.test.ts.
 */
import { describe, expect, it } from "vitest";
import { connectAs, type McpSession } from "./helpers/mcp";

const session = (name: string, path?: string) => connectAs(`schedule-tools-${name}-${crypto.randomUUID()}`, path);

async function withSession(name: string, run: (mcp: McpSession) => Promise<void>, path?: string) {
  const mcp = await session(name, path);
  try {
    await run(mcp);
  } finally {
    await mcp.close();
  }
}

describe("the schedule tools", () => {
  it("are served on /mcp and /mcp/plan, not on /mcp/core", async () => {
    for (const [path, served] of [["/mcp", true], ["/mcp/plan", true], ["/mcp/core", false]] as const) {
      await withSession("endpoints", async (mcp) => {
        const names = (await mcp.client.listTools()).tools.map((t) => t.name);
        for (const tool of ["create_schedule", "list_schedules", "update_schedule"]) expect(names.includes(tool), `${path} ${tool}`).toBe(served);
      }, path);
    }
  });

  it("create_schedule answers the schedule with a link to its resource; times in and out are ISO 8601", async () => {
    await withSession("create", async (mcp) => {
      const starts = new Date(Date.now() + 3_600_000).toISOString();
      const result = await mcp.raw("create_schedule", { title: "Nightly benchmark", every_seconds: 86_400, starts_at: starts, keep_runs: 30 });
      expect(result.isError).toBeFalsy();
      const schedule = result.structuredContent as Record<string, unknown>;
      expect(schedule).toMatchObject({ title: "Nightly benchmark", every_seconds: 86_400, starts_at: starts, next_run_at: starts, keep_runs: 30, status: "active" });
      expect(result.content[1]).toEqual({ type: "resource_link", uri: `agent-runtime://schedules/${schedule.schedule_id}`, name: `schedule ${schedule.schedule_id}` });
    });
  });

  it("refuses bad arguments as invalid_argument naming the field, schema and domain alike", async () => {
    await withSession("refuse", async (mcp) => {
      expect(await mcp.fail("create_schedule", { title: "x", every_seconds: 30 })).toMatch(/^invalid_argument: every_seconds: /);
      expect(await mcp.fail("create_schedule", { title: "x", cron: "0 9 * * *", timezone: "Mars/Base" })).toMatch(/^invalid_argument: timezone: /);
      expect(await mcp.fail("create_schedule", { title: "x", every_seconds: 60, starts_at: "tomorrow" })).toMatch(/^invalid_argument: starts_at: an ISO 8601 time/);
      expect(await mcp.fail("create_schedule", { title: "x", every_seconds: 60, role: "a\nb" })).toMatch(/^invalid_argument: role: /);
      expect(await mcp.fail("create_schedule", { title: "x", every_seconds: 60, role: "r".repeat(65) })).toMatch(/^invalid_argument: role: /);
      expect(await mcp.fail("create_schedule", { title: "x", every_seconds: 60, colour: "red" })).toMatch(/^invalid_argument: /);
      expect(await mcp.fail("update_schedule", { schedule_id: "sc_nothere23456", status: "paused" })).toMatch(/^not_found: schedule sc_nothere23456/);
      const { schedules } = await mcp.call("list_schedules");
      expect(schedules).toEqual([]);
    });
  });

  it("update_schedule pauses, resumes with a next run, and ends for good", async () => {
    await withSession("update", async (mcp) => {
      const { schedule_id } = await mcp.call("create_schedule", { title: "t", cron: "*/5 * * * *" });
      expect(await mcp.call("update_schedule", { schedule_id, status: "paused" })).toMatchObject({ status: "paused", next_run_at: null });
      const resumed = await mcp.call("update_schedule", { schedule_id, status: "active", ends_at: null, role: "ops" });
      expect(resumed).toMatchObject({ status: "active", role: "ops" });
      expect(Date.parse(resumed.next_run_at) % 300_000).toBe(0);
      expect(await mcp.call("update_schedule", { schedule_id, status: "ended" })).toMatchObject({ status: "ended", next_run_at: null });
      expect(await mcp.fail("update_schedule", { schedule_id, status: "active" })).toMatch(/^conflict: /);
    });
  });

  it("list_schedules pages newest first, brief unless full, filtered by status", async () => {
    await withSession("list", async (mcp) => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await mcp.call("create_schedule", { title: `s${i}`, every_seconds: 3600 * (i + 1) })).schedule_id);
      await mcp.call("update_schedule", { schedule_id: ids[1], status: "paused" });
      const first = await mcp.call("list_schedules", { limit: 2 });
      expect(first.schedules.map((s: { schedule_id: string }) => s.schedule_id)).toEqual([ids[4], ids[3]]);
      expect(first.schedules[0]).toEqual({
        schedule_id: ids[4],
        title: "s4",
        status: "active",
        every_seconds: 18_000,
        next_run_at: first.schedules[0].next_run_at,
      });
      const rest = await mcp.call("list_schedules", { limit: 10, cursor: first.next_cursor });
      expect(rest.schedules.map((s: { schedule_id: string }) => s.schedule_id)).toEqual([ids[2], ids[1], ids[0]]);
      expect(rest.next_cursor).toBeNull();
      const paused = await mcp.call("list_schedules", { status: "paused", view: "full" });
      expect(paused.schedules).toHaveLength(1);
      expect(paused.schedules[0]).toMatchObject({ schedule_id: ids[1], status: "paused", next_run_at: null, runs: 0, keep_runs: 100 });
      expect(await mcp.fail("list_schedules", { status: "active", cursor: first.next_cursor })).toMatch(/^invalid_argument: cursor: /);
    });
  });
});

describe("the schedule resource and completions", () => {
  it("reads agent-runtime://schedules/{schedule_id} as the schedule with its newest runs; an unknown id is an error naming it", async () => {
    await withSession("resource", async (mcp) => {
      const { schedule_id } = await mcp.call("create_schedule", { title: "r", every_seconds: 600 });
      const uri = `agent-runtime://schedules/${schedule_id}`;
      const { contents } = await mcp.client.readResource({ uri });
      expect(contents[0]).toMatchObject({ uri, mimeType: "application/json" });
      expect(JSON.parse((contents[0] as { text: string }).text)).toMatchObject({ schedule_id, title: "r", recent_runs: [] });
      await expect(mcp.client.readResource({ uri: "agent-runtime://schedules/sc_nothere23456" })).rejects.toThrow(/sc_nothere23456/);
    });
  });

  it("completes schedule_id from the user's own schedules", async () => {
    await withSession("complete", async (mcp) => {
      const mine = [];
      for (let i = 0; i < 2; i++) mine.push((await mcp.call("create_schedule", { title: `c${i}`, every_seconds: 600 })).schedule_id as string);
      await withSession("complete-other", async (other) => {
        await other.call("create_schedule", { title: "not yours", every_seconds: 600 });
      });
      const ref = { type: "ref/resource" as const, uri: "agent-runtime://schedules/{schedule_id}" };
      const values = (await mcp.client.complete({ ref, argument: { name: "schedule_id", value: "sc_" } })).completion.values;
      expect(values).toEqual([...mine].sort());
      expect((await mcp.client.complete({ ref, argument: { name: "schedule_id", value: mine[0] } })).completion.values).toEqual([mine[0]]);
    });
  });
});
