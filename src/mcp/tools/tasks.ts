/**
 * Task tools (docs/tasks.md): create, hand out the next ready one under a lease, keep the lease alive,
 * move along the lifecycle, read, edit. The agent work loop is in docs/tasks.md.
 */
import { env } from "cloudflare:workers";
import { z } from "zod";
import { mapOutcome } from "../../runtime/kernel/errors";
import { LIMITS } from "../../runtime/kernel/limits";
import { leaseMinSeconds } from "../../runtime/tasks/leases";
import type { ToolContext } from "../context";
import { listInput, pageAnswer, pageOutput } from "../lists";
import * as s from "../schemas";
import { defineTool, READ_ONLY, WRITES } from "../tool";
import { resourceLink } from "../uris";

/**
 * Lease lengths in seconds, 60..86400. The minimum is read once from the deployment's settings:
 * `LEASE_MIN_SECONDS` (a testing aid) may lower it, and the advertised schema says what holds.
 */
const leaseMin = leaseMinSeconds(env.LEASE_MIN_SECONDS);
const leaseSeconds = z.number().int().min(leaseMin).max(LIMITS.leaseMaxSeconds);

const createTask = defineTool({
  name: "create_task",
  title: "Create task",
  description:
    "Create a pending task, optionally in a goal and depending on other tasks (by id). It becomes " +
    "ready once every dependency is completed.",
  input: z.strictObject({
    title: s.title.describe("what to do (1..200 chars)"),
    goal_id: s.id("goal").optional(),
    description: s.text.optional(),
    priority: s.priority.default(LIMITS.priorityDefault),
    dependencies: z.array(s.id("task")).max(LIMITS.dependencies).default([]).describe("ids of tasks that must complete first (at most 100)"),
    metadata: s.metadata.optional(),
    max_attempts: z
      .number()
      .int()
      .min(1)
      .max(LIMITS.maxAttempts)
      .optional()
      .describe(`how many times the task may be started (claimed or set in_progress) before a lease that runs out fails it instead of requeueing it (1..${LIMITS.maxAttempts}, default ${LIMITS.maxAttemptsDefault})`),
  }),
  output: s.task,
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.createTask(args),
  link: (task) => resourceLink("task", task.id),
});

const getNextTask = defineTool({
  name: "get_next_task",
  title: "Get next ready task",
  description:
    "The ready task with the highest priority (oldest first on ties); ready = pending with every " +
    "dependency completed. Without agent_id it only looks. With agent_id it claims the task " +
    "atomically (in_progress, assigned to you) under a lease: no two agents ever get the same task. " +
    "Keep the lease_id: call heartbeat_task before lease_expires_at while you work (a lease that runs " +
    "out puts the task back in the queue for another agent), and finish with update_task_status " +
    "{task_id, status: completed|failed, lease_id}. If the task has a progress note, a previous " +
    "attempt left it: resume from there. task is null with a reason when nothing is ready. If your " +
    "circuit breaker is OPEN you get no task, reason \"circuit_open\", retry_after_seconds and the " +
    "fallback_agent; while it is HALF_OPEN a claim is a probe (probe_expires_at): report it with " +
    "circuit_breaker_record_success or _record_failure.",
  input: z.strictObject({
    goal_id: s.id("goal").optional(),
    agent_id: s.agentId.optional().describe("claim the task for this agent (1..200 chars)"),
    lease_seconds: leaseSeconds
      .optional()
      .describe(`how long the claim lasts without a heartbeat, ${leaseMin}..${LIMITS.leaseMaxSeconds} s (default ${LIMITS.leaseDefaultSeconds})`),
    wait_seconds: s.waitSeconds.describe(`if nothing is ready, wait up to this long for a task (0..${LIMITS.waitSecondsMax})`),
  }),
  output: z.object({
    task: s.task.nullable(),
    reason: z.string().optional(),
    lease_id: z.string().optional().describe("set when the task was claimed: quote it in heartbeat_task and update_task_status"),
    lease_expires_at: s.timestamp.optional().describe("set when the task was claimed: the lease ends then unless extended"),
    retry_after_seconds: z.number().optional().describe("when your circuit breaker refused: ask again after this many seconds"),
    fallback_agent: z.string().optional().describe("when your circuit breaker refused: the agent to route work to meanwhile"),
    probe_expires_at: s.timestamp.optional().describe("your breaker is HALF_OPEN and this task is a probe: report it by then"),
  }),
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.nextTask(args),
});

const updateTaskStatus = defineTool({
  name: "update_task_status",
  title: "Update task status",
  description:
    "Move a task: pending → in_progress | cancelled | completed; in_progress → completed | failed | " +
    "pending | cancelled; failed → pending | cancelled. completed and cancelled are final. Omitted " +
    "result/error keep their value. Completing a task unblocks its dependents. An agent finishing a " +
    "claimed task passes its lease_id: if the lease was lost (it expired, or the task was claimed " +
    "again) the call is refused with conflict and changes nothing. Without lease_id the move is the " +
    "owner's manual control. Setting a task back to pending releases it to the queue at once.",
  input: z.strictObject({
    task_id: s.id("task"),
    status: s.taskStatus,
    result: s.text.optional(),
    error: s.text.optional(),
    lease_id: s.leaseId.optional().describe("your lease from get_next_task: the move happens only while it is live"),
  }),
  output: s.task,
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.updateTaskStatus(args),
});

const heartbeatTask = defineTool({
  name: "heartbeat_task",
  title: "Heartbeat a claimed task",
  description:
    "Tell the runtime you are still working on a task you claimed, before its lease runs out: the lease " +
    "then ends extend_seconds from now (default: the length you claimed it for). Send one at least every " +
    "lease length, e.g. every third of it, and before and after long steps. progress replaces the task's " +
    "progress note, which stays on the task for whoever resumes it. A lost lease (expired, task claimed " +
    "again or finished) is refused with conflict and the reason: stop working on that task.",
  input: z.strictObject({
    task_id: s.id("task"),
    lease_id: s.leaseId,
    extend_seconds: leaseSeconds
      .optional()
      .describe(`the lease then ends this many seconds from now, ${leaseMin}..${LIMITS.leaseMaxSeconds} (default: the claimed length)`),
    progress: z.string().max(LIMITS.progress).optional().describe(`where you are, for whoever resumes the task (up to ${LIMITS.progress} chars)`),
  }),
  output: z.object({
    task_id: z.number(),
    lease_id: z.string(),
    lease_expires_at: s.timestamp.describe("the lease's new end"),
    attempt: z.number(),
    progress: z.string().nullable(),
  }),
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.heartbeatTask(args),
});

const listTasks = defineTool({
  name: "list_tasks",
  title: "List tasks",
  description: 'List tasks in creation order, optionally of one goal and/or one status. Brief items; view "full" for every field.',
  input: z.strictObject({ goal_id: s.id("goal").optional(), status: s.taskStatus.optional(), ...listInput }),
  output: z.object({ tasks: z.array(s.listedTask), ...pageOutput }),
  annotations: READ_ONLY,
  run: async (args, { runtime }: ToolContext) => mapOutcome(await runtime.listTasks(args), (page) => pageAnswer("tasks", page)),
});

const getTask = defineTool({
  name: "get_task",
  title: "Get task",
  description:
    "One task with its dependencies, what still blocks it, who holds it under which lease, its attempts, " +
    "the latest progress note and its history (events: claims, heartbeats, lease expiries, status changes; newest first).",
  input: z.strictObject({ task_id: s.id("task") }),
  output: s.taskDetail,
  annotations: READ_ONLY,
  run: (args, { runtime }: ToolContext) => runtime.getTask(args.task_id),
});

const updateTask = defineTool({
  name: "update_task",
  title: "Update task",
  description:
    "Edit a task that is not completed or cancelled; dependencies replace the old list and are checked like create_task's (no cycles).",
  input: z.strictObject({
    task_id: s.id("task"),
    title: s.title.optional(),
    description: s.text.optional(),
    priority: s.priority.optional().describe("higher first among ready tasks"),
    dependencies: z.array(s.id("task")).max(LIMITS.dependencies).optional(),
    metadata: s.metadata.optional(),
    max_attempts: z.number().int().min(1).max(LIMITS.maxAttempts).optional(),
  }),
  output: s.task,
  // Destructive: the old values are gone. Idempotent: repeating it changes nothing more.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.updateTask(args),
});

export const taskTools = [createTask, getNextTask, heartbeatTask, updateTaskStatus, listTasks, getTask, updateTask];
