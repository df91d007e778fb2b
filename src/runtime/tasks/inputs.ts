/**
 * What a task needs to start without another call (docs/tasks.md, "Inputs"): its goal's name and
 * description, and each direct dependency's outcome — title, status, and its result, or its
 * error when it failed or was cancelled. Texts are cut (each to LIMITS.inputText characters, all
 * together to LIMITS.inputsTotal, the goal's description to LIMITS.goalDescriptionInClaim) and
 * marked `truncated`; the whole text is one `get_task` of that dependency away.
 */
import { LIMITS } from "../kernel/limits";
import type { TaskStatus } from "./model";

export interface TaskInput {
  task_id: number;
  title: string;
  status: TaskStatus;
  result?: string;
  error?: string;
  /** Present when a text was cut. */
  truncated?: true;
}

export interface GoalContext {
  id: number;
  name: string;
  description: string;
  /** Present when the description was cut. */
  truncated?: true;
}

/** `text` cut to at most `max` UTF-16 units, never between the halves of a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = max > 0 && /[\uD800-\uDBFF]/.test(text[max - 1]) ? max - 1 : max;
  return text.slice(0, end);
}

interface InputRow extends Record<string, SqlStorageValue> {
  id: number;
  title: string;
  status: TaskStatus;
  result: string | null;
  error: string | null;
}

/** The direct dependencies of `taskId`, in id order, with their texts cut. */
export function inputsOf(sql: SqlStorage, taskId: number): TaskInput[] {
  const rows = sql
    .exec<InputRow>(
      `SELECT t.id, t.title, t.status, t.result, t.error FROM task_deps d JOIN tasks t ON t.id = d.depends_on
       WHERE d.task_id = ? ORDER BY t.id`,
      taskId,
    )
    .toArray();
  let left = LIMITS.inputsTotal;
  const take = (text: string, input: TaskInput): string => {
    const kept = cutText(text, Math.min(LIMITS.inputText, left));
    left -= kept.length;
    if (kept.length < text.length) input.truncated = true;
    return kept;
  };
  return rows.map((row) => {
    const input: TaskInput = { task_id: row.id, title: row.title, status: row.status };
    if (row.result !== null) input.result = take(row.result, input);
    if (row.error !== null && (row.status === "failed" || row.status === "cancelled")) input.error = take(row.error, input);
    return input;
  });
}

/** The goal as a task's claim shows it, or undefined for a task without a goal. */
export function goalContext(sql: SqlStorage, goalId: number | null): GoalContext | undefined {
  if (goalId === null) return undefined;
  const goal = sql.exec<{ id: number; name: string; description: string }>(`SELECT id, name, description FROM goals WHERE id = ?`, goalId).toArray()[0];
  if (!goal) return undefined;
  const description = cutText(goal.description, LIMITS.goalDescriptionInClaim);
  return { ...goal, description, ...(description.length < goal.description.length ? { truncated: true as const } : {}) };
}
