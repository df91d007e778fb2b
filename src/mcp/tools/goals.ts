/** Goal tools (docs/tasks.md, docs/decomposition.md): create, decompose into tasks, list, get, cancel, edit. */
import { z } from "zod";
import { DEFAULT_MAX_TASKS, providerSettings } from "../../planning/anthropic";
import { decomposeGoal } from "../../planning/decompose";
import { PLAN_SOURCES, STRATEGIES } from "../../planning/strategies";
import { mapOutcome } from "../../runtime/kernel/errors";
import { LIMITS } from "../../runtime/kernel/limits";
import { PLAN_MODES } from "../../runtime/plans/apply";
import type { ToolContext } from "../context";
import { listInput, pageAnswer, pageOutput } from "../lists";
import * as s from "../schemas";
import { defineTool, READ_ONLY, WRITES } from "../tool";
import { resourceLink } from "../uris";

const createGoal = defineTool({
  name: "create_goal",
  title: "Create goal",
  description: "Create a persistent goal (status active). Add tasks with create_task or decompose_goal.",
  input: z.strictObject({
    name: s.title.describe("short name of the goal (1..200 chars)"),
    description: s.text.describe("what the goal is about (up to 20,000 chars)"),
    metadata: s.metadata.optional(),
  }),
  output: s.goal,
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.createGoal(args),
  link: (goal) => resourceLink("goal", goal.id),
});

const plannedTask = z.strictObject({
  title: s.title.describe("short title (1..200 chars)"),
  description: s.text.optional().describe("what to do and how to tell it is done (default empty)"),
  priority: s.priority.optional(),
  depends_on: z
    .array(z.number().int().min(0))
    .max(LIMITS.dependencies)
    .optional()
    .describe("0-based indexes into this tasks list of the tasks that must be completed first (no cycles)"),
});

const decompose = defineTool({
  name: "decompose_goal",
  title: "Decompose goal into tasks",
  description:
    "Break a goal into dependency-ordered tasks, written all at once or not at all. Three ways, first match wins: " +
    "(1) pass your own plan as `tasks` [{title, description?, priority?, depends_on?: [indexes into tasks]}] " +
    '(source "agent"; checked for cycles and limits); (2) otherwise, if the server has an Anthropic API key, Claude ' +
    'writes the plan from the goal\'s name, description and metadata (source "ai", at most `max_tasks`, default 12); ' +
    '(3) otherwise a built-in template (source "template"). strategy shapes the plan: sequential (a chain), ' +
    "parallel (independent workstreams) or hierarchical (phases, each depending on the previous). " +
    'A goal that already has tasks is refused with conflict unless mode is "append", which adds tasks and never ' +
    "changes or deletes existing ones. Then take work with get_next_task.",
  input: z.strictObject({
    goal_id: s.id("goal"),
    strategy: z.enum(STRATEGIES).default("sequential"),
    mode: z.enum(PLAN_MODES).default("new").describe('"new" (default): only a goal without tasks; "append": add to its tasks'),
    max_tasks: z
      .number()
      .int()
      .min(1)
      .max(LIMITS.planTasks)
      .default(DEFAULT_MAX_TASKS)
      .describe("at most this many tasks from Claude (1..50, default 12)"),
    tasks: z.array(plannedTask).min(1).max(LIMITS.planTasks).optional().describe("your own plan (1..50 tasks); skips Claude and the templates"),
  }),
  output: z.object({
    goal_id: z.number(),
    strategy: z.enum(STRATEGIES),
    source: z.enum(PLAN_SOURCES).describe("who wrote the plan: ai (Claude), agent (your tasks) or template"),
    model: z.string().nullable().describe("the model that wrote the plan; null unless source is ai"),
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
  title: "List goals",
  description: 'List goals, newest first, with their progress. Brief items; view "full" for every field.',
  input: z.strictObject({ status: s.goalStatus.optional(), ...listInput }),
  output: z.object({ goals: z.array(s.listedGoal), ...pageOutput }),
  annotations: READ_ONLY,
  run: async (args, { runtime }: ToolContext) => mapOutcome(await runtime.listGoals(args), (page) => pageAnswer("goals", page)),
});

const getGoal = defineTool({
  name: "get_goal",
  title: "Get goal",
  description: "One goal with its task counts and progress.",
  input: z.strictObject({ goal_id: s.id("goal") }),
  output: s.goal,
  annotations: READ_ONLY,
  run: (args, { runtime }: ToolContext) => runtime.getGoal(args.goal_id),
});

const cancelGoal = defineTool({
  name: "cancel_goal",
  title: "Cancel goal",
  description:
    "Cancel a goal: it takes no new tasks, and every task of it that is not finished (pending, in_progress, " +
    "failed) is cancelled, ending any lease (the holder's late report is refused). Completed tasks stay " +
    "completed. Cancelling a cancelled goal changes nothing.",
  input: z.strictObject({
    goal_id: s.id("goal"),
    reason: s.title.optional().describe("why (kept in the cancelled tasks' error, up to 200 chars)"),
  }),
  output: s.goal,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.cancelGoal(args.goal_id, args.reason),
});

const updateGoal = defineTool({
  name: "update_goal",
  title: "Update goal",
  description: "Change a goal's name, description or metadata (replaced whole); omitted fields keep their value.",
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
