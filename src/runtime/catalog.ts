/**
 * What a client browses rather than works with (docs/resources-and-prompts.md): a goal with its
 * tasks in one read, the live items of the user page by page (active goals, then running
 * pipelines), and the user's own ids by prefix for completions. Reads only, across the goal, task,
 * relay and breaker domains; each piece is an indexed query in its domain.
 */
import { breakerIdsWithPrefix } from "./breakers/views";
import { activeGoalsPage, getGoal, goalIdsWithPrefix, type Goal } from "./goals/goals";
import { listScope, type Cursors, type Position } from "./kernel/cursor";
import { invalid } from "./kernel/errors";
import { LIMITS } from "./kernel/limits";
import { pipelineIdsWithPrefix, runningPipelinesPage } from "./relay/views";
import { scheduleIdsWithPrefix } from "./schedules/schedules";
import type { Task } from "./tasks/model";
import { assigneesWithPrefix, listTasks } from "./tasks/queue";

/**
 * A goal and its first tasks in creation order: one full page of `list_tasks` (at most
 * `LIMITS.listMax`, and bounded in bytes); `goal.task_counts` has the totals.
 */
export interface GoalWithTasks {
  goal: Goal;
  tasks: Task[];
}

export function goalWithTasks(sql: SqlStorage, cursors: Cursors, goalId: number): GoalWithTasks {
  return { goal: getGoal(sql, goalId), tasks: listTasks(sql, cursors, { goal_id: goalId, limit: LIMITS.listMax }).items };
}

export interface LiveItem {
  kind: "goal" | "pipeline";
  id: string;
  name: string;
}

/**
 * Where a walk through the live items stands: after the goal or pipeline with this key (goal id,
 * pipeline sequence number). Keys only go down, so an item added during a walk is not met in it,
 * and no item is met twice.
 */
export interface LivePosition {
  kind: "goal" | "pipeline";
  /** null: from the newest of its kind. */
  before: number | null;
}

export interface LivePage {
  items: LiveItem[];
  /** Where the next page starts, as a list cursor (kernel/cursor.ts); null after the last. */
  next_cursor: string | null;
}

/** Live items are one list for the cursors: the position is `goal:<id>` or `pipeline:<seq>`. */
const LIVE_SCOPE = listScope("live");
const positionOf = (position: Position): LivePosition => {
  const [kind, before] = String(position).split(":");
  if ((kind !== "goal" && kind !== "pipeline") || !/^\d*$/.test(before ?? "x")) throw invalid("cursor", "not a cursor of this list");
  return { kind, before: before === "" ? null : Number(before) };
};

/** One page of the live items (active goals newest first, then running pipelines newest first) from `cursor`. */
export function listLive(sql: SqlStorage, cursors: Cursors, cursor: string | undefined, limit: number): LivePage {
  const from = cursor === undefined ? null : positionOf(cursors.open(LIVE_SCOPE, cursor));
  const { items, next } = liveFrom(sql, from, limit);
  return { items, next_cursor: next === null ? null : cursors.issue(LIVE_SCOPE, `${next.kind}:${next.before ?? ""}`) };
}

function liveFrom(sql: SqlStorage, from: LivePosition | null, limit: number): { items: LiveItem[]; next: LivePosition | null } {
  const items: LiveItem[] = [];
  let next: LivePosition | null = null;
  if (from === null || from.kind === "goal") {
    // One more than asked tells whether the goals go on.
    const goals = activeGoalsPage(sql, from?.before ?? null, limit + 1);
    for (const g of goals.slice(0, limit)) items.push({ kind: "goal", id: String(g.id), name: g.name });
    if (goals.length > limit) return { items, next: { kind: "goal", before: goals[limit - 1].id } };
  }
  const room = limit - items.length;
  if (room === 0) return { items, next: runningPipelinesPage(sql, null, 1).length > 0 ? { kind: "pipeline", before: null } : null };
  const pipelines = runningPipelinesPage(sql, from?.kind === "pipeline" ? from.before : null, room + 1);
  for (const p of pipelines.slice(0, room)) items.push({ kind: "pipeline", id: p.id, name: p.name });
  if (pipelines.length > room) next = { kind: "pipeline", before: pipelines[room - 1].seq };
  return { items, next };
}

export const COMPLETION_KINDS = ["goal_id", "pipeline_id", "agent_id", "schedule_id"] as const;
export type CompletionKind = (typeof COMPLETION_KINDS)[number];

/** At most this many values per completion (the MCP limit). */
export const COMPLETION_MAX = 100;

/**
 * The user's own ids of a kind starting with `prefix`, at most 100: goal ids newest first,
 * pipeline and schedule ids in order, and agent ids (agents with a breaker and agents that held a task) in order.
 */
export function complete(sql: SqlStorage, kind: CompletionKind, prefix: string): string[] {
  if (prefix.length > LIMITS.agentId) return [];
  switch (kind) {
    case "goal_id":
      return goalIdsWithPrefix(sql, prefix, COMPLETION_MAX).map(String);
    case "pipeline_id":
      return pipelineIdsWithPrefix(sql, prefix, COMPLETION_MAX);
    case "schedule_id":
      return scheduleIdsWithPrefix(sql, prefix, COMPLETION_MAX);
    case "agent_id": {
      const agents = new Set([...breakerIdsWithPrefix(sql, prefix, COMPLETION_MAX), ...assigneesWithPrefix(sql, prefix, COMPLETION_MAX)]);
      return [...agents].sort(byCodePoint).slice(0, COMPLETION_MAX);
    }
  }
}

/** The order SQLite's BINARY collation gives UTF-8 text, which is code point order. */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i].codePointAt(0)! - y[i].codePointAt(0)!;
  }
  return x.length - y.length;
}
