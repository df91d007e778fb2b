/**
 * Schedule tools (docs/schedules.md): recurring work. A schedule makes one task at each due time
 * (every_seconds, or a five-field cron in an IANA time zone); the alarm does it, nobody polls.
 * Lean on purpose: every agent on /mcp and /mcp/plan pays for these definitions (SPEC §9), so no
 * field carries prose, and the schedule object in results is declared as an object only.
 */
import { z } from "zod";
import { mapOutcome } from "../../runtime/kernel/errors";
import { LIMITS } from "../../runtime/kernel/limits";
import { OVERLAPS, SCHEDULE_LIMITS, SCHEDULE_STATUSES, type Schedule } from "../../runtime/schedules/model";
import type { ToolContext } from "../context";
import { STANDARD_LIMITS } from "../json-schema";
import { listInput, pageAnswer, pageOutput } from "../lists";
import * as s from "../schemas";
import { shape } from "../shapes";
import { defineTool, READ_ONLY, WRITES } from "../tool";
import { resourceLink, URI_TEMPLATES } from "../uris";

const standard = { [STANDARD_LIMITS]: true };
const scheduleId = s.issuedId;
const status = z.enum(SCHEDULE_STATUSES);

/** A role, as on tasks: one line, at most 64 characters. */
const role = s.oneLineName.max(SCHEDULE_LIMITS.role);

/** ISO 8601 with a zone (`Z` or an offset), as ms for the domain. The shape is said once, in the instructions. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const time = z
  .string()
  .max(64)
  .meta(standard)
  .transform((text, ctx) => {
    const ms = ISO_TIME.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(ms)) ctx.issues.push({ code: "custom", message: "an ISO 8601 time with a zone, e.g. 2030-01-07T09:00:00Z", input: text });
    return ms;
  });

/** What a run's task and its timing are made of. Bare on purpose: the limits are the tasks' and the instructions'. */
const fields = {
  title: s.title,
  description: s.text,
  goal_id: s.id("goal"),
  role,
  priority: z.number().int().min(LIMITS.priorityMin).max(LIMITS.priorityMax),
  metadata: s.metadata,
  every_seconds: z.number().int().min(SCHEDULE_LIMITS.everyMinSeconds).max(SCHEDULE_LIMITS.everyMaxSeconds),
  cron: z.string().min(1).max(SCHEDULE_LIMITS.cron).meta(standard),
  timezone: z.string().min(1).max(SCHEDULE_LIMITS.timezone).meta(standard),
  overlap: z.enum(OVERLAPS),
  starts_at: time,
  ends_at: time,
  keep_runs: z.number().int().min(1).max(SCHEDULE_LIMITS.keepRunsMax),
};

const schedule = shape<Schedule>()(
  z.object({
    schedule_id: z.string(),
    title: z.string(),
    description: z.string(),
    goal_id: z.number().nullable(),
    role: z.string().nullable(),
    priority: z.number(),
    metadata: z.record(z.string(), z.unknown()),
    every_seconds: z.number().nullable(),
    cron: z.string().nullable(),
    timezone: z.string(),
    overlap: z.enum(OVERLAPS),
    starts_at: s.timestamp.nullable(),
    ends_at: s.timestamp.nullable(),
    keep_runs: z.number(),
    status,
    next_run_at: s.timestamp.nullable(),
    last_run_at: s.timestamp.nullable(),
    last_task_id: z.number().nullable(),
    runs: z.number(),
    skipped_runs: z.number(),
    created_at: s.timestamp,
    updated_at: s.timestamp,
  }),
  // Owned by the resource, not a tool: no tool's result spells the fields out, which saves every
  // agent ~200 tokens of tools/list; the resource and docs/schedules.md show them.
  URI_TEMPLATES.schedule,
);

/** A schedule in a list: brief (id, title, status; rule and next run when set) or, with view "full", the whole schedule. */
const listedSchedule = schedule.partial().required({ schedule_id: true, title: true, status: true });

const createSchedule = defineTool({
  name: "create_schedule",
  description: "Make one task with these fields at each due time: every_seconds, or a five-field cron in timezone (IANA, default UTC).",
  input: z.strictObject({
    title: fields.title,
    description: fields.description.optional(),
    goal_id: fields.goal_id.optional(),
    role: fields.role.optional(),
    priority: fields.priority.optional(),
    metadata: fields.metadata.optional(),
    every_seconds: fields.every_seconds.optional(),
    cron: fields.cron.optional(),
    timezone: fields.timezone.optional(),
    overlap: fields.overlap.optional(),
    starts_at: fields.starts_at.optional(),
    ends_at: fields.ends_at.optional(),
    keep_runs: fields.keep_runs.optional(),
  }),
  output: schedule,
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.createSchedule(args),
  link: (created) => resourceLink("schedule", created.schedule_id),
});

/** The goal, overlap and start of a schedule stay as made: to change them, end it and make another. */
const updateSchedule = defineTool({
  name: "update_schedule",
  description: "Pause, resume, end (final) or edit a schedule; null clears a field.",
  input: z.strictObject({
    schedule_id: scheduleId,
    status: status.optional(),
    title: fields.title.optional(),
    description: fields.description.optional(),
    role: fields.role.nullable().optional(),
    priority: fields.priority.optional(),
    metadata: fields.metadata.optional(),
    every_seconds: fields.every_seconds.optional(),
    cron: fields.cron.optional(),
    timezone: fields.timezone.optional(),
    ends_at: fields.ends_at.nullable().optional(),
    keep_runs: fields.keep_runs.optional(),
  }),
  output: schedule,
  // Destructive: the old values are gone, and ending is final. Idempotent: repeating it changes nothing more.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.updateSchedule(args),
});

const listSchedules = defineTool({
  name: "list_schedules",
  description: 'Schedules, newest first; brief items unless view is "full".',
  input: z.strictObject({ status: status.optional(), ...listInput }),
  output: z.object({ schedules: z.array(listedSchedule), ...pageOutput }),
  annotations: READ_ONLY,
  run: async (args, { runtime }: ToolContext) => mapOutcome(await runtime.listSchedules(args), (page) => pageAnswer("schedules", page)),
});

export const scheduleTools = [createSchedule, updateSchedule, listSchedules];
