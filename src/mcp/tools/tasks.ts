/** Task tools (SPEC §5): create, hand out the next ready one, move along the lifecycle, read. */
import { z } from "zod";
import { mapOutcome } from "../../runtime/errors";
import { LIMITS } from "../../runtime/limits";
import type { ToolContext } from "../context";
import * as s from "../schemas";
import { defineTool } from "../tool";

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
    priority: z.number().int().min(1).max(10).default(5).describe("1..10, higher first (default 5)"),
    dependencies: z.array(s.id("task")).max(LIMITS.dependencies).default([]).describe("ids of tasks that must complete first (at most 100)"),
    metadata: s.metadata.optional(),
  }),
  output: s.task,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.createTask(args),
});

const getNextTask = defineTool({
  name: "get_next_task",
  title: "Get next ready task",
  description:
    "The ready task with the highest priority (oldest first on ties); ready = pending with every " +
    "dependency completed. Without agent_id it only looks. With agent_id it claims the task " +
    "atomically (in_progress, assigned to you, under a lease): no two agents ever get the same task. " +
    "task is null with a reason when nothing is ready. If your circuit breaker is OPEN you get no task, " +
    "reason \"circuit_open\", retry_after_seconds and the fallback_agent; while it is HALF_OPEN a claim is a " +
    "probe (probe_expires_at): report it with circuit_breaker_record_success or _record_failure.",
  input: z.strictObject({
    goal_id: s.id("goal").optional(),
    agent_id: s.agentId.optional().describe("claim the task for this agent (1..200 chars)"),
  }),
  output: z.object({
    task: s.task.nullable(),
    reason: z.string().optional(),
    retry_after_seconds: z.number().optional().describe("when your circuit breaker refused: ask again after this many seconds"),
    fallback_agent: z.string().optional().describe("when your circuit breaker refused: the agent to route work to meanwhile"),
    probe_expires_at: s.timestamp.optional().describe("your breaker is HALF_OPEN and this task is a probe: report it by then"),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.nextTask(args),
});

const updateTaskStatus = defineTool({
  name: "update_task_status",
  title: "Update task status",
  description:
    "Move a task: pending → in_progress | cancelled | completed; in_progress → completed | failed | " +
    "pending | cancelled; failed → pending | cancelled. completed and cancelled are final. Omitted " +
    "result/error keep their value. Completing a task unblocks its dependents.",
  input: z.strictObject({
    task_id: s.id("task"),
    status: s.taskStatus,
    result: s.text.optional(),
    error: s.text.optional(),
  }),
  output: s.task,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.updateTaskStatus(args),
});

const listTasks = defineTool({
  name: "list_tasks",
  title: "List tasks",
  description: "List tasks in creation order, optionally of one goal and/or one status.",
  input: z.strictObject({ goal_id: s.id("goal").optional(), status: s.taskStatus.optional(), limit: s.limit }),
  output: z.object({ tasks: z.array(s.task), count: z.number() }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: async (args, { runtime }: ToolContext) =>
    mapOutcome(await runtime.listTasks(args), (tasks) => ({ tasks, count: tasks.length })),
});

const getTask = defineTool({
  name: "get_task",
  title: "Get task",
  description: "One task with its dependencies, what still blocks it, and who holds it.",
  input: z.strictObject({ task_id: s.id("task") }),
  output: s.task,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.getTask(args.task_id),
});

export const taskTools = [createTask, getNextTask, updateTaskStatus, listTasks, getTask];
