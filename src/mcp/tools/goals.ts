/** Goal tools (docs/tasks.md, docs/decomposition.md): create, decompose into tasks, list, get, cancel, edit. */
import { z } from "zod";
import { DEFAULT_MAX_TASKS, providerSettings } from "../../planning/anthropic";
import { decomposeGoal } from "../../planning/decompose";
import { PLAN_SOURCES, STRATEGIES } from "../../planning/strategies";
import { mapOutcome } from "../../runtime/kernel/errors";
import { LIMITS } from "../../runtime/kernel/limits";
import { PLAN_MODES } from "../../runtime/plans/apply";
import { GOAL_BOARD_META } from "../app";
import { keyedAgent } from "../caller";
import type { ToolContext } from "../context";
import { listInput, pageAnswer, pageOutput } from "../lists";
import * as s from "../schemas";
import { defineTool, READ_ONLY, WRITES } from "../tool";
import { resourceLink } from "../uris";

const createGoal = defineTool({
  name: "create_goal",
  description: "Create a goal; add its tasks with decompose_goal or create_task.",
  input: z.strictObject({
    name: s.title,
    description: s.text,
    metadata: s.metadata.optional(),
  }),
  output: s.goal,
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.createGoal(args),
  link: (goal) => resourceLink("goal", goal.id),
});

const plannedTask = z.strictObject({
  title: s.title,
  description: s.text.optional(),
  priority: s.priority.optional(),
  role: s.role.optional(),
  depends_on: z.array(z.number().int().min(0)).max(LIMITS.dependencies).optional().describe("indexes into tasks"),
  run_when: s.runWhen.optional(),
  not_before: s.isoTime.optional(),
});

const decompose = defineTool({
  name: "decompose_goal",
  description:
    "Turn a goal into dependency-ordered tasks: your plan in tasks, else Claude if configured, else " +
    "a template by strategy; mode \"append\" adds to a goal that has tasks.",
  input: z.strictObject({
    goal_id: s.id("goal"),
    strategy: z.enum(STRATEGIES).default("sequential"),
    mode: z.enum(PLAN_MODES).default("new"),
    max_tasks: z.number().int().min(1).max(LIMITS.planTasks).default(DEFAULT_MAX_TASKS).describe("for Claude"),
    tasks: z.array(plannedTask).min(1).max(LIMITS.planTasks).optional().describe("your own plan"),
    roles: z.array(s.role).min(1).max(LIMITS.rolesPerCaller).optional().describe("for Claude to assign"),
  }),
  output: z.object({
    goal_id: z.number(),
    strategy: z.enum(STRATEGIES),
    source: z.enum(PLAN_SOURCES),
    model: z.string().nullable(),
    tasks_created: z.array(z.number()),
    count: z.number(),
    tasks: z.array(s.task),
  }),
  // Not destructive: existing tasks are never changed. Open world: it may call the Anthropic API.
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  run: (args, { runtime, env }: ToolContext, call) => decomposeGoal({ runtime, model: providerSettings(env), progress: call.progress }, args),
});

const listGoals = defineTool({
  name: "list_goals",
  description: 'Goals, newest first, with progress; brief items unless view is "full".',
  input: z.strictObject({ status: s.goalStatus.optional(), ...listInput }),
  output: z.object({ goals: z.array(s.listedGoal), ...pageOutput }),
  annotations: READ_ONLY,
  run: async (args, { runtime }: ToolContext) => mapOutcome(await runtime.listGoals(args), (page) => pageAnswer("goals", page)),
});

const getGoal = defineTool({
  name: "get_goal",
  description: "One goal with its task counts and progress.",
  input: z.strictObject({ goal_id: s.id("goal") }),
  output: s.goal,
  annotations: READ_ONLY,
  run: (args, { runtime }: ToolContext) => runtime.getGoal(args.goal_id),
  // Hosts that render MCP Apps show the goal's task graph, live, under the result (docs/app.md).
  _meta: GOAL_BOARD_META,
});

const cancelGoal = defineTool({
  name: "cancel_goal",
  description: "Cancel a goal and its unfinished tasks, ending their leases; completed tasks stay.",
  input: z.strictObject({
    goal_id: s.id("goal"),
    reason: s.title.optional().describe("kept as the cancelled tasks' error"),
  }),
  output: s.goal,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  run: (args, { runtime, caller }: ToolContext) => runtime.cancelGoal(args.goal_id, args.reason, keyedAgent(caller)),
});

const updateGoal = defineTool({
  name: "update_goal",
  description: "Change a goal's name, description or metadata; omitted fields keep their value.",
  input: z.strictObject({
    goal_id: s.id("goal"),
    name: s.title.optional(),
    description: s.text.optional(),
    metadata: s.metadata.optional(),
  }),
  output: s.goal,
  // Destructive: the old values are gone. Idempotent: repeating it changes nothing more.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.updateGoal(args),
});

export const goalTools = [createGoal, decompose, listGoals, getGoal, cancelGoal, updateGoal];
