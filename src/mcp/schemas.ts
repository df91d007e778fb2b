/** Schema pieces shared by the tools of several areas: ids, limits, metadata, goal and task. */
import { z } from "zod";
import { GOAL_STATUSES, type Goal } from "../runtime/goals/goals";
import { LIMITS } from "../runtime/kernel/limits";
import { EVENT_KINDS, type TaskEvent } from "../runtime/tasks/history";
import { nestedDeeperThan, NOT_BLANK, ONE_LINE } from "../shared/input-rules";
import type { GoalContext, TaskInput } from "../runtime/tasks/inputs";
import { RUN_WHEN, TASK_STATUSES, type Task } from "../runtime/tasks/model";
import type { TaskDetail } from "../runtime/tasks/queue";
import { STANDARD_LIMITS } from "./json-schema";
import { shape } from "./shapes";

export const id = (_what: "goal" | "task") => z.number().int().positive();

/** Names and texts within the standard limits, which tools/list leaves to the instructions. */
const standard = { [STANDARD_LIMITS]: true };
export const title = z.string().min(1).max(LIMITS.title).meta(standard);
export const text = z.string().max(LIMITS.text).meta(standard);
/**
 * A name shown to agents inside prompts (an agent id, an agent type, a fallback agent): one line,
 * not blank, without control characters or Unicode line breaks, so it cannot start a line of its
 * own in a prompt built for another agent (src/shared/input-rules.ts, which the import checks
 * too). A standard limit: the instructions say it once.
 */
const oneLine = (max: number) =>
  z.string().min(1).max(max).regex(NOT_BLANK, "a name, not blank").regex(ONE_LINE, "a name on one line, without control characters");
export const oneLineName = oneLine(LIMITS.agentId).meta(standard);
export const agentId = oneLineName;
/** A role (docs/tasks.md, "Roles"): a one-line name of at most 64 characters (a standard limit). */
export const role = oneLine(LIMITS.role).meta(standard);
export const runWhen = z.enum(RUN_WHEN);

/**
 * A time an agent gives (`not_before`): ISO 8601 with a time zone, within the range a JavaScript
 * Date holds; the domain takes it as ms since the epoch.
 */
export const isoTime = z.iso
  .datetime({ offset: true })
  // The format says it; the pattern zod adds would cost more than the rest of a tool.
  .meta(standard)
  .transform((text, ctx) => {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) ctx.issues.push({ code: "custom", message: "not a valid time", input: text });
    return ms;
  });

/** Seconds of back-off (docs/tasks.md, "Retries"). */
export const backoffSeconds = z.number().int().min(0).max(LIMITS.retryBackoffMaxSeconds);
/** A string id the server issued (`rp_…`, `bt_…`, `ls_…`): passed back as received. */
export const issuedId = z.string().min(1).max(LIMITS.leaseId).meta(standard);
export const priority = z.number().int().min(LIMITS.priorityMin).max(LIMITS.priorityMax).describe("higher first");
export const limit = z.number().int().min(1).max(LIMITS.listMax).default(LIMITS.listDefault);

export const metadata = z.record(z.string(), z.unknown()).check((ctx) => {
  // Depth first: a value nested too deep is refused before anything walks it recursively.
  if (nestedDeeperThan(ctx.value, LIMITS.metadataDepth)) {
    ctx.issues.push({ code: "custom", message: `nested at most ${LIMITS.metadataDepth} levels deep`, input: ctx.value });
  } else if (new TextEncoder().encode(JSON.stringify(ctx.value)).length > LIMITS.metadataBytes) {
    ctx.issues.push({ code: "custom", message: `at most ${LIMITS.metadataBytes} bytes as JSON`, input: ctx.value });
  }
});

/** ISO 8601 UTC (docs/tools.md). */
export const timestamp = z.string();

/** Waiting instead of polling (docs/tasks.md, docs/relay.md). */
export const waitSeconds = z.number().int().min(0).max(LIMITS.waitSecondsMax).optional();

export const goalStatus = z.enum(GOAL_STATUSES);
export const taskStatus = z.enum(TASK_STATUSES);

export const goal = shape<Goal>()(
  z.object({
    id: z.number(),
    name: z.string(),
    description: z.string(),
    status: goalStatus,
    metadata: z.record(z.string(), z.unknown()),
    created_at: timestamp,
    updated_at: timestamp,
    completed_at: timestamp.nullable(),
    task_counts: z.object({
      pending: z.number(),
      in_progress: z.number(),
      completed: z.number(),
      failed: z.number(),
      cancelled: z.number(),
    }),
    progress: z.number(),
  }),
  "get_goal",
);

export const task = shape<Task>()(
  z.object({
    id: z.number(),
    goal_id: z.number().nullable(),
    title: z.string(),
    description: z.string(),
    status: taskStatus,
    priority: z.number(),
    role: z.string().nullable(),
    run_when: runWhen,
    dependencies: z.array(z.number()),
    blocked_by: z.array(z.number()),
    not_before: timestamp.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    started_at: timestamp.nullable(),
    completed_at: timestamp.nullable(),
    result: z.string().nullable(),
    error: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    assigned_to: z.string().nullable(),
    attempt: z.number(),
    max_attempts: z.number(),
    retry_backoff_seconds: z.number().nullable(),
    retry_backoff_max_seconds: z.number().nullable(),
    lease_id: z.string().nullable(),
    lease_expires_at: timestamp.nullable(),
    progress: z.string().nullable(),
    schedule_id: z.string().nullable(),
  }),
  "get_task",
);

/** A goal in a list: brief (id, name, status, progress) or, with view "full", the whole goal. */
export const listedGoal = goal.partial().required({ id: true, name: true, status: true, progress: true });

/** A task in a list: brief (id, title, status, priority; role, blocked_by, assigned_to when set) or, with view "full", the whole task. */
export const listedTask = task.partial().required({ id: true, title: true, status: true, priority: true });

export const leaseId = issuedId;

export const taskEvent = shape<TaskEvent>()(
  z.object({
    at: timestamp,
    kind: z.enum(EVENT_KINDS),
    agent_id: z.string().nullable(),
    lease_id: z.string().nullable(),
    attempt: z.number(),
    status: taskStatus,
    detail: z.string(),
    count: z.number(),
  }),
);

/**
 * What a task starts with (docs/tasks.md, "Inputs"): its goal, and its dependencies' outcomes.
 * Their fields are named once, in the instructions; tools declare them as objects.
 */
export const goalContext = shape<GoalContext>()(
  z.object({ id: z.number(), name: z.string(), description: z.string(), truncated: z.literal(true).optional() }),
);
export const taskInput = shape<TaskInput>()(
  z.object({
    task_id: z.number(),
    title: z.string(),
    status: taskStatus,
    result: z.string().optional(),
    error: z.string().optional(),
    truncated: z.literal(true).optional(),
  }),
);

/** A task as get_task shows it: with its history (newest first), its goal and its inputs. */
export const taskDetail = shape<TaskDetail>()(
  task.extend({ events: z.array(taskEvent), goal: goalContext.optional(), inputs: z.array(taskInput) }),
  "get_task",
);
