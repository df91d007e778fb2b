/**
 * Task tools (docs/tasks.md): create, hand out the next ready one under a lease, keep the lease alive,
 * move along the lifecycle, read, edit. The agent work loop is in docs/tasks.md.
 */
import { env } from "cloudflare:workers";
import { z } from "zod";
import { mapOutcome } from "../../runtime/kernel/errors";
import { LIMITS } from "../../runtime/kernel/limits";
import { leaseMinSeconds } from "../../runtime/tasks/leases";
import { actingAgent, keyedAgent, rolesAllowed } from "../caller";
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

/** What create_task and update_task both set (update_task: each may be null to clear where it says so). */
const maxAttempts = z.number().int().min(1).max(LIMITS.maxAttempts);

const createTask = defineTool({
  name: "create_task",
  description: "Add a task, optionally to a goal and after other tasks.",
  input: z.strictObject({
    title: s.title,
    goal_id: s.id("goal").optional(),
    description: s.text.optional(),
    priority: s.priority.default(LIMITS.priorityDefault),
    role: s.role.optional(),
    dependencies: z.array(s.id("task")).max(LIMITS.dependencies).default([]).describe("task ids it waits for"),
    run_when: s.runWhen.optional(),
    not_before: s.isoTime.optional(),
    metadata: s.metadata.optional(),
    max_attempts: maxAttempts.optional().describe(`default ${LIMITS.maxAttemptsDefault}`),
    retry_backoff_seconds: s.backoffSeconds.optional(),
    retry_backoff_max_seconds: s.backoffSeconds.optional(),
  }),
  output: s.task,
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.createTask(args),
  link: (task) => resourceLink("task", task.id),
});

const getNextTask = defineTool({
  name: "get_next_task",
  description: "Claim the next ready task for agent_id under a lease, with its goal and inputs (without agent_id, only look).",
  input: z.strictObject({
    goal_id: s.id("goal").optional(),
    agent_id: s.agentId.optional().describe("claim it for this agent"),
    roles: z.array(s.role).min(1).max(LIMITS.rolesPerCaller).optional().describe("roles you take besides tasks without one"),
    lease_seconds: leaseSeconds.optional().describe(`default ${LIMITS.leaseDefaultSeconds}`),
    wait_seconds: s.waitSeconds.describe("if none is ready, wait for one"),
  }),
  output: z.object({
    task: s.task.nullable(),
    reason: z.string().optional(),
    lease_id: z.string().optional(),
    lease_expires_at: s.timestamp.optional(),
    goal: s.goalContext.optional(),
    inputs: z.array(s.taskInput).optional(),
    retry_after_seconds: z.number().optional(),
    fallback_agent: z.string().optional(),
    probe_expires_at: s.timestamp.optional(),
    ready_by_role: z.record(z.string(), z.number()).optional(),
    next_ready_at: s.timestamp.optional(),
  }),
  annotations: WRITES,
  run: (args, { runtime, caller }: ToolContext) => {
    const agent = actingAgent(caller, args.agent_id);
    if (!agent.ok) return agent;
    const roles = rolesAllowed(caller, args.roles);
    if (!roles.ok) return roles;
    return runtime.nextTask({ ...args, agent_id: agent.value, roles: roles.value });
  },
});

const updateTaskStatus = defineTool({
  name: "update_task_status",
  description: "Move a task to another status; finish a claimed task with completed or failed and your lease_id.",
  input: z.strictObject({
    task_id: s.id("task"),
    status: s.taskStatus,
    result: s.text.optional(),
    error: s.text.optional(),
    lease_id: s.leaseId.optional().describe("yours: refused if the lease is lost"),
    retryable: z.boolean().optional().describe("false: no retry"),
  }),
  output: s.task,
  annotations: WRITES,
  run: (args, { runtime, caller }: ToolContext) => runtime.updateTaskStatus(args, keyedAgent(caller)),
});

const heartbeatTask = defineTool({
  name: "heartbeat_task",
  description:
    "Extend the lease on a task you claimed and leave a progress note; refused with conflict once " +
    "the lease is lost.",
  input: z.strictObject({
    task_id: s.id("task"),
    lease_id: s.leaseId,
    extend_seconds: leaseSeconds.optional().describe("default: the claimed length"),
    progress: z.string().max(LIMITS.progress).optional(),
  }),
  output: z.object({
    task_id: z.number(),
    lease_id: z.string(),
    lease_expires_at: s.timestamp,
    attempt: z.number(),
    progress: z.string().nullable(),
  }),
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.heartbeatTask(args),
});

const listTasks = defineTool({
  name: "list_tasks",
  description: 'Tasks in creation order, optionally of one goal and/or status; brief items unless view is "full".',
  input: z.strictObject({ goal_id: s.id("goal").optional(), status: s.taskStatus.optional(), role: s.role.optional(), ...listInput }),
  output: z.object({ tasks: z.array(s.listedTask), ...pageOutput }),
  annotations: READ_ONLY,
  run: async (args, { runtime }: ToolContext) => mapOutcome(await runtime.listTasks(args), (page) => pageAnswer("tasks", page)),
});

const getTask = defineTool({
  name: "get_task",
  description: "One task in full, with its goal, inputs, lease, attempts, progress note and history.",
  input: z.strictObject({ task_id: s.id("task") }),
  output: s.taskDetail,
  annotations: READ_ONLY,
  run: (args, { runtime }: ToolContext) => runtime.getTask(args.task_id),
});

const updateTask = defineTool({
  name: "update_task",
  description: "Edit a task that is not final; dependencies replace the old list and are checked like create_task's.",
  input: z.strictObject({
    task_id: s.id("task"),
    title: s.title.optional(),
    description: s.text.optional(),
    priority: s.priority.optional(),
    role: s.role.nullable().optional(),
    dependencies: z.array(s.id("task")).max(LIMITS.dependencies).optional(),
    run_when: s.runWhen.optional(),
    not_before: s.isoTime.nullable().optional(),
    metadata: s.metadata.optional(),
    max_attempts: maxAttempts.optional(),
    retry_backoff_seconds: s.backoffSeconds.nullable().optional(),
    retry_backoff_max_seconds: s.backoffSeconds.nullable().optional(),
  }),
  output: s.task,
  // Destructive: the old values are gone. Idempotent: repeating it changes nothing more.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.updateTask(args),
});

export const taskTools = [createTask, getNextTask, heartbeatTask, updateTaskStatus, listTasks, getTask, updateTask];
