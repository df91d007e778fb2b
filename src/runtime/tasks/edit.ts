/**
 * Editing a task that is not finished (docs/tasks.md, "Editing"): its title, description,
 * priority, role, dependencies and their rule, not_before, metadata, max_attempts and retry
 * policy. Omitted fields keep their value; an edit that changes nothing writes nothing. Completed
 * and cancelled tasks are final and refuse edits; owner tasks are the owner's (owner.ts).
 *
 * New dependencies replace the old ones and are checked as at creation (unknown ids are
 * `not_found`, a rule that could never hold over them `failed_precondition`) and against the
 * graph (a task that would end up waiting for itself is a `conflict` naming the cycle). The
 * task's counters and judgement are recomputed in the same transaction, so a pending task leaves
 * or joins the ready queue at once. An in_progress task keeps its lease, and its rule must still
 * hold after the edit: its holder must always be able to complete it, and only a pending task is
 * ever claimed, so an edit never makes a claimed task claimable a second time. A task that waits
 * for an undecided owner task keeps its dependencies and rule: no edit takes a gate away.
 */
import { refreshGoalStatus } from "../goals/goals";
import { conflict, DomainError, failedPrecondition, invalid } from "../kernel/errors";
import { idList, iso, type JsonObject } from "../kernel/rows";
import { recordEvent } from "./history";
import { heldByDependencies, OWNER_ROLE, taskRow, toTasks, TRANSITIONS, type RunWhen, type Task, type TaskRow } from "./model";
import { assertGateKept, assertNotOwnerTask } from "./owner";
import { addDependencies, assertRuleCanHold, assertRuleHasDependencies, existingDependencies, retryCap } from "./queue";
import { countDependencies, rejudgeTask } from "./readiness";

export interface TaskEdit {
  task_id: number;
  title?: string;
  description?: string;
  priority?: number;
  role?: string | null;
  /** Replaces the task's dependencies (an empty list removes them all). */
  dependencies?: number[];
  run_when?: RunWhen;
  /** ms since the epoch; null removes it. */
  not_before?: number | null;
  /** Replaces the task's metadata object. */
  metadata?: JsonObject;
  max_attempts?: number;
  /** null removes the retry policy. */
  retry_backoff_seconds?: number | null;
  retry_backoff_max_seconds?: number | null;
}

const EDITABLE = [
  "title",
  "description",
  "priority",
  "role",
  "dependencies",
  "run_when",
  "not_before",
  "metadata",
  "max_attempts",
  "retry_backoff_seconds",
  "retry_backoff_max_seconds",
] as const;

export function updateTask(sql: SqlStorage, edit: TaskEdit, now: number): Task {
  const task = taskRow(sql, edit.task_id);
  if (TRANSITIONS[task.status].length === 0) {
    throw failedPrecondition(`task ${task.id} is ${task.status}, which is final: it cannot be edited`);
  }
  assertNotOwnerTask(task);
  if (EDITABLE.every((field) => edit[field] === undefined)) {
    throw new DomainError("invalid_argument", `nothing to change: pass at least one of ${EDITABLE.join(", ")}`);
  }
  const [before] = toTasks(sql, [task]);
  const next = nextValues(task, edit);
  const changes = describeChanges(task, next);

  const dependencies = edit.dependencies === undefined ? null : [...new Set(edit.dependencies)];
  const newDependencies = dependencies !== null && !sameSet(dependencies, before.dependencies);
  if (newDependencies || next.run_when !== task.run_when) {
    assertGateKept(sql, task, newDependencies ? "dependencies" : "run_when");
    const ids = newDependencies ? dependencies! : before.dependencies;
    assertRuleHasDependencies(next.run_when, ids.length, newDependencies && ids.length === 0 ? "dependencies" : "run_when");
  }
  if (next.role === OWNER_ROLE && task.role !== OWNER_ROLE && task.status !== "pending") {
    throw failedPrecondition(`task ${task.id} is ${task.status}: only a pending task can become the owner's decision`);
  }
  let counts = null;
  if (newDependencies) {
    const known = checkDependencies(sql, task, dependencies!);
    if (task.status === "pending") assertRuleCanHold(next.run_when, known);
    counts = countDependencies(known);
    sql.exec(`DELETE FROM task_deps WHERE task_id = ?`, task.id);
    addDependencies(sql, task.id, dependencies!);
    changes.push(`dependencies [${before.dependencies.join(", ")}] → [${[...dependencies!].sort((a, b) => a - b).join(", ")}]`);
  } else if (next.run_when !== task.run_when && task.status === "pending") {
    assertRuleCanHold(next.run_when, existingDependencies(sql, before.dependencies));
  }
  if (changes.length === 0) return before;

  sql.exec(
    `UPDATE tasks SET title = ?, description = ?, priority = ?, role = ?, run_when = ?, not_before = ?, metadata = ?, max_attempts = ?,
       retry_backoff_seconds = ?, retry_backoff_max_seconds = ?, updated_at = ?
     WHERE id = ?`,
    next.title,
    next.description,
    next.priority,
    next.role,
    next.run_when,
    next.not_before,
    next.metadata,
    next.max_attempts,
    next.retry_backoff_seconds,
    next.retry_backoff_max_seconds,
    now,
    task.id,
  );
  if (counts) {
    sql.exec(
      `UPDATE tasks SET dep_count = ?, unmet_deps = ?, failed_deps = ?, cancelled_deps = ? WHERE id = ?`,
      counts.dep_count,
      counts.unmet_deps,
      counts.failed_deps,
      counts.cancelled_deps,
      task.id,
    );
  }
  rejudgeTask(sql, task.id, now);
  const row = taskRow(sql, task.id);
  const [after] = toTasks(sql, [row]);
  if (task.status === "in_progress" && heldByDependencies(row)) {
    // Thrown inside the transaction: the edit is undone.
    throw failedPrecondition(
      `task ${task.id} is in_progress and cannot wait for unfinished task ${after.blocked_by.join(", ")} (run_when ${row.run_when}); set it back to pending first`,
    );
  }
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

type Values = Pick<
  TaskRow,
  | "title"
  | "description"
  | "priority"
  | "role"
  | "run_when"
  | "not_before"
  | "metadata"
  | "max_attempts"
  | "retry_backoff_seconds"
  | "retry_backoff_max_seconds"
>;

/** The task's fields after the edit (the dependencies aside). */
function nextValues(task: TaskRow, edit: TaskEdit): Values {
  const base = edit.retry_backoff_seconds === undefined ? task.retry_backoff_seconds : edit.retry_backoff_seconds;
  if (base === null && edit.retry_backoff_max_seconds !== undefined && edit.retry_backoff_max_seconds !== null) {
    throw invalid("retry_backoff_max_seconds", "applies to a retry policy: pass retry_backoff_seconds too");
  }
  const cap = edit.retry_backoff_max_seconds === undefined ? task.retry_backoff_max_seconds : edit.retry_backoff_max_seconds;
  return {
    title: edit.title ?? task.title,
    description: edit.description ?? task.description,
    priority: edit.priority ?? task.priority,
    role: edit.role === undefined ? task.role : edit.role,
    run_when: edit.run_when ?? task.run_when,
    not_before: edit.not_before === undefined ? task.not_before : edit.not_before,
    metadata: edit.metadata === undefined ? task.metadata : JSON.stringify(edit.metadata),
    max_attempts: edit.max_attempts ?? task.max_attempts,
    retry_backoff_seconds: base,
    retry_backoff_max_seconds: retryCap(base, cap),
  };
}

/** The changes of `next` against `task`, in words for the history. */
function describeChanges(task: TaskRow, next: Values): string[] {
  const changes: string[] = [];
  const shown = (value: SqlStorageValue) => (value === null ? "none" : String(value));
  if (next.title !== task.title) changes.push("title");
  if (next.description !== task.description) changes.push("description");
  if (next.metadata !== task.metadata) changes.push("metadata");
  for (const field of ["priority", "role", "run_when", "max_attempts", "retry_backoff_seconds", "retry_backoff_max_seconds"] as const) {
    if (next[field] !== task[field]) changes.push(`${field} ${shown(task[field])} → ${shown(next[field])}`);
  }
  if (next.not_before !== task.not_before) changes.push(`not_before ${iso(task.not_before) ?? "none"} → ${iso(next.not_before) ?? "none"}`);
  return changes;
}

const sameSet = (a: readonly number[], b: readonly number[]) => a.length === b.length && b.every((id) => a.includes(id));

/**
 * Checks `dependencies` as the new dependency list of `task` and returns their states: every id a
 * task (`not_found`) and no cycle (`conflict`).
 */
function checkDependencies(sql: SqlStorage, task: TaskRow, dependencies: number[]) {
  if (dependencies.includes(task.id)) throw conflict(`dependencies: task ${task.id} cannot depend on itself`);
  const known = existingDependencies(sql, dependencies);
  const cycle = cycleThrough(sql, task.id, dependencies);
  if (cycle) {
    throw conflict(`dependencies: this would make a cycle (each task waits for the next): ${cycle.join(" → ")}`);
  }
  return known;
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
