/**
 * What a schedule is (docs/schedules.md): a task template (title, description, goal, role,
 * priority, metadata) and a rule saying when to make one (every N seconds, or a cron expression
 * in a time zone), between optional start and end times. While `active` its `next_run_at` is a
 * due time of the Runtime's one alarm; `paused` keeps it for later, `ended` is final.
 */
import { notFound } from "../kernel/errors";
import { iso, parseObject, type JsonObject } from "../kernel/rows";

export const SCHEDULE_STATUSES = ["active", "paused", "ended"] as const;
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

/** skip: no run while the previous run's task is unfinished (pending or in progress); allow: always. */
export const OVERLAPS = ["skip", "allow"] as const;
export type Overlap = (typeof OVERLAPS)[number];

export const SCHEDULE_LIMITS = {
  everyMinSeconds: 60,
  /** A year. */
  everyMaxSeconds: 31_536_000,
  keepRunsDefault: 100,
  keepRunsMax: 10_000,
  /** Schedules that are not ended, per user. */
  live: 1_000,
  cron: 200,
  timezone: 64,
  role: 64,
  /** Due schedules handled per alarm run; the rest stay due and the alarm fires again at once. */
  runsPerAlarm: 100,
  /** Finished runs removed per alarm run (beyond their schedule's keep_runs). */
  prunedPerAlarm: 500,
  /** A schedule's newest runs shown with it (resource, dashboard). */
  recentRuns: 10,
} as const;

export const ID_PREFIX = "sc_";

export interface Schedule {
  schedule_id: string;
  title: string;
  description: string;
  goal_id: number | null;
  role: string | null;
  priority: number;
  metadata: JsonObject;
  every_seconds: number | null;
  cron: string | null;
  timezone: string;
  overlap: Overlap;
  starts_at: string | null;
  ends_at: string | null;
  keep_runs: number;
  status: ScheduleStatus;
  next_run_at: string | null;
  last_run_at: string | null;
  last_task_id: number | null;
  /** Tasks made, removed ones included. */
  runs: number;
  /** Due times passed over because the previous run was unfinished (overlap "skip"). */
  skipped_runs: number;
  created_at: string;
  updated_at: string;
}

/** A schedule as a list shows it by default (docs/lists.md): empty values left out. */
export interface ScheduleBrief {
  schedule_id: string;
  title: string;
  status: ScheduleStatus;
  every_seconds?: number;
  cron?: string;
  next_run_at?: string;
}

export interface ScheduleRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  title: string;
  description: string;
  goal_id: number | null;
  role: string | null;
  priority: number;
  metadata: string;
  every_seconds: number | null;
  cron: string | null;
  timezone: string;
  overlap: Overlap;
  starts_at: number | null;
  ends_at: number | null;
  keep_runs: number;
  status: ScheduleStatus;
  next_run_at: number | null;
  last_run_at: number | null;
  last_task_id: number | null;
  runs: number;
  skipped_runs: number;
  prune_at: number | null;
  created_at: number;
  updated_at: number;
}

export function toSchedule(row: ScheduleRow): Schedule {
  return {
    schedule_id: row.id,
    title: row.title,
    description: row.description,
    goal_id: row.goal_id,
    role: row.role,
    priority: row.priority,
    metadata: parseObject(row.metadata),
    every_seconds: row.every_seconds,
    cron: row.cron,
    timezone: row.timezone,
    overlap: row.overlap,
    starts_at: iso(row.starts_at),
    ends_at: iso(row.ends_at),
    keep_runs: row.keep_runs,
    status: row.status,
    next_run_at: iso(row.next_run_at),
    last_run_at: iso(row.last_run_at),
    last_task_id: row.last_task_id,
    runs: row.runs,
    skipped_runs: row.skipped_runs,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
  };
}

export function scheduleRow(sql: SqlStorage, scheduleId: string): ScheduleRow {
  const row = sql.exec<ScheduleRow>(`SELECT * FROM schedules WHERE id = ?`, scheduleId).toArray()[0];
  if (!row) throw notFound(`schedule ${scheduleId} does not exist`);
  return row;
}
