/**
 * What every stored task, dependency edge and history event satisfies, whatever wrote it
 * (kernel/integrity.ts explains the shape; an import checks a file against it). A new column of
 * these tables gets its rule here; a derived one is recomputed by `recomputeDerived` (derived.ts).
 */
import {
  acrossRule,
  count,
  derived,
  id,
  integer,
  issuedId,
  jsonObject,
  oneLineName,
  oneOf,
  rowRule,
  setExactlyWhen,
  text,
  time,
  type Row,
  type TableRules,
} from "../kernel/integrity";
import { LIMITS } from "../kernel/limits";
import { recomputeDerived } from "./derived";
import { EVENT_KINDS } from "./history";
import { OWNER_ROLE, RUN_WHEN, TASK_STATUSES } from "./model";

/** A lease id as claimTask makes it. */
const leaseId = () => issuedId("ls_", 16);
const leased = (row: Row) => row.lease_id !== null;

export const TASK_RULES: readonly TableRules[] = [
  {
    table: "tasks",
    columns: {
      id: id(),
      goal_id: id(),
      title: text(LIMITS.title, 1),
      description: text(LIMITS.text),
      status: oneOf(TASK_STATUSES),
      priority: integer(LIMITS.priorityMin, LIMITS.priorityMax),
      role: oneLineName(LIMITS.role),
      run_when: oneOf(RUN_WHEN),
      not_before: time(),
      retry_backoff_seconds: integer(0, LIMITS.retryBackoffMaxSeconds),
      retry_backoff_max_seconds: integer(0, LIMITS.retryBackoffMaxSeconds),
      schedule_id: issuedId("sc_", 12),
      dep_count: derived(),
      unmet_deps: derived(),
      failed_deps: derived(),
      cancelled_deps: derived(),
      hold: derived(),
      created_at: time(),
      updated_at: time(),
      started_at: time(),
      completed_at: time(),
      result: text(LIMITS.text),
      error: text(LIMITS.text),
      metadata: jsonObject(LIMITS.metadataBytes, LIMITS.metadataDepth),
      assigned_to: oneLineName(LIMITS.agentId),
      attempt: count(),
      max_attempts: integer(1, LIMITS.maxAttempts),
      lease_id: leaseId(),
      lease_expires_at: time(),
      lease_seconds: integer(1, LIMITS.leaseMaxSeconds),
      progress: text(LIMITS.progress),
    },
    rows: [
      rowRule("lease_id, lease_expires_at and lease_seconds are set together or not at all", (row) =>
        [row.lease_expires_at, row.lease_seconds].every((cell) => (cell !== null) === leased(row)),
      ),
      rowRule("only an in_progress task holds a lease", (row) => !leased(row) || row.status === "in_progress"),
      rowRule("a task under a lease names its holder in assigned_to", (row) => !leased(row) || row.assigned_to !== null),
      rowRule("a pending task is assigned to no one", (row) => row.status !== "pending" || row.assigned_to === null),
      rowRule("an in_progress task has started_at", (row) => row.status !== "in_progress" || row.started_at !== null),
      setExactlyWhen("completed_at", "the task is completed", (row) => row.status === "completed"),
      setExactlyWhen("retry_backoff_max_seconds", "the task has a retry policy (retry_backoff_seconds)", (row) => row.retry_backoff_seconds !== null),
      rowRule("an owner task is never held by an agent: it is pending, or decided", (row) => row.role !== OWNER_ROLE || (row.status !== "in_progress" && row.lease_id === null)),
    ],
    across: [
      acrossRule(
        "a rule other than all_completed is judged over at least one dependency",
        `SELECT id FROM tasks t WHERE run_when != 'all_completed' AND NOT EXISTS (SELECT 1 FROM task_deps d WHERE d.task_id = t.id)`,
      ),
    ],
    derived: {
      columns: ["dep_count", "unmet_deps", "failed_deps", "cancelled_deps", "hold"],
      says: "what its dependencies' outcomes, its rule and its not_before make it",
      recompute: recomputeDerived,
    },
  },
  {
    table: "task_deps",
    columns: { task_id: id(), depends_on: id() },
    across: [
      acrossRule("a task does not depend on itself", `SELECT task_id, depends_on FROM task_deps WHERE task_id = depends_on`),
      acrossRule(
        `a task has at most ${LIMITS.dependencies} dependencies`,
        `SELECT task_id, max(depends_on) AS depends_on FROM task_deps GROUP BY task_id HAVING count(*) > ${LIMITS.dependencies}`,
      ),
      {
        says: "the dependencies form no cycle (no task waits for itself through others)",
        find: (sql) => edgeOnCycle(sql),
      },
    ],
  },
  {
    table: "task_events",
    columns: {
      id: id(),
      task_id: id(),
      at: time(),
      kind: oneOf(EVENT_KINDS),
      agent_id: oneLineName(LIMITS.agentId),
      lease_id: leaseId(),
      attempt: count(),
      status: oneOf(TASK_STATUSES),
      detail: text(LIMITS.text),
      count: integer(1, Number.MAX_SAFE_INTEGER),
    },
    across: [
      acrossRule(
        `a task keeps at most its newest ${LIMITS.taskEvents} events`,
        `SELECT max(id) AS id FROM task_events GROUP BY task_id HAVING count(*) > ${LIMITS.taskEvents}`,
      ),
    ],
  },
];

/**
 * An edge that lies on a dependency cycle, or null: Kahn's algorithm over every edge (one pass,
 * however large the graph); the edges left over after it all lie on or lead into a cycle, and
 * following left-over edges from any of them must come round to one.
 */
function edgeOnCycle(sql: SqlStorage): { task_id: number; depends_on: number } | null {
  const waitsFor = new Map<number, number[]>();
  const unmet = new Map<number, number>();
  const dependents = new Map<number, number[]>();
  for (const { task_id, depends_on } of sql.exec<{ task_id: number; depends_on: number }>(`SELECT task_id, depends_on FROM task_deps`)) {
    (waitsFor.get(task_id) ?? waitsFor.set(task_id, []).get(task_id)!).push(depends_on);
    (dependents.get(depends_on) ?? dependents.set(depends_on, []).get(depends_on)!).push(task_id);
    unmet.set(task_id, (unmet.get(task_id) ?? 0) + 1);
  }
  const free = [...dependents.keys()].filter((task) => !unmet.has(task));
  while (free.length > 0) {
    for (const dependent of dependents.get(free.pop()!) ?? []) {
      const left = unmet.get(dependent)! - 1;
      if (left === 0) {
        unmet.delete(dependent);
        free.push(dependent);
      } else unmet.set(dependent, left);
    }
  }
  if (unmet.size === 0) return null;
  // Walk left-over edges until a task repeats: the step that closes the loop is on the cycle.
  const seen = new Set<number>();
  let at = unmet.keys().next().value!;
  for (;;) {
    seen.add(at);
    const next = waitsFor.get(at)!.find((dep) => unmet.has(dep))!;
    if (seen.has(next)) return { task_id: at, depends_on: next };
    at = next;
  }
}
