/**
 * What every stored goal satisfies, whatever wrote it (kernel/integrity.ts explains the shape; an
 * import checks a file against it). A goal's status follows its tasks (goals.ts,
 * `refreshGoalStatus`), so the rules read the tasks too.
 */
import { acrossRule, id, jsonObject, oneOf, setExactlyWhen, text, time, type TableRules } from "../kernel/integrity";
import { LIMITS } from "../kernel/limits";
import { GOAL_STATUSES } from "./goals";

const has = (status: string) => `EXISTS (SELECT 1 FROM tasks t WHERE t.goal_id = g.id AND t.status IN (${status}))`;
const COMPLETED = has(`'completed'`);
const LEFT_TO_DO = has(`'pending', 'in_progress', 'failed'`);

export const GOAL_RULES: readonly TableRules[] = [
  {
    table: "goals",
    columns: {
      id: id(),
      name: text(LIMITS.title, 1),
      description: text(LIMITS.text),
      status: oneOf(GOAL_STATUSES),
      metadata: jsonObject(LIMITS.metadataBytes, LIMITS.metadataDepth),
      created_at: time(),
      updated_at: time(),
      completed_at: time(),
    },
    rows: [setExactlyWhen("completed_at", "the goal is completed", (row) => row.status === "completed")],
    across: [
      acrossRule(
        "an active goal has work left to do, or no completed task (else it is completed)",
        `SELECT id FROM goals g WHERE status = 'active' AND ${COMPLETED} AND NOT ${LEFT_TO_DO}`,
      ),
      acrossRule(
        "a completed goal has a completed task and nothing left to do",
        `SELECT id FROM goals g WHERE status = 'completed' AND (NOT ${COMPLETED} OR ${LEFT_TO_DO})`,
      ),
      acrossRule("a cancelled goal has no unfinished task", `SELECT id FROM goals g WHERE status = 'cancelled' AND ${LEFT_TO_DO}`),
    ],
  },
];
