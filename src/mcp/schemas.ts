/** Schema pieces shared by the tools of several areas: ids, limits, metadata, goal and task. */
import { z } from "zod";
import { GOAL_STATUSES } from "../runtime/goals/goals";
import { LIMITS } from "../runtime/kernel/limits";
import { EVENT_KINDS } from "../runtime/tasks/history";
import { TASK_STATUSES } from "../runtime/tasks/model";

export const id = (what: string) => z.number().int().positive().describe(`${what} id (a positive integer)`);

export const title = z.string().min(1).max(LIMITS.title);
export const text = z.string().max(LIMITS.text);
/**
 * A name shown to agents inside prompts (an agent id, an agent type, a fallback agent): one line,
 * not blank, without control characters or Unicode line breaks, so it cannot start a line of its
 * own in a prompt built for another agent.
 */
export const oneLineName = z
  .string()
  .min(1)
  .max(LIMITS.agentId)
  .regex(/\S/, "a name, not blank")
  .regex(/^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/, "a name on one line, without control characters");
export const agentId = oneLineName;
export const priority = z
  .number()
  .int()
  .min(LIMITS.priorityMin)
  .max(LIMITS.priorityMax)
  .describe(`${LIMITS.priorityMin}..${LIMITS.priorityMax}, higher first among ready tasks (default ${LIMITS.priorityDefault})`);
export const limit = z.number().int().min(1).max(LIMITS.listMax).default(LIMITS.listDefault).describe(`at most this many (1..${LIMITS.listMax}, default ${LIMITS.listDefault})`);

/**
 * Whether `value` nests objects and arrays more than `max` levels deep (the value itself is level
 * 1). Iterative, and stops at the first level too deep, so a hostile value costs no recursion.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  let level: unknown[] = [value];
  for (let depth = 1; level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const item of level) {
      if (item !== null && typeof item === "object") for (const child of Object.values(item)) next.push(child);
    }
    if (next.some((item) => item !== null && typeof item === "object") && depth >= max) return true;
    level = next;
  }
  return false;
}

export const metadata = z
  .record(z.string(), z.unknown())
  .check((ctx) => {
    // Depth first: a value nested too deep is refused before anything walks it recursively.
    if (nestedDeeperThan(ctx.value, LIMITS.metadataDepth)) {
      ctx.issues.push({ code: "custom", message: `nested at most ${LIMITS.metadataDepth} levels deep`, input: ctx.value });
    } else if (new TextEncoder().encode(JSON.stringify(ctx.value)).length > LIMITS.metadataBytes) {
      ctx.issues.push({ code: "custom", message: `at most ${LIMITS.metadataBytes} bytes as JSON`, input: ctx.value });
    }
  })
  .describe(`free-form JSON object (at most ${LIMITS.metadataBytes / 1024} KiB as JSON, ${LIMITS.metadataDepth} levels deep)`);

export const timestamp = z.string().describe("ISO 8601 UTC");

/** Waiting instead of polling (docs/tasks.md, docs/relay.md). */
export const waitSeconds = z.number().int().min(0).max(LIMITS.waitSecondsMax).optional().describe(`wait up to this long, 0..${LIMITS.waitSecondsMax} s`);

export const goalStatus = z.enum(GOAL_STATUSES);
export const taskStatus = z.enum(TASK_STATUSES);

export const goal = z.object({
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
  progress: z.number().describe("completed share of the goal's tasks that are not cancelled, 0..1"),
});

export const task = z.object({
  id: z.number(),
  goal_id: z.number().nullable(),
  title: z.string(),
  description: z.string(),
  status: taskStatus,
  priority: z.number(),
  dependencies: z.array(z.number()),
  blocked_by: z.array(z.number()).describe("dependencies not yet completed"),
  created_at: timestamp,
  updated_at: timestamp,
  started_at: timestamp.nullable(),
  completed_at: timestamp.nullable(),
  result: z.string().nullable(),
  error: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  assigned_to: z.string().nullable().describe("the agent that holds (or last held) the task"),
  attempt: z.number().describe("how many times the task has been started (claimed or set in_progress)"),
  max_attempts: z.number().describe("starts allowed before a lease that runs out fails the task instead of requeueing it"),
  lease_id: z.string().nullable().describe("the live lease of an in_progress task (null when none)"),
  lease_expires_at: timestamp.nullable().describe("when the live lease ends unless extended with heartbeat_task"),
  progress: z.string().nullable().describe("the latest progress note from heartbeat_task, kept for the next agent"),
});

/** A goal in a list: brief (id, name, status, progress) or, with view "full", the whole goal. */
export const listedGoal = goal.partial().required({ id: true, name: true, status: true, progress: true });

/** A task in a list: brief (id, title, status, priority, and blocked_by, assigned_to when set) or,
 * with view "full", the whole task. */
export const listedTask = task.partial().required({ id: true, title: true, status: true, priority: true });

export const leaseId = z.string().min(1).max(LIMITS.leaseId).describe("the lease id get_next_task answered with");

export const taskEvent = z.object({
  at: timestamp,
  kind: z.enum(EVENT_KINDS),
  agent_id: z.string().nullable().describe("the agent holding the task at the time"),
  lease_id: z.string().nullable(),
  attempt: z.number(),
  status: taskStatus.describe("the task's status right after the event"),
  detail: z.string(),
  count: z.number().describe("how many consecutive events this entry stands for (heartbeats of one lease are merged)"),
});

/** A task as get_task shows it: with its history. */
export const taskDetail = task.extend({
  events: z.array(taskEvent).describe(`the task's history, newest first (at most ${LIMITS.taskEvents})`),
});
