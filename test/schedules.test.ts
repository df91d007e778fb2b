/**
 * Schedules (SPEC §13, docs/schedules.md) against the real Runtime Durable Object, its SQLite and
 * its alarm.
 *
 * Time is moved by the test, never slept: the Runtime reads the clock through `Date.now()`, and
 * the Durable Object runs in the test's isolate, so `vi.setSystemTime` sets the time the object
 * sees. A test sets the time to a due time and delivers the alarm with `runDurableObjectAlarm`
 * (`fireAlarm`), which runs exactly what production runs: `alarm()` deciding from the data what
 * is due. Simulated times lie in 2030, after any real clock, so the real alarm never fires by
 * itself during a test.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import type { Outcome } from "../src/runtime/kernel/errors";
import type { Runtime } from "../src/runtime/runtime";
import { SCHEDULE_LIMITS } from "../src/runtime/schedules/model";
import { scheduleTimedWork } from "../src/runtime/schedules/runs";
import { createSchedule, type NewSchedule } from "../src/runtime/schedules/schedules";
import { alarmAt, fireAlarm, freshRuntime, snapshot, stubOf, value, withSql } from "./helpers/runtime";

const ok = async <T>(outcome: Promise<Outcome<T>> | Outcome<T>): Promise<T> => value(await outcome);

async function refused<T>(outcome: Promise<Outcome<T>> | Outcome<T>): Promise<string> {
  const result = await outcome;
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.value)}`);
  return `${result.error.code}: ${result.error.message}`;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Monday 2030-01-07 09:00 UTC. */
const T0 = Date.parse("2030-01-07T09:00:00.000Z");
const at = (ms: number) => vi.setSystemTime(ms);
const isoAt = (ms: number) => new Date(ms).toISOString();

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  at(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

/** The tasks a schedule made that are still kept, in creation order. */
const runsOf = (rt: RuntimeApi, scheduleId: string) =>
  withSql(rt, (sql) =>
    sql
      .exec<{ id: number; title: string; status: string; created_at: number }>(
        `SELECT id, title, status, created_at FROM tasks WHERE schedule_id = ? ORDER BY id`,
        scheduleId,
      )
      .toArray(),
  );

const scheduleOf = async (rt: RuntimeApi, scheduleId: string) => ok(rt.getSchedule(scheduleId));

/** Sets the clock to the schedule's next run and delivers the alarm; returns that time. */
async function runNext(rt: RuntimeApi, scheduleId: string): Promise<number> {
  const next = (await scheduleOf(rt, scheduleId)).next_run_at;
  if (next === null) throw new Error("no next run");
  at(Date.parse(next));
  expect(await alarmAt(rt)).toBe(Date.parse(next));
  expect(await fireAlarm(rt)).toBe(true);
  return Date.parse(next);
}

/** Claims and completes whatever is ready, as a quick agent would. */
async function workAll(rt: RuntimeApi): Promise<void> {
  for (;;) {
    const claim = await ok(rt.nextTask({ agent_id: "worker" }));
    if (!claim.task) return;
    await ok(rt.updateTaskStatus({ task_id: claim.task.id, status: "completed", lease_id: claim.lease_id!, result: "done" }));
  }
}

describe("making a schedule", () => {
  it("answers it active, every_seconds counting from now, and arms the alarm for its first run", async () => {
    const rt = freshRuntime("sched-make");
    const schedule = await ok(rt.createSchedule({ title: "Nightly benchmark", every_seconds: 3600 }));
    expect(schedule).toMatchObject({
      title: "Nightly benchmark",
      description: "",
      goal_id: null,
      role: null,
      priority: 5,
      metadata: {},
      every_seconds: 3600,
      cron: null,
      timezone: "UTC",
      overlap: "skip",
      starts_at: null,
      ends_at: null,
      keep_runs: 100,
      status: "active",
      next_run_at: isoAt(T0 + HOUR),
      last_run_at: null,
      last_task_id: null,
      runs: 0,
      skipped_runs: 0,
      created_at: isoAt(T0),
    });
    expect(schedule.schedule_id).toMatch(/^sc_[a-z2-7]{12}$/);
    expect(await alarmAt(rt)).toBe(T0 + HOUR);
  });

  it("starts at starts_at, then every interval from there; a cron schedule at its first match after now", async () => {
    const rt = freshRuntime("sched-start");
    const later = await ok(rt.createSchedule({ title: "from noon", every_seconds: 600, starts_at: T0 + 3 * HOUR }));
    expect(later.next_run_at).toBe(isoAt(T0 + 3 * HOUR));
    const past = await ok(rt.createSchedule({ title: "grid in the past", every_seconds: 600, starts_at: T0 - 25 * MINUTE }));
    expect(past.next_run_at).toBe(isoAt(T0 + 5 * MINUTE));
    const cron = await ok(rt.createSchedule({ title: "weekdays", cron: "15 9 * * 1-5", timezone: "europe/berlin" }));
    // 09:15 in Berlin in January is 08:15 UTC; today's has passed (it is 10:00 there), so tomorrow's.
    expect(cron).toMatchObject({ timezone: "Europe/Berlin", next_run_at: "2030-01-08T08:15:00.000Z" });
    expect(await alarmAt(rt)).toBe(T0 + 5 * MINUTE);
  });

  const refusals: [string, Partial<NewSchedule>, RegExp][] = [
    ["no rule", {}, /^invalid_argument: every_seconds: pass exactly one of every_seconds and cron/],
    ["both rules", { every_seconds: 60, cron: "* * * * *" }, /^invalid_argument: every_seconds: pass exactly one/],
    ["every_seconds below a minute", { every_seconds: 59 }, /^invalid_argument: every_seconds: a whole number of seconds, 60\.\.31536000/],
    ["every_seconds above a year", { every_seconds: 31_536_001 }, /^invalid_argument: every_seconds:/],
    ["a field out of range", { cron: "61 * * * *" }, /^invalid_argument: cron: .*minute/i],
    ["six fields", { cron: "0 0 * * * *" }, /^invalid_argument: cron: .*5 parts/],
    ["a date instead of a rule", { cron: "2030-01-01T00:00:00" }, /^invalid_argument: cron: five fields/],
    ["an expression that never matches", { cron: "0 0 30 2 *" }, /^invalid_argument: cron: matches no time from now on/],
    ["an unknown time zone", { cron: "0 9 * * *", timezone: "Mars/Olympus_Mons" }, /^invalid_argument: timezone: "Mars\/Olympus_Mons" is not an IANA time zone/],
    ["a UTC offset for a time zone", { cron: "0 9 * * *", timezone: "+01:00" }, /^invalid_argument: timezone:/],
    ["ends_at in the past", { every_seconds: 60, ends_at: T0 - 1 }, /^invalid_argument: ends_at: must be in the future/],
    ["ends_at before starts_at", { every_seconds: 60, starts_at: T0 + HOUR, ends_at: T0 + MINUTE }, /^invalid_argument: ends_at: must be after starts_at/],
    ["no run before ends_at", { every_seconds: 3600, ends_at: T0 + MINUTE }, /^invalid_argument: ends_at: no run falls before it/],
    ["keep_runs 0", { every_seconds: 60, keep_runs: 0 }, /^invalid_argument: keep_runs: 1\.\.10000/],
    ["keep_runs above 10,000", { every_seconds: 60, keep_runs: 10_001 }, /^invalid_argument: keep_runs:/],
    ["an unknown goal", { every_seconds: 60, goal_id: 99 }, /^not_found: goal 99 does not exist/],
  ];
  for (const [what, input, message] of refusals) {
    it(`refuses ${what}, naming the field, and changes nothing`, async () => {
      const rt = freshRuntime("sched-refuse");
      const before = await snapshot(rt);
      expect(await refused(rt.createSchedule({ title: "x", ...input }))).toMatch(message);
      expect(await snapshot(rt)).toEqual(before);
      expect(await alarmAt(rt)).toBeNull();
    });
  }

  it("refuses a cancelled goal, which takes no new tasks", async () => {
    const rt = freshRuntime("sched-cancelled-goal");
    const goal = await ok(rt.createGoal({ name: "gone", description: "" }));
    await ok(rt.cancelGoal(goal.id));
    const before = await snapshot(rt);
    expect(await refused(rt.createSchedule({ title: "x", every_seconds: 60, goal_id: goal.id }))).toMatch(/^failed_precondition: goal \d+ is cancelled/);
    expect(await snapshot(rt)).toEqual(before);
  });

  it(`allows at most ${SCHEDULE_LIMITS.live} schedules active or paused; ending one makes room`, async () => {
    const rt = freshRuntime("sched-limit");
    await runInDurableObject(stubOf(rt), (_: Runtime, state) =>
      state.storage.transactionSync(() => {
        for (let i = 0; i < SCHEDULE_LIMITS.live; i++) createSchedule(state.storage.sql, { title: `s${i}`, every_seconds: 3600 }, Date.now());
      }),
    );
    const before = await snapshot(rt);
    expect(await refused(rt.createSchedule({ title: "one more", every_seconds: 60 }))).toMatch(/^resource_exhausted: at most 1000 schedules/);
    expect(await snapshot(rt)).toEqual(before);
    const first = (await ok(rt.listSchedules({ limit: 1 }))).items[0];
    await ok(rt.updateSchedule({ schedule_id: first.schedule_id, status: "ended" }));
    expect((await ok(rt.createSchedule({ title: "one more", every_seconds: 60 }))).status).toBe("active");
  });
});

describe("runs at due times", () => {
  // 60 simulated minutes of alarm, claim and completion calls: seconds of real work, more on a loaded machine.
  it("every minute for an hour with overlap skip, makes exactly the runs an agent taking 150 s had room for", { timeout: 60_000 }, async () => {
    const rt = freshRuntime("sched-hour");
    const { schedule_id } = await ok(rt.createSchedule({ title: "poll the inbox", every_seconds: 60 }));
    const working = new Map<number, { lease: string; since: number }>();
    for (let minute = 1; minute <= 60; minute++) {
      const now = T0 + minute * MINUTE;
      at(now);
      for (const [taskId, work] of working) {
        if (now - work.since < 150_000) continue;
        await ok(rt.updateTaskStatus({ task_id: taskId, status: "completed", lease_id: work.lease }));
        working.delete(taskId);
      }
      expect(await alarmAt(rt)).toBe(now);
      expect(await fireAlarm(rt)).toBe(true);
      const claim = await ok(rt.nextTask({ agent_id: "worker" }));
      if (claim.task) working.set(claim.task.id, { lease: claim.lease_id!, since: now });
    }
    // A run at minutes 1, 4, 7, …, 58; the two due times in between find the last run unfinished.
    const runs = await runsOf(rt, schedule_id);
    expect(runs).toHaveLength(20);
    expect(runs.map((r) => r.created_at)).toEqual(Array.from({ length: 20 }, (_, i) => T0 + (1 + 3 * i) * MINUTE));
    expect(await scheduleOf(rt, schedule_id)).toMatchObject({
      runs: 20,
      skipped_runs: 40,
      last_run_at: isoAt(T0 + 58 * MINUTE),
      last_task_id: runs[19].id,
      next_run_at: isoAt(T0 + 61 * MINUTE),
    });
  });

  it("with overlap allow, makes a task at every due time however many are unfinished", async () => {
    const rt = freshRuntime("sched-allow");
    const { schedule_id } = await ok(rt.createSchedule({ title: "tick", every_seconds: 60, overlap: "allow" }));
    for (let i = 0; i < 10; i++) await runNext(rt, schedule_id);
    expect((await runsOf(rt, schedule_id)).map((r) => r.status)).toEqual(Array(10).fill("pending"));
    expect(await scheduleOf(rt, schedule_id)).toMatchObject({ runs: 10, skipped_runs: 0 });
  });

  it("makes a task like any other: the schedule's fields, in its goal's counts, handed out, waking a waiting agent", async () => {
    const rt = freshRuntime("sched-task");
    const goal = await ok(rt.createGoal({ name: "Triage", description: "" }));
    const schedule = await ok(
      rt.createSchedule({
        title: "Triage new issues",
        description: "Label and route everything opened since the last run.",
        goal_id: goal.id,
        role: "triager",
        priority: 8,
        metadata: { repo: "acme/app" },
        cron: "0 9 * * *",
      }),
    );
    at(Date.parse(schedule.next_run_at!));
    expect(await fireAlarm(rt)).toBe(true);
    const [run] = await runsOf(rt, schedule.schedule_id);
    const task = await ok(rt.getTask(run.id));
    expect(task).toMatchObject({
      title: "Triage new issues",
      description: "Label and route everything opened since the last run.",
      goal_id: goal.id,
      priority: 8,
      metadata: { repo: "acme/app" },
      status: "pending",
      schedule_id: schedule.schedule_id,
      created_at: schedule.next_run_at,
    });
    // The role reaches the task through NewTask.role; it shows once the task has its role column.
    if ("role" in task) expect(task).toMatchObject({ role: "triager" });
    expect((await ok(rt.getGoal(goal.id))).task_counts.pending).toBe(1);
    expect(await scheduleOf(rt, schedule.schedule_id)).toMatchObject({ runs: 1, last_task_id: run.id, last_run_at: schedule.next_run_at });
  });

  it("keeps a cron schedule's wall-clock time across daylight saving in Europe/Berlin (spring forward and fall back)", async () => {
    const daily = { title: "02:30 Berlin", cron: "30 2 * * *", timezone: "Europe/Berlin", overlap: "allow" } as const;
    at(Date.parse("2030-03-29T12:00:00Z"));
    const rt = freshRuntime("sched-berlin-spring");
    const spring = await ok(rt.createSchedule(daily));
    const springRuns: string[] = [];
    for (let i = 0; i < 3; i++) springRuns.push(isoAt(await runNext(rt, spring.schedule_id)));
    // 02:30 CET; on the 31st 02:30 does not exist and the run is at 03:00 CEST; then 02:30 CEST.
    expect(springRuns).toEqual(["2030-03-30T01:30:00.000Z", "2030-03-31T01:00:00.000Z", "2030-04-01T00:30:00.000Z"]);

    at(Date.parse("2030-10-25T12:00:00Z"));
    const autumn = freshRuntime("sched-berlin-autumn");
    const fall = await ok(autumn.createSchedule(daily));
    const fallRuns: string[] = [];
    for (let i = 0; i < 3; i++) fallRuns.push(isoAt(await runNext(autumn, fall.schedule_id)));
    // On the 27th 02:30 happens twice (CEST, then CET): one run, at the first.
    expect(fallRuns).toEqual(["2030-10-26T00:30:00.000Z", "2030-10-27T00:30:00.000Z", "2030-10-28T01:30:00.000Z"]);
    expect((await runsOf(autumn, fall.schedule_id)).map((r) => isoAt(r.created_at))).toEqual(fallRuns);
  });

  it("keeps 09:00 on weekdays in America/New_York when the clocks change, while every_seconds keeps elapsed time", async () => {
    at(Date.parse("2030-03-07T18:00:00Z"));
    const rt = freshRuntime("sched-new-york");
    const standup = await ok(rt.createSchedule({ title: "standup", cron: "0 9 * * 1-5", timezone: "America/New_York", overlap: "allow" }));
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) runs.push(isoAt(await runNext(rt, standup.schedule_id)));
    // Friday 09:00 EST, then Monday and Tuesday 09:00 EDT (the clocks moved on Sunday the 10th).
    expect(runs).toEqual(["2030-03-08T14:00:00.000Z", "2030-03-11T13:00:00.000Z", "2030-03-12T13:00:00.000Z"]);

    at(Date.parse("2030-03-07T18:00:00Z"));
    const other = freshRuntime("sched-new-york-every");
    const every = await ok(other.createSchedule({ title: "daily", every_seconds: 86_400, timezone: "America/New_York", overlap: "allow" }));
    const elapsed: string[] = [];
    for (let i = 0; i < 4; i++) elapsed.push(isoAt(await runNext(other, every.schedule_id)));
    // 24 hours apart whatever the wall clock says: 13:00 EST becomes 14:00 EDT.
    expect(elapsed).toEqual(["2030-03-08T18:00:00.000Z", "2030-03-09T18:00:00.000Z", "2030-03-10T18:00:00.000Z", "2030-03-11T18:00:00.000Z"]);
  });

  it("after downtime makes one late run, never a burst, and then runs at the next due time after now", async () => {
    const rt = freshRuntime("sched-late");
    const { schedule_id } = await ok(rt.createSchedule({ title: "every minute", every_seconds: 60, overlap: "allow" }));
    // Nobody delivered the alarm for 3 hours and 20 seconds: 180 due times went by.
    at(T0 + 3 * HOUR + 20_000);
    expect(await fireAlarm(rt)).toBe(true);
    expect(await runsOf(rt, schedule_id)).toHaveLength(1);
    expect(await scheduleOf(rt, schedule_id)).toMatchObject({ runs: 1, skipped_runs: 0, next_run_at: isoAt(T0 + 3 * HOUR + MINUTE) });
    expect(await alarmAt(rt)).toBe(T0 + 3 * HOUR + MINUTE);
    // The same alarm delivered again at the same time makes nothing.
    await runInDurableObject(stubOf(rt), (instance: Runtime) => instance.alarm());
    expect(await runsOf(rt, schedule_id)).toHaveLength(1);
  });

  it("makes one run when the alarm is delivered twice for a due time", async () => {
    const rt = freshRuntime("sched-twice");
    const { schedule_id } = await ok(rt.createSchedule({ title: "once", every_seconds: 300, overlap: "allow" }));
    at(T0 + 300_000);
    await runInDurableObject(stubOf(rt), async (instance: Runtime) => {
      await instance.alarm();
      await instance.alarm();
    });
    expect(await runsOf(rt, schedule_id)).toHaveLength(1);
  });

  it("loses no run and doubles none when the object restarts between runs", async () => {
    const rt = freshRuntime("sched-restart");
    const { schedule_id } = await ok(rt.createSchedule({ title: "survives", every_seconds: 600, overlap: "allow" }));
    await runNext(rt, schedule_id);
    await evictDurableObject(stubOf(rt));
    // The new instance finds the alarm armed for the next run, and makes it once.
    expect(await alarmAt(rt)).toBe(T0 + 2 * 600_000);
    await runNext(rt, schedule_id);
    await evictDurableObject(stubOf(rt));
    at(T0 + 2 * 600_000 + 1_000);
    await fireAlarm(rt);
    expect((await runsOf(rt, schedule_id)).map((r) => r.created_at)).toEqual([T0 + 600_000, T0 + 1_200_000]);
    expect(await scheduleOf(rt, schedule_id)).toMatchObject({ runs: 2, next_run_at: isoAt(T0 + 1_800_000) });
  });

  it("ends after its last run before ends_at, and the alarm is cleared", async () => {
    const rt = freshRuntime("sched-ends");
    const { schedule_id } = await ok(rt.createSchedule({ title: "three times", every_seconds: 60, ends_at: T0 + 3 * MINUTE + 1, overlap: "allow" }));
    for (let i = 0; i < 3; i++) await runNext(rt, schedule_id);
    expect(await scheduleOf(rt, schedule_id)).toMatchObject({ status: "ended", next_run_at: null, runs: 3 });
    expect(await alarmAt(rt)).toBeNull();
  });

  it("ends a schedule whose goal was cancelled at its next due time, making nothing", async () => {
    const rt = freshRuntime("sched-goal-cancelled");
    const goal = await ok(rt.createGoal({ name: "temporary", description: "" }));
    const { schedule_id } = await ok(rt.createSchedule({ title: "t", every_seconds: 60, goal_id: goal.id }));
    await ok(rt.cancelGoal(goal.id));
    await runNext(rt, schedule_id);
    expect(await runsOf(rt, schedule_id)).toEqual([]);
    expect(await scheduleOf(rt, schedule_id)).toMatchObject({ status: "ended", next_run_at: null, runs: 0 });
    expect(await alarmAt(rt)).toBeNull();
  });

  it(`handles at most ${SCHEDULE_LIMITS.runsPerAlarm} due schedules per alarm run and fires again at once for the rest`, async () => {
    const rt = freshRuntime("sched-batch");
    const count = SCHEDULE_LIMITS.runsPerAlarm + 20;
    await runInDurableObject(stubOf(rt), (_: Runtime, state) =>
      state.storage.transactionSync(() => {
        for (let i = 0; i < count; i++) createSchedule(state.storage.sql, { title: `s${i}`, every_seconds: 3600 }, T0);
      }),
    );
    // Written past the Runtime's own writes: a restart derives the alarm from them.
    await evictDurableObject(stubOf(rt));
    at(T0 + HOUR);
    await fireAlarm(rt);
    const made = () => withSql(rt, (sql) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM tasks`).one().n);
    expect(await made()).toBe(SCHEDULE_LIMITS.runsPerAlarm);
    // The rest are still due: the alarm is armed for their due time, already past.
    expect(await alarmAt(rt)).toBe(T0 + HOUR);
    await fireAlarm(rt);
    expect(await made()).toBe(count);
    expect(await alarmAt(rt)).toBe(T0 + 2 * HOUR);
  });
});

describe("pausing, resuming, ending and editing", () => {
  it("a paused schedule makes nothing; resumed, it runs at the next due time after now, without making up missed runs", async () => {
    const rt = freshRuntime("sched-pause");
    const { schedule_id } = await ok(rt.createSchedule({ title: "p", every_seconds: 600, overlap: "allow" }));
    await runNext(rt, schedule_id);
    const paused = await ok(rt.updateSchedule({ schedule_id, status: "paused" }));
    expect(paused).toMatchObject({ status: "paused", next_run_at: null, runs: 1 });
    expect(await alarmAt(rt)).toBeNull();
    at(T0 + 5 * HOUR + 1);
    expect(await fireAlarm(rt)).toBe(false);
    const resumed = await ok(rt.updateSchedule({ schedule_id, status: "active" }));
    // The 10-minute grid from creation goes on: 5 h 10 min after it.
    expect(resumed).toMatchObject({ status: "active", next_run_at: isoAt(T0 + 5 * HOUR + 600_000), runs: 1, skipped_runs: 0 });
    await runNext(rt, schedule_id);
    expect(await runsOf(rt, schedule_id)).toHaveLength(2);
  });

  it("ending is final: resuming is a conflict, editing a failed precondition, and neither changes anything", async () => {
    const rt = freshRuntime("sched-end");
    const { schedule_id } = await ok(rt.createSchedule({ title: "e", every_seconds: 600 }));
    expect(await ok(rt.updateSchedule({ schedule_id, status: "ended" }))).toMatchObject({ status: "ended", next_run_at: null });
    expect(await alarmAt(rt)).toBeNull();
    const before = await snapshot(rt);
    expect(await refused(rt.updateSchedule({ schedule_id, status: "active" }))).toMatch(/^conflict: schedule sc_\w+ has ended and cannot become active/);
    expect(await refused(rt.updateSchedule({ schedule_id, title: "again" }))).toMatch(/^failed_precondition: schedule sc_\w+ has ended/);
    expect(await snapshot(rt)).toEqual(before);
  });

  it("edits apply to the next runs: a new rule moves the next run, a new title names the next tasks", async () => {
    const rt = freshRuntime("sched-edit");
    const { schedule_id } = await ok(rt.createSchedule({ title: "old", every_seconds: 600, overlap: "allow" }));
    await runNext(rt, schedule_id);
    const edited = await ok(rt.updateSchedule({ schedule_id, title: "new", cron: "0 12 * * *", timezone: "Asia/Tokyo", priority: 9 }));
    // Noon in Tokyo is 03:00 UTC: tomorrow's.
    expect(edited).toMatchObject({ title: "new", every_seconds: null, cron: "0 12 * * *", timezone: "Asia/Tokyo", priority: 9 });
    expect(edited.next_run_at).toBe("2030-01-08T03:00:00.000Z");
    expect(await alarmAt(rt)).toBe(Date.parse("2030-01-08T03:00:00.000Z"));
    await runNext(rt, schedule_id);
    expect((await runsOf(rt, schedule_id)).map((r) => r.title)).toEqual(["old", "new"]);
  });

  it("refuses an empty edit, two rules at once, a bad rule and an unknown schedule, changing nothing", async () => {
    const rt = freshRuntime("sched-edit-refuse");
    const { schedule_id } = await ok(rt.createSchedule({ title: "r", every_seconds: 600 }));
    const before = await snapshot(rt);
    expect(await refused(rt.updateSchedule({ schedule_id }))).toMatch(/^invalid_argument: schedule_id: nothing to change/);
    expect(await refused(rt.updateSchedule({ schedule_id, every_seconds: 60, cron: "* * * * *" }))).toMatch(/^invalid_argument: every_seconds:/);
    expect(await refused(rt.updateSchedule({ schedule_id, cron: "not a rule" }))).toMatch(/^invalid_argument: cron:/);
    expect(await refused(rt.updateSchedule({ schedule_id, timezone: "Nowhere/Land" }))).toMatch(/^invalid_argument: timezone:/);
    expect(await refused(rt.updateSchedule({ schedule_id, keep_runs: 0 }))).toMatch(/^invalid_argument: keep_runs:/);
    expect(await refused(rt.updateSchedule({ schedule_id: "sc_aaaaaaaaaaaa", status: "paused" }))).toMatch(/^not_found: schedule sc_aaaaaaaaaaaa does not exist/);
    expect(await snapshot(rt)).toEqual(before);
  });

  it("writes nothing when asked for what already holds: pausing a paused schedule, a title it has", async () => {
    const rt = freshRuntime("sched-idempotent");
    const { schedule_id } = await ok(rt.createSchedule({ title: "same", every_seconds: 600 }));
    const paused = await ok(rt.updateSchedule({ schedule_id, status: "paused" }));
    at(T0 + MINUTE);
    const before = await snapshot(rt);
    expect(await ok(rt.updateSchedule({ schedule_id, status: "paused", title: "same" }))).toEqual(paused);
    expect(await snapshot(rt)).toEqual(before);
  });

  it("refuses to resume a schedule whose goal was cancelled", async () => {
    const rt = freshRuntime("sched-resume-cancelled");
    const goal = await ok(rt.createGoal({ name: "g", description: "" }));
    const { schedule_id } = await ok(rt.createSchedule({ title: "r", every_seconds: 600, goal_id: goal.id }));
    await ok(rt.updateSchedule({ schedule_id, status: "paused" }));
    await ok(rt.cancelGoal(goal.id));
    const before = await snapshot(rt);
    expect(await refused(rt.updateSchedule({ schedule_id, status: "active" }))).toMatch(/^failed_precondition: goal \d+ is cancelled/);
    expect(await snapshot(rt)).toEqual(before);
  });
});

describe("keep_runs: bounded by design", () => {
  const eventsOfMissingTasks = (rt: RuntimeApi) =>
    withSql(rt, (sql) => sql.exec<{ n: number }>(`SELECT count(*) AS n FROM task_events WHERE task_id NOT IN (SELECT id FROM tasks)`).one().n);

  it("holds an hourly schedule at its bound over a simulated week, still counting every run", { timeout: 120_000 }, async () => {
    const rt = freshRuntime("sched-week");
    const goal = await ok(rt.createGoal({ name: "Hourly checks", description: "" }));
    const { schedule_id } = await ok(rt.createSchedule({ title: "check", every_seconds: 3600, keep_runs: 24, goal_id: goal.id }));
    for (let hour = 1; hour <= 7 * 24; hour++) {
      await runNext(rt, schedule_id);
      const kept = await runsOf(rt, schedule_id);
      // The newest 24 finished runs, and the one just made.
      expect(kept.length).toBeLessThanOrEqual(25);
      await workAll(rt);
    }
    const kept = await runsOf(rt, schedule_id);
    expect(kept).toHaveLength(25);
    expect(kept.map((r) => r.created_at)).toEqual(Array.from({ length: 25 }, (_, i) => T0 + (144 + i) * HOUR));
    expect(await scheduleOf(rt, schedule_id)).toMatchObject({ runs: 168, skipped_runs: 0, status: "active" });
    expect(await eventsOfMissingTasks(rt)).toBe(0);
    // The goal counts the tasks that are kept.
    expect((await ok(rt.getGoal(goal.id))).task_counts).toMatchObject({ completed: 25, pending: 0 });
  });

  it("keeps a finished run another task depends on, so its dependent sees it as before", async () => {
    const rt = freshRuntime("sched-pinned");
    const { schedule_id } = await ok(rt.createSchedule({ title: "build", every_seconds: 600, keep_runs: 1, overlap: "allow" }));
    await runNext(rt, schedule_id);
    const [first] = await runsOf(rt, schedule_id);
    const report = await ok(rt.createTask({ title: "report on the first build", dependencies: [first.id] }));
    await workAll(rt); // completes the build, then the report
    for (let i = 0; i < 3; i++) {
      await runNext(rt, schedule_id);
      await workAll(rt);
    }
    const kept = (await runsOf(rt, schedule_id)).map((r) => r.id);
    // The first run stays (the report depends on it); of the other three the newest finished one
    // before the last run, and the last run (finished since; removed at the next run).
    expect(kept).toHaveLength(3);
    expect(kept[0]).toBe(first.id);
    expect(await ok(rt.getTask(report.id))).toMatchObject({ dependencies: [first.id], blocked_by: [], status: "completed" });
  });

  it("removes the excess of a lowered keep_runs in bounded batches, with the history of what it removes", { timeout: 60_000 }, async () => {
    const rt = freshRuntime("sched-lowered");
    const { schedule_id } = await ok(rt.createSchedule({ title: "many", every_seconds: 60, keep_runs: 10_000, overlap: "allow" }));
    const runs = 1_210;
    // Seeding through the alarm's own work with a moving `now` (one transaction), then finishing every run.
    await runInDurableObject(stubOf(rt), (_: Runtime, state) =>
      state.storage.transactionSync(() => {
        const sql = state.storage.sql;
        for (let i = 1; i <= runs; i++) scheduleTimedWork.runDue(sql, T0 + i * MINUTE);
        sql.exec(`UPDATE tasks SET status = 'completed', completed_at = ? WHERE schedule_id = ?`, T0, schedule_id);
        sql.exec(
          `INSERT INTO task_events (task_id, at, kind, attempt, status, detail) SELECT id, ?, 'status_changed', 0, 'completed', 'pending → completed' FROM tasks`,
          T0,
        );
      }),
    );
    at(T0 + runs * MINUTE + 1);
    expect(await runsOf(rt, schedule_id)).toHaveLength(runs);
    await ok(rt.updateSchedule({ schedule_id, keep_runs: 10 }));
    const kept = async () => (await runsOf(rt, schedule_id)).length;
    // The alarm removes 500 at a time and fires again at once until only the newest 10 are left.
    expect(await fireAlarm(rt)).toBe(true);
    expect(await kept()).toBe(runs - SCHEDULE_LIMITS.prunedPerAlarm);
    expect(await fireAlarm(rt)).toBe(true);
    expect(await kept()).toBe(runs - 2 * SCHEDULE_LIMITS.prunedPerAlarm);
    expect(await fireAlarm(rt)).toBe(true);
    expect(await kept()).toBe(10);
    expect(await eventsOfMissingTasks(rt)).toBe(0);
    expect(await ok(rt.getSchedule(schedule_id))).toMatchObject({ runs, keep_runs: 10 });
    // Nothing more to remove: the alarm waits for the next run.
    expect(await alarmAt(rt)).toBe(T0 + (runs + 1) * MINUTE);
  });

  it("clears every table that refers to a task when it removes one (a new reference must be added to the removal)", async () => {
    const rt = freshRuntime("sched-references");
    const referring = await withSql(rt, (sql) =>
      sql
        .exec<{ name: string }>(
          `SELECT DISTINCT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND f."table" = 'tasks' ORDER BY m.name`,
        )
        .toArray()
        .map((r) => r.name),
    );
    // runs.ts removeTasks deletes from exactly these.
    expect(referring).toEqual(["task_deps", "task_events"]);
  });
});
