/** Goal tools (SPEC §5): create, decompose into tasks, list, get. */
import { z } from "zod";
import { decomposeGoal } from "../../decompose/decompose";
import { PLAN_SOURCES, STRATEGIES } from "../../decompose/plan";
import { mapOutcome } from "../../runtime/errors";
import type { ToolContext } from "../context";
import * as s from "../schemas";
import { defineTool } from "../tool";

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
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.createGoal(args),
});

const decompose = defineTool({
  name: "decompose_goal",
  title: "Decompose goal into tasks",
  description:
    "Break a goal into dependency-ordered tasks. strategy: sequential (a chain), parallel (independent " +
    "workstreams) or hierarchical (phases, each depending on the previous). A goal that already has " +
    "tasks is not decomposed again.",
  input: z.strictObject({
    goal_id: s.id("goal"),
    strategy: z.enum(STRATEGIES).default("sequential"),
  }),
  output: z.object({
    goal_id: z.number(),
    strategy: z.enum(STRATEGIES),
    source: z.enum(PLAN_SOURCES),
    tasks_created: z.array(z.number()),
    count: z.number(),
    tasks: z.array(s.task),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  run: (args, context: ToolContext) => decomposeGoal(context, args),
});

const listGoals = defineTool({
  name: "list_goals",
  title: "List goals",
  description: "List goals, newest first, with task counts and progress.",
  input: z.strictObject({ status: s.goalStatus.optional(), limit: s.limit }),
  output: z.object({ goals: z.array(s.goal), count: z.number() }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: async (args, { runtime }: ToolContext) =>
    mapOutcome(await runtime.listGoals(args), (goals) => ({ goals, count: goals.length })),
});

const getGoal = defineTool({
  name: "get_goal",
  title: "Get goal",
  description: "One goal with its task counts and progress.",
  input: z.strictObject({ goal_id: s.id("goal") }),
  output: s.goal,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.getGoal(args.goal_id),
});

export const goalTools = [createGoal, decompose, listGoals, getGoal];
