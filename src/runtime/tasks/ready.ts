/**
 * Finding work for a caller (docs/tasks.md, "Roles"). A caller may take tasks without a role and
 * tasks of the roles it names; the owner's tasks go to no agent. The next task for a caller is
 * the best of one index entry per role it may take (the ready queue is a partial index by role,
 * in hand-out order), so it costs the same however many tasks other roles have. When nothing is
 * ready for it, the answer says why: other roles have ready work, everything it may take waits
 * (and when something will be ready by time alone), or there is nothing left for it at all.
 */
import { LIMITS } from "../kernel/limits";
import { HOLD } from "./model";

/** What a caller may take: tasks without a role (null) and tasks of its roles. */
export interface WorkScope {
  goal_id?: number;
  /** null stands for "no role"; always included. */
  roles: readonly (string | null)[];
}

export const scopeOf = (goalId: number | undefined, roles: readonly string[] = []): WorkScope => ({
  ...(goalId === undefined ? {} : { goal_id: goalId }),
  roles: [null, ...new Set(roles)],
});

/** The ready task a caller of `scope` would be handed next: highest priority, oldest on ties. */
export function peekReady(sql: SqlStorage, scope: WorkScope): ReadyHead | null {
  let best: ReadyHead | null = null;
  for (const role of scope.roles) {
    const head = readyHead(sql, scope.goal_id, role);
    if (head && (best === null || head.priority > best.priority || (head.priority === best.priority && head.id < best.id))) best = head;
  }
  return best;
}

/** The next ready task of the scope: its id and priority, read from the index alone. */
export interface ReadyHead {
  id: number;
  priority: number;
}

/**
 * The first ready task of one role (or of none). INDEXED BY pins the partial index: the planner
 * otherwise may prefer another index and sort every pending row.
 */
function readyHead(sql: SqlStorage, goalId: number | undefined, role: string | null): ReadyHead | null {
  const rows =
    goalId === undefined
      ? sql.exec<ReadyHead & Record<string, SqlStorageValue>>(
          `SELECT id, priority FROM tasks INDEXED BY tasks_ready
           WHERE role IS ? AND status = 'pending' AND hold = ${HOLD.ready} ORDER BY priority DESC, id LIMIT 1`,
          role,
        )
      : sql.exec<ReadyHead & Record<string, SqlStorageValue>>(
          `SELECT id, priority FROM tasks INDEXED BY tasks_ready_by_goal
           WHERE goal_id = ? AND role IS ? AND status = 'pending' AND hold = ${HOLD.ready} ORDER BY priority DESC, id LIMIT 1`,
          goalId,
          role,
        );
  return rows.toArray()[0] ?? null;
}

export type NothingReady = "no_pending_tasks" | "all_pending_tasks_blocked" | "no_task_for_roles";

export interface WhyNothing {
  reason: NothingReady;
  /** With no_task_for_roles: how many tasks are ready for the roles the caller did not name (each counted up to a bound). */
  ready_by_role?: Record<string, number>;
  /** When a task the caller may take becomes ready by time alone. */
  next_ready_at?: number;
}

/** Roles counted in ready_by_role, and tasks counted per role: enough to decide whom to send. */
const ROLES_COUNTED = 50;
const COUNTED_PER_ROLE = 1_000;

/** Why nothing is ready for a caller of `scope`: index reads only, bounded. */
export function whyNothingReady(sql: SqlStorage, scope: WorkScope): WhyNothing {
  const mine = new Set(scope.roles);
  const elsewhere: Record<string, number> = {};
  let counted = 0;
  for (const role of readyRoles(sql, scope.goal_id)) {
    if (mine.has(role)) continue;
    elsewhere[role] = readyCount(sql, scope.goal_id, role);
    if (++counted === ROLES_COUNTED) break;
  }
  const nextReadyAt = nextReadyFor(sql, scope);
  const timed = nextReadyAt === null ? {} : { next_ready_at: nextReadyAt };
  if (counted > 0) return { reason: "no_task_for_roles", ready_by_role: elsewhere, ...timed };
  const anyPending = scope.roles.some((role) =>
    scope.goal_id === undefined
      ? sql.exec(`SELECT 1 FROM tasks INDEXED BY tasks_pending_by_role WHERE role IS ? AND status = 'pending' LIMIT 1`, role).toArray().length > 0
      : sql.exec(`SELECT 1 FROM tasks INDEXED BY tasks_pending_by_role WHERE role IS ? AND goal_id = ? AND status = 'pending' LIMIT 1`, role, scope.goal_id)
          .toArray().length > 0,
  );
  return { reason: anyPending ? "all_pending_tasks_blocked" : "no_pending_tasks", ...timed };
}

/** The distinct roles (not none) with ready tasks, in order: a loose index scan, one seek per role. */
function readyRoles(sql: SqlStorage, goalId: number | undefined): string[] {
  const scoped = goalId === undefined ? "" : "AND goal_id = ?2";
  const index = goalId === undefined ? "tasks_ready" : "tasks_ready_by_goal";
  return sql
    .exec<{ role: string }>(
      `WITH RECURSIVE roles(role) AS (
         SELECT min(role) FROM tasks INDEXED BY ${index} WHERE role IS NOT NULL AND status = 'pending' AND hold = ${HOLD.ready} ${scoped}
         UNION ALL
         SELECT (SELECT min(role) FROM tasks INDEXED BY ${index} WHERE role > roles.role AND status = 'pending' AND hold = ${HOLD.ready} ${scoped})
         FROM roles WHERE roles.role IS NOT NULL
         LIMIT ?1
       )
       SELECT role FROM roles WHERE role IS NOT NULL`,
      ROLES_COUNTED + LIMITS.rolesPerCaller + 1,
      ...(goalId === undefined ? [] : [goalId]),
    )
    .toArray()
    .map((r) => r.role);
}

function readyCount(sql: SqlStorage, goalId: number | undefined, role: string): number {
  const scoped = goalId === undefined ? "" : "AND goal_id = ?3";
  const index = goalId === undefined ? "tasks_ready" : "tasks_ready_by_goal";
  return sql
    .exec<{ n: number }>(
      `SELECT count(*) AS n FROM (SELECT 1 FROM tasks INDEXED BY ${index} WHERE role = ?1 AND status = 'pending' AND hold = ${HOLD.ready} ${scoped} LIMIT ?2)`,
      role,
      COUNTED_PER_ROLE,
      ...(goalId === undefined ? [] : [goalId]),
    )
    .one().n;
}

/** The earliest not_before among the tasks a caller of `scope` may take that wait only for it. */
function nextReadyFor(sql: SqlStorage, scope: WorkScope): number | null {
  const roles = scope.roles.filter((r): r is string => r !== null);
  const goal = scope.goal_id === undefined ? "" : "AND goal_id = ?2";
  return (
    sql
      .exec<{ due: number }>(
        `SELECT not_before AS due FROM tasks INDEXED BY tasks_deferred
         WHERE status = 'pending' AND hold = ${HOLD.deferred} AND (role IS NULL OR role IN (SELECT value FROM json_each(?1))) ${goal}
         ORDER BY not_before LIMIT 1`,
        JSON.stringify(roles),
        ...(scope.goal_id === undefined ? [] : [scope.goal_id]),
      )
      .toArray()[0]?.due ?? null
  );
}
