/**
 * Making, editing and reading schedules (docs/schedules.md). What happens at a due time is
 * runs.ts; when the due times fall is timing.ts.
 *
 * Every refusal is thrown before anything is written, and the Runtime runs each call as one
 * transaction, so a refused call changes nothing.
 */
import { assertGoalAcceptsTasks, goalStatus } from "../goals/goals";
import type { Cursors } from "../kernel/cursor";
import { conflict, exhausted, failedPrecondition, invalid } from "../kernel/errors";
import { LIMITS } from "../kernel/limits";
import { keysetRows, readPage, scopeOf, viewOf, type KeysetTable, type Page, type PageQuery, type View, type Viewed } from "../kernel/page";
import { iso, prefixRange, randomToken, type JsonObject } from "../kernel/rows";
import type { TaskStatus } from "../tasks/model";
import {
  ID_PREFIX,
  SCHEDULE_LIMITS,
  scheduleRow,
  toSchedule,
  type Overlap,
  type Schedule,
  type ScheduleBrief,
  type ScheduleRow,
  type ScheduleStatus,
} from "./model";
import { assertCron, canonicalTimezone, nextRunAfter, type Rule } from "./timing";

/** Times are ms since the epoch here; the tools take and show ISO 8601. */
export interface NewSchedule {
  title: string;
  description?: string;
  goal_id?: number;
  role?: string;
  priority?: number;
  metadata?: JsonObject;
  every_seconds?: number;
  cron?: string;
  /** IANA name, default UTC; applies to cron. */
  timezone?: string;
  overlap?: Overlap;
  starts_at?: number;
  ends_at?: number;
  keep_runs?: number;
}

/** Omitted fields keep their value; null clears goal_id, role, starts_at, ends_at. Passing
 * every_seconds or cron switches the rule to it. */
export interface ScheduleEdit {
  schedule_id: string;
  title?: string;
  description?: string;
  goal_id?: number | null;
  role?: string | null;
  priority?: number;
  metadata?: JsonObject;
  every_seconds?: number;
  cron?: string;
  timezone?: string;
  overlap?: Overlap;
  starts_at?: number | null;
  ends_at?: number | null;
  keep_runs?: number;
  /** active (resume), paused (pause) or ended (end: final). */
  status?: ScheduleStatus;
}

/** One run of a schedule as shown beside it: the task it made. */
export interface ScheduleRun {
  task_id: number;
  status: TaskStatus;
  created_at: string;
  completed_at: string | null;
}

/** A schedule with its newest runs (the resource, the dashboard). */
export interface ScheduleDetail extends Schedule {
  recent_runs: ScheduleRun[];
}

export type ScheduleQuery<V extends View = View> = { status?: ScheduleStatus } & PageQuery<V>;

export function createSchedule(sql: SqlStorage, input: NewSchedule, now: number): Schedule {
  const live = sql.exec<{ n: number }>(`SELECT count(*) AS n FROM schedules WHERE status IN ('active', 'paused')`).one().n;
  if (live >= SCHEDULE_LIMITS.live) {
    throw exhausted(`at most ${SCHEDULE_LIMITS.live} schedules may be active or paused; end one first`);
  }
  if (input.goal_id !== undefined) assertGoalAcceptsTasks(sql, input.goal_id);
  const keepRuns = checkedKeepRuns(input.keep_runs ?? SCHEDULE_LIMITS.keepRunsDefault);
  const rule = checkedRule(
    {
      every_seconds: input.every_seconds ?? null,
      cron: input.cron ?? null,
      timezone: input.timezone ?? "UTC",
      starts_at: input.starts_at ?? null,
      ends_at: input.ends_at ?? null,
      created_at: now,
    },
    now,
  );
  const next = firstRun(rule, now);
  const row = sql
    .exec<ScheduleRow>(
      `INSERT INTO schedules (id, title, description, goal_id, role, priority, metadata, every_seconds, cron, timezone, overlap,
         starts_at, ends_at, keep_runs, status, next_run_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?) RETURNING *`,
      `${ID_PREFIX}${randomToken(12)}`,
      input.title,
      input.description ?? "",
      input.goal_id ?? null,
      input.role ?? null,
      input.priority ?? LIMITS.priorityDefault,
      JSON.stringify(input.metadata ?? {}),
      rule.every_seconds,
      rule.cron,
      rule.timezone,
      input.overlap ?? "skip",
      rule.starts_at,
      rule.ends_at,
      keepRuns,
      next,
      now,
      now,
    )
    .one();
  return toSchedule(row);
}

const EDITABLE = [
  "title",
  "description",
  "goal_id",
  "role",
  "priority",
  "metadata",
  "every_seconds",
  "cron",
  "timezone",
  "overlap",
  "starts_at",
  "ends_at",
  "keep_runs",
] as const satisfies readonly (keyof ScheduleEdit)[];
const TIMING = ["every_seconds", "cron", "timezone", "starts_at", "ends_at"] as const satisfies readonly (keyof ScheduleEdit)[];

/**
 * Pauses, resumes, ends or edits a schedule. Resuming, or changing when it runs, sets the next
 * run to the first due time after now (runs missed while paused are not made up for). Ended is
 * final: it cannot be resumed (conflict) or edited (failed_precondition).
 */
export function updateSchedule(sql: SqlStorage, edit: ScheduleEdit, now: number): Schedule {
  const row = scheduleRow(sql, edit.schedule_id);
  const edited = EDITABLE.filter((field) => edit[field] !== undefined);
  if (edited.length === 0 && edit.status === undefined) {
    throw invalid("schedule_id", `nothing to change: pass status or at least one of ${EDITABLE.join(", ")}`);
  }
  const status = edit.status ?? row.status;
  if (row.status === "ended" && status !== "ended") throw conflict(`schedule ${row.id} has ended and cannot become ${status}`);
  if (row.status === "ended" && edited.length > 0) throw failedPrecondition(`schedule ${row.id} has ended and cannot be edited`);
  const goalId = edit.goal_id === undefined ? row.goal_id : edit.goal_id;
  if (edit.goal_id !== undefined && edit.goal_id !== null) assertGoalAcceptsTasks(sql, edit.goal_id);
  if (status === "active" && row.status !== "active" && goalId !== null && goalStatus(sql, goalId) === "cancelled") {
    throw failedPrecondition(`goal ${goalId} is cancelled and takes no new tasks: the schedule cannot resume`);
  }
  const keepRuns = edit.keep_runs === undefined ? row.keep_runs : checkedKeepRuns(edit.keep_runs);
  const timingEdited = TIMING.some((field) => edit[field] !== undefined);
  const rule = timingEdited ? checkedRule(editedRule(row, edit), now) : ruleOf(row);

  let nextRun = status === "active" ? row.next_run_at : null;
  let finalStatus = status;
  if (status === "active" && (row.status !== "active" || timingEdited)) {
    nextRun = timingEdited ? firstRun(rule, now) : nextRunAfter(rule, now);
    // Resumed after its last due time: nothing is left to run.
    if (nextRun === null) finalStatus = "ended";
  }
  const changed: Partial<ScheduleRow> = {
    title: edit.title ?? row.title,
    description: edit.description ?? row.description,
    goal_id: goalId,
    role: edit.role === undefined ? row.role : edit.role,
    priority: edit.priority ?? row.priority,
    metadata: edit.metadata === undefined ? row.metadata : JSON.stringify(edit.metadata),
    every_seconds: rule.every_seconds,
    cron: rule.cron,
    timezone: rule.timezone,
    overlap: edit.overlap ?? row.overlap,
    starts_at: rule.starts_at,
    ends_at: rule.ends_at,
    keep_runs: keepRuns,
    status: finalStatus,
    next_run_at: nextRun,
  };
  // Pausing a paused schedule, or an edit to the same values, writes nothing.
  const columns = Object.keys(changed) as (keyof ScheduleRow)[];
  if (columns.every((column) => changed[column] === row[column])) return toSchedule(row);
  const updated = sql
    .exec<ScheduleRow>(
      `UPDATE schedules SET ${columns.map((column) => `${column} = ?`).join(", ")},
         prune_at = CASE WHEN runs > ? THEN coalesce(prune_at, ?) ELSE prune_at END, updated_at = ?
       WHERE seq = ? RETURNING *`,
      ...columns.map((column) => changed[column] ?? null),
      // A lower keep_runs leaves old runs to remove: the alarm does it in batches.
      keepRuns,
      now,
      now,
      row.seq,
    )
    .one();
  return toSchedule(updated);
}

export function getSchedule(sql: SqlStorage, scheduleId: string): ScheduleDetail {
  const row = scheduleRow(sql, scheduleId);
  return { ...toSchedule(row), recent_runs: recentRuns(sql, row.id, SCHEDULE_LIMITS.recentRuns) };
}

/** Schedules newest first, a page at a time; schedules made during a walk are not in it. */
export function listSchedules<V extends View = "full">(
  sql: SqlStorage,
  cursors: Cursors,
  query: ScheduleQuery<V>,
): Page<Viewed<V, ScheduleBrief, Schedule>> {
  const source: KeysetTable = { table: "schedules", key: "seq", descending: true, filter: { status: query.status } };
  const page =
    viewOf(query) === "brief"
      ? readPage(cursors, scopeOf(source), query, (after: number | null, count) =>
          keysetRows<BriefRow>(sql, source, BRIEF_COLUMNS, after, count).map((row) => ({ key: row.seq, item: briefOf(row) })),
        )
      : readPage(cursors, scopeOf(source), query, (after: number | null, count) =>
          keysetRows<ScheduleRow>(sql, source, "*", after, count).map((row) => ({ key: row.seq, item: toSchedule(row) })),
        );
  // The view chose the reader above, so the items are of the view's type.
  return page as Page<Viewed<V, ScheduleBrief, Schedule>>;
}

const BRIEF_COLUMNS = "seq, id, title, status, every_seconds, cron, next_run_at";
type BriefRow = Pick<ScheduleRow, "seq" | "id" | "title" | "status" | "every_seconds" | "cron" | "next_run_at">;

function briefOf(row: BriefRow): ScheduleBrief {
  const brief: ScheduleBrief = { schedule_id: row.id, title: row.title, status: row.status };
  if (row.every_seconds !== null) brief.every_seconds = row.every_seconds;
  if (row.cron !== null) brief.cron = row.cron;
  if (row.next_run_at !== null) brief.next_run_at = iso(row.next_run_at)!;
  return brief;
}

/** The newest `limit` schedules, newest first, each with its newest runs: the dashboard's page. */
export function schedulesWithRuns(sql: SqlStorage, limit: number, runsEach: number): ScheduleDetail[] {
  return sql
    .exec<ScheduleRow>(`SELECT * FROM schedules ORDER BY seq DESC LIMIT ?`, limit)
    .toArray()
    .map((row) => ({ ...toSchedule(row), recent_runs: recentRuns(sql, row.id, runsEach) }));
}

/** A schedule's newest runs that are still kept, newest first (one index range). */
function recentRuns(sql: SqlStorage, scheduleId: string, limit: number): ScheduleRun[] {
  return sql
    .exec<{ id: number; status: TaskStatus; created_at: number; completed_at: number | null }>(
      `SELECT id, status, created_at, completed_at FROM tasks INDEXED BY tasks_of_schedule WHERE schedule_id = ? ORDER BY id DESC LIMIT ?`,
      scheduleId,
      limit,
    )
    .toArray()
    .map((r) => ({ task_id: r.id, status: r.status, created_at: iso(r.created_at)!, completed_at: iso(r.completed_at) }));
}

/** Up to `limit` schedule ids starting with `prefix`, in order (completions). */
export function scheduleIdsWithPrefix(sql: SqlStorage, prefix: string, limit: number): string[] {
  const [lo, hi] = prefixRange(prefix);
  return sql
    .exec<{ id: string }>(`SELECT id FROM schedules WHERE id >= ? AND id < ? ORDER BY id LIMIT ?`, lo, hi, limit)
    .toArray()
    .map((r) => r.id);
}

export function ruleOf(row: ScheduleRow): Rule {
  return {
    every_seconds: row.every_seconds,
    cron: row.cron,
    timezone: row.timezone,
    starts_at: row.starts_at,
    ends_at: row.ends_at,
    created_at: row.created_at,
  };
}

/** The rule after an edit: every_seconds or cron replaces the other; null clears a time. */
function editedRule(row: ScheduleRow, edit: ScheduleEdit): Rule {
  const rule = ruleOf(row);
  if (edit.every_seconds !== undefined && edit.cron !== undefined) {
    throw invalid("every_seconds", "pass one of every_seconds and cron, not both");
  }
  if (edit.every_seconds !== undefined) return { ...rule, ...times(rule, edit), every_seconds: edit.every_seconds, cron: null };
  if (edit.cron !== undefined) return { ...rule, ...times(rule, edit), every_seconds: null, cron: edit.cron };
  return { ...rule, ...times(rule, edit) };
}

function times(rule: Rule, edit: ScheduleEdit): Pick<Rule, "timezone" | "starts_at" | "ends_at"> {
  return {
    timezone: edit.timezone ?? rule.timezone,
    starts_at: edit.starts_at === undefined ? rule.starts_at : edit.starts_at,
    ends_at: edit.ends_at === undefined ? rule.ends_at : edit.ends_at,
  };
}

/** Validates a rule, naming the field at fault; returns it with the time zone's canonical name. */
function checkedRule(rule: Rule, now: number): Rule {
  if ((rule.every_seconds === null) === (rule.cron === null)) {
    throw invalid("every_seconds", "pass exactly one of every_seconds and cron");
  }
  const { everyMinSeconds: min, everyMaxSeconds: max } = SCHEDULE_LIMITS;
  if (rule.every_seconds !== null && !(Number.isSafeInteger(rule.every_seconds) && rule.every_seconds >= min && rule.every_seconds <= max)) {
    throw invalid("every_seconds", `a whole number of seconds, ${min}..${max}`);
  }
  const timezone = canonicalTimezone(rule.timezone);
  if (rule.cron !== null) assertCron(rule.cron, timezone, now);
  if (rule.ends_at !== null && rule.ends_at <= now) throw invalid("ends_at", "must be in the future");
  if (rule.ends_at !== null && rule.starts_at !== null && rule.ends_at <= rule.starts_at) throw invalid("ends_at", "must be after starts_at");
  return { ...rule, timezone };
}

/** The first run of a new or re-timed schedule; one that would never run is refused. */
function firstRun(rule: Rule, now: number): number {
  const next = nextRunAfter(rule, now);
  if (next === null) throw invalid("ends_at", "no run falls before it");
  return next;
}

function checkedKeepRuns(keepRuns: number): number {
  if (!Number.isSafeInteger(keepRuns) || keepRuns < 1 || keepRuns > SCHEDULE_LIMITS.keepRunsMax) {
    throw invalid("keep_runs", `1..${SCHEDULE_LIMITS.keepRunsMax}`);
  }
  return keepRuns;
}
