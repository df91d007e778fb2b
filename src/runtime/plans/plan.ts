/**
 * A plan is the list of tasks a decomposition proposes, with dependencies as indexes into that
 * list. Whatever wrote it (a template, Claude, the calling agent), it is checked here before
 * anything is stored: sizes within the limits, indexes in range, and no cycles.
 */
import { invalid } from "../kernel/errors";
import { LIMITS } from "../kernel/limits";
import { RUN_WHEN, type RunWhen } from "../tasks/model";

export interface PlannedTask {
  title: string;
  description: string;
  priority: number;
  /** Indexes of earlier or later tasks in the same plan. */
  depends_on: number[];
  role?: string | null;
  run_when?: RunWhen;
  /** ms since the epoch. */
  not_before?: number | null;
}

export interface Plan {
  tasks: PlannedTask[];
}

/** A task as the calling agent may write it in `decompose_goal {tasks}`: only the title is required. */
export interface AgentTask {
  title: string;
  description?: string;
  priority?: number;
  depends_on?: number[];
  role?: string;
  run_when?: RunWhen;
  not_before?: number;
}

/** The calling agent's tasks with the defaults of `create_task` filled in (not yet validated). */
export function agentPlan(tasks: AgentTask[]): Plan {
  return {
    tasks: tasks.map((t) => ({
      title: t.title,
      description: t.description ?? "",
      priority: t.priority ?? LIMITS.priorityDefault,
      depends_on: t.depends_on ?? [],
      ...(t.role === undefined ? {} : { role: t.role }),
      ...(t.run_when === undefined ? {} : { run_when: t.run_when }),
      ...(t.not_before === undefined ? {} : { not_before: t.not_before }),
    })),
  };
}

export interface PlanLimits {
  /** How the plan is named in error messages: `tasks[3].depends_on: …`. */
  field?: string;
  /** At most this many tasks (never more than LIMITS.planTasks). */
  maxTasks?: number;
}

/**
 * Throws `invalid_argument` naming the offending field (`tasks[3].title: …`, or `tasks: …` for a
 * cycle or the plan's size); returns the plan unchanged otherwise.
 */
export function validatePlan(plan: Plan, { field = "tasks", maxTasks = LIMITS.planTasks }: PlanLimits = {}): Plan {
  const { tasks } = plan;
  const max = Math.min(maxTasks, LIMITS.planTasks);
  if (!Array.isArray(tasks) || tasks.length === 0) throw invalid(field, "a plan needs at least one task");
  if (tasks.length > max) throw invalid(field, `a plan has at most ${max} tasks (got ${tasks.length})`);
  tasks.forEach((task, i) => {
    const at = `${field}[${i}]`;
    if (typeof task.title !== "string" || task.title.trim().length === 0) throw invalid(`${at}.title`, "must not be empty");
    if (task.title.length > LIMITS.title) throw invalid(`${at}.title`, `at most ${LIMITS.title} characters`);
    if (typeof task.description !== "string") throw invalid(`${at}.description`, "must be a string");
    if (task.description.length > LIMITS.text) throw invalid(`${at}.description`, `at most ${LIMITS.text} characters`);
    if (!Number.isInteger(task.priority) || task.priority < LIMITS.priorityMin || task.priority > LIMITS.priorityMax) {
      throw invalid(`${at}.priority`, `must be a whole number from ${LIMITS.priorityMin} to ${LIMITS.priorityMax}`);
    }
    if (!Array.isArray(task.depends_on)) throw invalid(`${at}.depends_on`, "must be a list of task indexes");
    if (task.depends_on.length > LIMITS.dependencies) throw invalid(`${at}.depends_on`, `at most ${LIMITS.dependencies} dependencies`);
    for (const dep of task.depends_on) {
      if (!Number.isInteger(dep) || dep < 0 || dep >= tasks.length) {
        throw invalid(`${at}.depends_on`, `index ${dep} is not a task of this plan (0..${tasks.length - 1})`);
      }
      if (dep === i) throw invalid(`${at}.depends_on`, "a task cannot depend on itself");
    }
    if (task.run_when !== undefined && !RUN_WHEN.includes(task.run_when)) throw invalid(`${at}.run_when`, `one of ${RUN_WHEN.join(", ")}`);
    if (task.run_when !== undefined && task.run_when !== "all_completed" && task.depends_on.length === 0) {
      throw invalid(`${at}.run_when`, `${task.run_when} needs at least one dependency`);
    }
  });
  const cycle = findCycle(tasks);
  if (cycle) {
    // Read the arrow as "depends on": [0, 2, 0] is task 0 waiting for task 2 waiting for task 0.
    throw invalid(field, `dependencies form a cycle (each task waits for the next): ${cycle.join(" → ")}`);
  }
  return plan;
}

/** Kahn's algorithm; on failure, walks the leftover graph to name one cycle. */
function findCycle(tasks: PlannedTask[]): number[] | null {
  const indegree = tasks.map((t) => new Set(t.depends_on).size);
  const dependents = tasks.map(() => [] as number[]);
  tasks.forEach((t, i) => new Set(t.depends_on).forEach((d) => dependents[d].push(i)));
  const queue = indegree.flatMap((n, i) => (n === 0 ? [i] : []));
  let seen = 0;
  while (queue.length) {
    const i = queue.pop()!;
    seen++;
    for (const j of dependents[i]) if (--indegree[j] === 0) queue.push(j);
  }
  if (seen === tasks.length) return null;
  // Every leftover node has a leftover dependency: follow them until one repeats.
  let at = indegree.findIndex((n) => n > 0);
  const path: number[] = [];
  while (!path.includes(at)) {
    path.push(at);
    at = tasks[at].depends_on.find((d) => indegree[d] > 0)!;
  }
  return [...path.slice(path.indexOf(at)), at];
}
