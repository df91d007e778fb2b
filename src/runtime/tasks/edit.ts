/**
 * Editing a task that is not finished (docs/tasks.md, "Editing"): its title, description,
 * priority, dependencies, metadata and max_attempts. Omitted fields keep their value; an edit that
 * changes nothing writes nothing. Completed and cancelled tasks are final and refuse edits.
 *
 * New dependencies replace the old ones and are checked as at creation (unknown ids are
 * `not_found`) and against the graph (a task that would end up waiting for itself is a `conflict`
 * naming the cycle). The task's count of unmet dependencies is recomputed in the same
 * transaction, so a pending task leaves or joins the ready queue at once. An in_progress task
 * keeps its lease and may not be given an unfinished dependency: its holder must always be able
 * to complete it, and only a pending task is ever claimed, so an edit never makes a claimed task
 * claimable a second time.
 */
import { refreshGoalStatus } from "../goals/goals";
import { conflict, DomainError, failedPrecondition } from "../kernel/errors";
import { idList, type JsonObject } from "../kernel/rows";
import { recordEvent } from "./history";
import { taskRow, toTasks, TRANSITIONS, type Task, type TaskRow } from "./model";
import { addDependencies, existingDependencies } from "./queue";

export interface TaskEdit {
  task_id: number;
  title?: string;
  description?: string;
  priority?: number;
  /** Replaces the task's dependencies (an empty list removes them all). */
  dependencies?: number[];
  /** Replaces the task's metadata object. */
  metadata?: JsonObject;
  max_attempts?: number;
}

const EDITABLE = ["title", "description", "priority", "dependencies", "metadata", "max_attempts"] as const;

export function updateTask(sql: SqlStorage, edit: TaskEdit, now: number): Task {
  const task = taskRow(sql, edit.task_id);
  if (TRANSITIONS[task.status].length === 0) {
    throw failedPrecondition(`task ${task.id} is ${task.status}, which is final: it cannot be edited`);
  }
  if (EDITABLE.every((field) => edit[field] === undefined)) {
    throw new DomainError("invalid_argument", `nothing to change: pass at least one of ${EDITABLE.join(", ")}`);
  }
  const [before] = toTasks(sql, [task]);
  const changes: string[] = [];
  if (edit.title !== undefined && edit.title !== task.title) changes.push("title");
  if (edit.description !== undefined && edit.description !== task.description) changes.push("description");
  if (edit.priority !== undefined && edit.priority !== task.priority) changes.push(`priority ${task.priority} → ${edit.priority}`);
  if (edit.metadata !== undefined && JSON.stringify(edit.metadata) !== task.metadata) changes.push("metadata");
  if (edit.max_attempts !== undefined && edit.max_attempts !== task.max_attempts) {
    changes.push(`max_attempts ${task.max_attempts} → ${edit.max_attempts}`);
  }

  let unmet = task.unmet_deps;
  const dependencies = edit.dependencies === undefined ? null : [...new Set(edit.dependencies)];
  if (dependencies !== null && !sameSet(dependencies, before.dependencies)) {
    unmet = checkDependencies(sql, task, dependencies);
    sql.exec(`DELETE FROM task_deps WHERE task_id = ?`, task.id);
    addDependencies(sql, task.id, dependencies);
    changes.push(`dependencies [${before.dependencies.join(", ")}] → [${[...dependencies].sort((a, b) => a - b).join(", ")}]`);
  }
  if (changes.length === 0) return before;

  const row = sql
    .exec<TaskRow>(
      `UPDATE tasks SET title = ?, description = ?, priority = ?, metadata = ?, max_attempts = ?, unmet_deps = ?, updated_at = ?
       WHERE id = ? RETURNING *`,
      edit.title ?? task.title,
      edit.description ?? task.description,
      edit.priority ?? task.priority,
      edit.metadata === undefined ? task.metadata : JSON.stringify(edit.metadata),
      edit.max_attempts ?? task.max_attempts,
      unmet,
      now,
      task.id,
    )
    .one();
  const [after] = toTasks(sql, [row]);
  const blocked = after.blocked_by.length > 0 ? ` (blocked by ${after.blocked_by.join(", ")})` : "";
  recordEvent(
    sql,
    task.id,
    {
      kind: "edited",
      agent_id: task.assigned_to,
      lease_id: task.lease_id,
      attempt: task.attempt,
      status: task.status,
      detail: `edited: ${changes.join(", ")}${blocked}`,
    },
    now,
  );
  // An edit moves no status, so the goal's status stays what its tasks make it; derived here all
  // the same, as after every write to a goal's tasks.
  if (task.goal_id !== null) refreshGoalStatus(sql, task.goal_id, now);
  return after;
}

const sameSet = (a: readonly number[], b: readonly number[]) => a.length === b.length && b.every((id) => a.includes(id));

/**
 * Checks `dependencies` as the new dependency list of `task` and returns how many are unmet:
 * every id a task (`not_found`), no cycle (`conflict`), and none unfinished for a task in progress
 * (`failed_precondition`).
 */
function checkDependencies(sql: SqlStorage, task: TaskRow, dependencies: number[]): number {
  if (dependencies.includes(task.id)) throw conflict(`dependencies: task ${task.id} cannot depend on itself`);
  const unmet = existingDependencies(sql, dependencies).filter((d) => d.status !== "completed");
  const cycle = cycleThrough(sql, task.id, dependencies);
  if (cycle) {
    throw conflict(`dependencies: this would make a cycle (each task waits for the next): ${cycle.join(" → ")}`);
  }
  if (task.status === "in_progress" && unmet.length > 0) {
    const ids = unmet.map((d) => d.id).sort((a, b) => a - b);
    throw failedPrecondition(
      `task ${task.id} is in_progress and cannot wait for unfinished task ${ids.join(", ")}; set it back to pending first`,
    );
  }
  return unmet.length;
}

/**
 * A path `taskId → d → … → taskId` if `taskId` would wait for itself through `dependencies`, else
 * null. The existing graph has no cycle, so only a path from a new dependency back to the task
 * can close one: one recursive query walks the dependencies' own dependencies (never through the
 * task's old edges, which are being replaced) and says whether it reaches the task. Only then, to
 * name the cycle, are the edges it walked read and a shortest path found.
 */
function cycleThrough(sql: SqlStorage, taskId: number, dependencies: number[]): number[] | null {
  const walk = `WITH RECURSIVE reach(id) AS (
      SELECT value FROM json_each(?1)
      UNION
      SELECT d.depends_on FROM task_deps d JOIN reach ON d.task_id = reach.id WHERE reach.id != ?2
    )`;
  const found = sql.exec<{ found: number }>(`${walk} SELECT EXISTS (SELECT 1 FROM reach WHERE id = ?2) AS found`, idList(dependencies), taskId).one().found;
  if (!found) return null;
  const edges = new Map<number, number[]>();
  for (const edge of sql.exec<{ task_id: number; depends_on: number }>(
    `${walk} SELECT task_id, depends_on FROM task_deps WHERE task_id IN (SELECT id FROM reach) AND task_id != ?2 ORDER BY task_id, depends_on`,
    idList(dependencies),
    taskId,
  )) {
    const list = edges.get(edge.task_id) ?? [];
    list.push(edge.depends_on);
    edges.set(edge.task_id, list);
  }
  // Breadth first from the new dependencies: the first arrival at the task is a shortest cycle.
  const cameFrom = new Map<number, number>(dependencies.map((d) => [d, taskId]));
  const queue = [...dependencies].sort((a, b) => a - b);
  for (let i = 0; i < queue.length; i++) {
    const at = queue[i];
    if (at === taskId) break;
    for (const next of edges.get(at) ?? []) {
      if (cameFrom.has(next)) continue;
      cameFrom.set(next, at);
      queue.push(next);
    }
  }
  const path = [taskId];
  for (let at = cameFrom.get(taskId)!; at !== taskId; at = cameFrom.get(at)!) path.unshift(at);
  return [taskId, ...path];
}
