/**
 * An import is accepted only if the runtime could have written it (docs/dashboard.md, "Import"):
 *
 *   - random instances built through the Runtime's own RPC methods (goals, tasks with
 *     dependencies, plans, claims, heartbeats, moves, edits, cancels, leases running out, relays
 *     advanced and retried, breakers failing, tripping, probing, recovering) round-trip: export →
 *     import into a fresh object → export gives the same bytes;
 *   - every random single corruption of such an export is refused with a reason naming the table
 *     and row, changes nothing, and never crashes the call: the corruptions come from the domains'
 *     own rules (each column rule's counterexamples, src/runtime/kernel/integrity.ts) and from the
 *     named list CORRUPTIONS below, for what a column alone cannot say (cycles, dense steps, …).
 *
 * To cover a new column: its rule in the domain's integrity.ts brings its corruptions with it; a
 * value the runtime can put there needs an operation below (OPERATIONS) or a field in one. A rule
 * across rows gets a named corruption in CORRUPTIONS.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import type { Cell, TableRules } from "../src/runtime/kernel/integrity";
import { RUN_WHEN } from "../src/runtime/tasks/model";
import { INTEGRITY_RULES } from "../src/runtime/transfer/rules";
import { dataTables, type TransferDocument } from "../src/runtime/transfer/tables";
import { rulesFor } from "../src/runtime/transfer/verify";
import { fireAlarm, freshRuntime, value, withSql } from "./helpers/runtime";

/** Set to the `{ seed, path }` a failure printed to replay exactly that run. */
const REPLAY = undefined as { seed: number; path: string } | undefined;
const settings = <T>(numRuns: number): fc.Parameters<T> =>
  REPLAY ? { seed: REPLAY.seed, path: REPLAY.path, endOnFailure: true } : { numRuns, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: true };

// --- building an instance through the runtime ------------------------------------------------

const AGENTS = ["coder-1", "coder-2", "reviewer"] as const;
const AGENT_TYPES = ["researcher", "Validator", "formatter", "translator ✓"] as const;

/** What the operations have made so far, to aim the next ones at. */
interface Made {
  goals: number[];
  tasks: number[];
  schedules: string[];
  pipelines: string[];
  /** Leases handed out, live or not: agents keep quoting old ones. */
  leases: { task: number; lease: string }[];
}

type Operation = { name: string; run(rt: RuntimeApi, made: Made): Promise<unknown> };

/** Operations print as their name and input in fast-check's reports. */
const named = <T>(input: T, name: string, run: Operation["run"]): Operation =>
  Object.assign({ name, run }, { [fc.toStringMethod]: () => `${name} ${fc.stringify(input)}` });

const pick = <T>(list: readonly T[], n: number): T | undefined => (list.length === 0 ? undefined : list[n % list.length]);
/** Within the limits the tool schemas set (a grapheme may take several UTF-16 units). */
const title = fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }).filter((s) => s.length <= 200);
const prose = fc.string({ maxLength: 120, unit: "grapheme" });
/** A plain JSON object, as a tool call delivers it (fast-check's own objects may not cross RPC). */
const metadata = fc.option(
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }).map((m) => JSON.parse(JSON.stringify(m)) as Record<string, unknown>),
  { nil: undefined },
);
const agent = fc.constantFrom(...AGENTS);
const score = fc.double({ min: 0, max: 1, noNaN: true });

/** Moves every due time into the past (leases; not_before and schedules; cooldowns and probes) and runs the alarm. */
async function timePasses(rt: RuntimeApi, what: "leases" | "time" | "breakers"): Promise<void> {
  await withSql(rt, (sql) => {
    const past = Date.now() - 1;
    if (what === "leases") sql.exec(`UPDATE tasks SET lease_expires_at = ? WHERE lease_expires_at IS NOT NULL`, past);
    else if (what === "time") {
      sql.exec(`UPDATE tasks SET not_before = ? WHERE not_before IS NOT NULL AND status = 'pending'`, past);
      sql.exec(`UPDATE schedules SET next_run_at = ? WHERE next_run_at IS NOT NULL`, past);
    } else {
      sql.exec(`UPDATE breakers SET cooldown_until = ? WHERE cooldown_until IS NOT NULL`, past);
      sql.exec(`UPDATE breaker_probes SET expires_at = ?`, past);
    }
  });
  await fireAlarm(rt);
}

/**
 * Every way the generator changes an instance, each through the Runtime's RPC methods with input
 * the tools would accept. Refused calls are part of it: they must change nothing.
 */
const OPERATIONS: fc.Arbitrary<Operation>[] = [
  fc.record({ name: title, description: prose, metadata }).map((input) =>
    named(input, "create_goal", async (rt, made) => {
      const goal = await rt.createGoal({ ...input });
      if (goal.ok) made.goals.push(goal.value.id);
    }),
  ),
  fc
    .record({
      title,
      description: prose,
      goal: fc.option(fc.nat(), { nil: undefined }),
      deps: fc.array(fc.nat(), { maxLength: 3 }),
      priority: fc.integer({ min: 1, max: 10 }),
      metadata,
      maxAttempts: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      role: fc.constantFrom(undefined, undefined, "coder", "owner"),
      rule: fc.constantFrom(...RUN_WHEN),
      later: fc.boolean(),
      backoff: fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
    })
    .map((t) =>
      named(t, "create_task", async (rt, made) => {
        const goalId = t.goal === undefined ? undefined : pick(made.goals, t.goal);
        const dependencies = [...new Set(t.deps.map((d) => pick(made.tasks, d)).filter((d) => d !== undefined))];
        const input = {
          title: t.title,
          description: t.description,
          goal_id: goalId,
          priority: t.priority,
          dependencies,
          metadata: t.metadata,
          max_attempts: t.maxAttempts,
          role: t.role,
          run_when: t.rule,
          not_before: t.later ? Date.now() + 3_600_000 : undefined,
          retry_backoff_seconds: t.backoff,
        };
        const task = await rt.createTask(input);
        if (task.ok) made.tasks.push(task.value.id);
      }),
    ),
  fc.record({ goal: fc.nat(), size: fc.integer({ min: 1, max: 5 }), append: fc.boolean() }).map((p) =>
    named(p, "decompose_goal {tasks}", async (rt, made) => {
      const goalId = pick(made.goals, p.goal);
      if (goalId === undefined) return;
      const tasks = Array.from({ length: p.size }, (_, i) => ({
        title: `step ${i}`,
        description: "",
        priority: 10 - i,
        depends_on: i > 0 ? [i - 1] : [],
        role: i === 1 ? "owner" : i === 2 ? "coder" : null,
        run_when: i === 3 ? ("any_failed" as const) : ("all_completed" as const),
      }));
      const created = await rt.applyPlan(goalId, { tasks }, p.append ? "append" : "new");
      if (created.ok) made.tasks.push(...created.value.map((task) => task.id));
    }),
  ),
  fc
    .record({
      agent: fc.option(agent, { nil: undefined }),
      goal: fc.option(fc.nat(), { nil: undefined }),
      lease: fc.option(fc.integer({ min: 60, max: 3600 }), { nil: undefined }),
      roles: fc.constantFrom<string[] | undefined>(undefined, ["coder"]),
    })
    .map((c) =>
      named(c, "get_next_task", async (rt, made) => {
        const goalId = c.goal === undefined ? undefined : pick(made.goals, c.goal);
        const answer = await rt.nextTask({ agent_id: c.agent, goal_id: goalId, lease_seconds: c.agent === undefined ? undefined : c.lease, roles: c.roles });
        if (answer.ok && answer.value.lease_id) made.leases.push({ task: answer.value.task!.id, lease: answer.value.lease_id });
      }),
    ),
  fc.record({ lease: fc.nat(), progress: fc.option(prose, { nil: undefined }) }).map((h) =>
    named(h, "heartbeat_task", async (rt, made) => {
      const held = pick(made.leases, h.lease);
      if (held) await rt.heartbeatTask({ task_id: held.task, lease_id: held.lease, progress: h.progress });
    }),
  ),
  fc
    .record({
      task: fc.nat(),
      status: fc.constantFrom("pending", "in_progress", "completed", "failed", "cancelled" as const),
      result: fc.option(prose, { nil: undefined }),
      error: fc.option(prose, { nil: undefined }),
      withLease: fc.boolean(),
      retryable: fc.constantFrom(undefined, false),
    })
    .map((m) =>
      named(m, "update_task_status", async (rt, made) => {
        const held = m.withLease ? pick(made.leases, m.task) : undefined;
        const taskId = held?.task ?? pick(made.tasks, m.task);
        const retryable = m.status === "failed" ? m.retryable : undefined;
        if (taskId !== undefined) await rt.updateTaskStatus({ task_id: taskId, status: m.status, result: m.result, error: m.error, lease_id: held?.lease, retryable });
      }),
    ),
  fc.record({ task: fc.nat(), approve: fc.boolean(), note: prose }).map((d) =>
    named(d, "the owner decides", async (rt, made) => {
      const taskId = pick(made.tasks, d.task);
      if (taskId !== undefined) await rt.decideOwnerTask({ task_id: taskId, approve: d.approve, note: d.note });
    }),
  ),
  fc.record({ task: fc.nat() }).map((r) =>
    named(r, "the owner retries", async (rt, made) => {
      const taskId = pick(made.tasks, r.task);
      if (taskId !== undefined) await rt.redriveFailed({ task_id: taskId });
    }),
  ),
  fc
    .record({ every: fc.option(fc.integer({ min: 60, max: 86_400 }), { nil: undefined }), zone: fc.constantFrom("UTC", "Europe/Berlin"), goal: fc.option(fc.nat(), { nil: undefined }) })
    .map((c) =>
      named(c, "create_schedule", async (rt, made) => {
        const goalId = c.goal === undefined ? undefined : pick(made.goals, c.goal);
        const schedule = await rt.createSchedule({ title: "recurring", goal_id: goalId, ...(c.every ? { every_seconds: c.every } : { cron: "0 9 * * 1-5", timezone: c.zone }) });
        if (schedule.ok) made.schedules.push(schedule.value.schedule_id);
      }),
    ),
  fc.record({ schedule: fc.nat(), status: fc.constantFrom("paused", "active", "ended" as const) }).map((u) =>
    named(u, "update_schedule", async (rt, made) => {
      const scheduleId = pick(made.schedules, u.schedule);
      if (scheduleId !== undefined) await rt.updateSchedule({ schedule_id: scheduleId, status: u.status });
    }),
  ),
  fc.constant(null).map(() => named({}, "not_before and schedules come due (the alarm)", (rt) => timePasses(rt, "time"))),
  fc
    .record({
      task: fc.nat(),
      deps: fc.option(fc.array(fc.nat(), { maxLength: 3 }), { nil: undefined }),
      priority: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
      title: fc.option(title, { nil: undefined }),
      rule: fc.option(fc.constantFrom(...RUN_WHEN), { nil: undefined }),
      role: fc.constantFrom(undefined, null, "coder", "owner"),
      later: fc.constantFrom(undefined, null, "soon"),
    })
    .map((e) =>
      named(e, "update_task", async (rt, made) => {
        const taskId = pick(made.tasks, e.task);
        if (taskId === undefined) return;
        const dependencies = e.deps === undefined ? undefined : [...new Set(e.deps.map((d) => pick(made.tasks, d)!))];
        const notBefore = e.later === undefined ? undefined : e.later === null ? null : Date.now() + 60_000;
        await rt.updateTask({ task_id: taskId, dependencies, priority: e.priority, title: e.title, run_when: e.rule, role: e.role, not_before: notBefore });
      }),
    ),
  fc.record({ goal: fc.nat(), reason: fc.option(prose, { nil: undefined }) }).map((c) =>
    named(c, "cancel_goal", async (rt, made) => {
      const goalId = pick(made.goals, c.goal);
      if (goalId !== undefined) await rt.cancelGoal(goalId, c.reason);
    }),
  ),
  fc.constant(null).map(() => named({}, "leases run out (the alarm)", (rt) => timePasses(rt, "leases"))),
  fc
    .record({ name: title, goal: title, agents: fc.array(fc.constantFrom(...AGENT_TYPES), { minLength: 1, maxLength: 4 }), budget: fc.integer({ min: 1, max: 5000 }) })
    .map((p) =>
      named(p, "create_relay_pipeline", async (rt, made) => {
        const created = await rt.createRelayPipeline({ name: p.name, goal: p.goal, agent_types: p.agents, token_budget: p.budget });
        if (created.ok) made.pipelines.push(created.value.pipeline_id);
      }),
    ),
  fc
    .record({ pipeline: fc.nat(), quality: score, l: score, tokens: fc.integer({ min: 0, max: 2000 }), summary: fc.option(prose, { nil: undefined }), entity: fc.option(title, { nil: undefined }) })
    .map((a) =>
      named(a, "advance_relay", async (rt, made) => {
        const pipelineId = pick(made.pipelines, a.pipeline);
        if (pipelineId === undefined) return;
        await rt.advanceRelay({ pipeline_id: pipelineId, quality_score: a.quality, l_score: a.l, tokens_used: a.tokens, output_summary: a.summary, output_entity_id: a.entity });
      }),
    ),
  fc.record({ pipeline: fc.nat(), step: fc.integer({ min: 0, max: 4 }) }).map((r) =>
    named(r, "retry_relay_step", async (rt, made) => {
      const pipelineId = pick(made.pipelines, r.pipeline);
      if (pipelineId !== undefined) await rt.retryRelayStep(pipelineId, r.step);
    }),
  ),
  fc
    .record({ agent, type: fc.constantFrom("timeout", "exception", "quality_failure", "rate_limited" as const), message: prose })
    .map((f) => named(f, "circuit_breaker_record_failure", (rt) => rt.recordBreakerFailure(f.agent, { failure_type: f.type, error_message: f.message }))),
  agent.map((a) => named(a, "circuit_breaker_record_success", (rt) => rt.recordBreakerSuccess(a))),
  fc.record({ agent, reason: fc.option(prose, { nil: undefined }) }).map((t) => named(t, "circuit_breaker_trip", (rt) => rt.tripBreaker(t.agent, t.reason))),
  agent.map((a) => named(a, "circuit_breaker_reset", (rt) => rt.resetBreaker(a))),
  fc
    .record({
      agent,
      failure_threshold: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      half_open_max_calls: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      success_threshold: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      fallback_agent: fc.option(agent, { nil: undefined }),
    })
    .map(({ agent: id, ...patch }) => named({ id, ...patch }, "circuit_breaker_configure", (rt) => rt.configureBreaker(id, patch))),
  fc.constant(null).map(() => named({}, "cooldowns and probe deadlines pass (the alarm)", (rt) => timePasses(rt, "breakers"))),
  fc.constant(null).map(() => named({}, "a model call counted", (rt) => rt.spendModelCall(100))),
];

const operations = fc.array(fc.oneof(...OPERATIONS), { minLength: 1, maxLength: 40 });

async function build(ops: Operation[]): Promise<RuntimeApi> {
  const rt = freshRuntime("integrity");
  const made: Made = { goals: [], tasks: [], schedules: [], pipelines: [], leases: [] };
  for (const op of ops) await op.run(rt, made);
  return rt;
}

// --- corrupting an export --------------------------------------------------------------------

type Doc = TransferDocument;
const RULES = new Map<string, TableRules>(INTEGRITY_RULES.map((r) => [r.table, r]));
const clone = (doc: Doc): Doc => structuredClone(doc);
const column = (doc: Doc, table: string, name: string) => doc.tables[table].columns.indexOf(name);
const rowsOf = (doc: Doc, table: string) => doc.tables[table].rows;
const cell = (doc: Doc, table: string, row: Cell[], name: string) => row[column(doc, table, name)];
const set = (doc: Doc, table: string, row: Cell[], changes: Record<string, Cell>) => {
  for (const [name, value] of Object.entries(changes)) row[column(doc, table, name)] = value;
};

/**
 * One change to an export that the runtime could never have made, and the rule that refuses it;
 * `apply` answers null when the export has nothing to apply it to.
 */
interface Corruption {
  name: string;
  because: RegExp;
  apply(doc: Doc): Doc | null;
}

/** A row of `table` for which `where` holds, changed by `change`, in a copy of the document. */
const onRow = (table: string, where: (doc: Doc, row: Cell[]) => boolean, change: (doc: Doc, row: Cell[]) => void) => (original: Doc) => {
  const doc = clone(original);
  const row = rowsOf(doc, table).find((r) => where(doc, r));
  if (!row) return null;
  change(doc, row);
  return doc;
};

/** Adds the edge "`task` depends on `dependency`", keeping the task's count of unmet dependencies true. */
function addEdge(doc: Doc, task: Cell, dependency: Cell): void {
  rowsOf(doc, "task_deps").push([task, dependency]);
  const row = rowsOf(doc, "tasks").find((t) => t[0] === task)!;
  const dep = rowsOf(doc, "tasks").find((t) => t[0] === dependency)!;
  if (cell(doc, "tasks", dep, "status") !== "completed") set(doc, "tasks", row, { unmet_deps: Number(cell(doc, "tasks", row, "unmet_deps")) + 1 });
}

/** Corruptions that no single column's rule describes: what the rules across cells, rows and tables are for. */
const CORRUPTIONS: Corruption[] = [
  {
    name: "a rule other than all_completed without a dependency",
    because: /a rule other than all_completed is judged over at least one dependency/,
    apply: onRow("tasks", (d, r) => cell(d, "tasks", r, "run_when") !== "all_completed", (d, r) => {
      d.tables.task_deps.rows = rowsOf(d, "task_deps").filter((e) => e[0] !== r[0]);
    }),
  },
  {
    name: "an owner task held by an agent",
    because: /an owner task is never held by an agent/,
    apply: onRow("tasks", (d, r) => cell(d, "tasks", r, "role") === "owner", (d, r) =>
      set(d, "tasks", r, { status: "in_progress", started_at: 1, assigned_to: "coder-1" }),
    ),
  },
  {
    name: "a retry cap without a retry policy",
    because: /retry_backoff_max_seconds is set exactly when the task has a retry policy/,
    apply: onRow("tasks", (d, r) => cell(d, "tasks", r, "retry_backoff_seconds") === null, (d, r) => set(d, "tasks", r, { retry_backoff_max_seconds: 60 })),
  },
  {
    name: "a task judged ready while it waits for a dependency",
    because: /hold is 0 in the file, but what its dependencies' outcomes, its rule and its not_before make it is 1/,
    apply: onRow("tasks", (d, r) => cell(d, "tasks", r, "status") === "pending" && cell(d, "tasks", r, "hold") === 1, (d, r) => set(d, "tasks", r, { hold: 0 })),
  },
  {
    name: "a schedule with both a period and a cron",
    because: /exactly one of every_seconds and cron is set/,
    apply: onRow("schedules", (d, r) => cell(d, "schedules", r, "cron") === null, (d, r) => set(d, "schedules", r, { cron: "0 9 * * *" })),
  },
  {
    name: "an active schedule without its next run",
    because: /next_run_at is set exactly when the schedule is active/,
    apply: onRow("schedules", (d, r) => cell(d, "schedules", r, "status") === "active", (d, r) => set(d, "schedules", r, { next_run_at: null })),
  },
  {
    name: "a schedule's last task that it did not make",
    because: /a schedule's last task is a task it made/,
    apply: onRow("schedules", (d, r) => cell(d, "schedules", r, "last_task_id") !== null, (d, r) => {
      const other = rowsOf(d, "tasks").find((t) => cell(d, "tasks", t, "schedule_id") === null)!;
      set(d, "schedules", r, { last_task_id: other[0] });
    }),
  },
  {
    name: "a cron the cron library cannot read",
    because: /cron is five fields the cron library reads/,
    apply: onRow("schedules", (d, r) => cell(d, "schedules", r, "cron") !== null, (d, r) => set(d, "schedules", r, { cron: "61 * * * *" })),
  },
  {
    name: "a time zone that is not an IANA one",
    because: /timezone is an IANA time zone/,
    apply: onRow("schedules", () => true, (d, r) => set(d, "schedules", r, { timezone: "Mars/Olympus_Mons" })),
  },
  {
    name: "a lease left on a task that is not in_progress",
    because: /only an in_progress task holds a lease/,
    apply: onRow("tasks", (d, r) => cell(d, "tasks", r, "status") !== "in_progress", (d, r) =>
      set(d, "tasks", r, { lease_id: `ls_${"a".repeat(16)}`, lease_expires_at: Date.now() - 1000, lease_seconds: 60, assigned_to: "coder-1" }),
    ),
  },
  {
    name: "a lease without its expiry",
    because: /set together or not at all/,
    apply: onRow("tasks", (d, r) => cell(d, "tasks", r, "lease_id") !== null, (d, r) => set(d, "tasks", r, { lease_expires_at: null })),
  },
  {
    name: "a pending task assigned to an agent",
    because: /a pending task is assigned to no one/,
    apply: onRow("tasks", (d, r) => cell(d, "tasks", r, "status") === "pending", (d, r) => set(d, "tasks", r, { assigned_to: "coder-1" })),
  },
  {
    name: "a completed task without completed_at",
    because: /completed_at is set exactly when the task is completed/,
    apply: onRow("tasks", (d, r) => cell(d, "tasks", r, "status") === "completed", (d, r) => set(d, "tasks", r, { completed_at: null })),
  },
  {
    name: "a task completed in the file whose dependents still count it as unmet",
    because: /unmet_deps is \d+ in the file, but what its dependencies' outcomes, its rule and its not_before make it is \d+/,
    apply: onRow("tasks", (d, r) => cell(d, "tasks", r, "status") !== "completed" && dependedOn(d, r), (d, r) =>
      set(d, "tasks", r, { status: "completed", completed_at: 1, lease_id: null, lease_expires_at: null, lease_seconds: null }),
    ),
  },
  {
    name: "a dependency cycle",
    because: /form no cycle/,
    apply: (original) => {
      const doc = clone(original);
      const edge = rowsOf(doc, "task_deps")[0];
      if (!edge || rowsOf(doc, "task_deps").some((e) => e[0] === edge[1] && e[1] === edge[0])) return null;
      addEdge(doc, edge[1], edge[0]);
      return doc;
    },
  },
  {
    name: "a task that depends on itself",
    because: /does not depend on itself/,
    apply: (original) => {
      const doc = clone(original);
      const task = rowsOf(doc, "tasks").find((t) => cell(doc, "tasks", t, "status") === "pending");
      if (!task) return null;
      addEdge(doc, task[0], task[0]);
      return doc;
    },
  },
  {
    name: "an active goal whose tasks are all done",
    because: /an active goal has work left to do/,
    apply: onRow("goals", (d, r) => cell(d, "goals", r, "status") === "completed", (d, r) => set(d, "goals", r, { status: "active", completed_at: null })),
  },
  {
    name: "a completed goal with work left",
    because: /a completed goal has a completed task and nothing left to do/,
    apply: onRow("goals", (d, r) => cell(d, "goals", r, "status") === "active" && hasOpenTask(d, r), (d, r) => set(d, "goals", r, { status: "completed", completed_at: 1 })),
  },
  {
    name: "a cooldown on a breaker that is not OPEN",
    because: /cooldown_until is set exactly when the breaker is OPEN/,
    apply: onRow("breakers", (d, r) => cell(d, "breakers", r, "state") !== "OPEN", (d, r) => set(d, "breakers", r, { cooldown_until: Date.now() - 1000 })),
  },
  {
    name: "an OPEN breaker without a cooldown",
    because: /cooldown_until is set exactly when the breaker is OPEN/,
    apply: onRow("breakers", (d, r) => cell(d, "breakers", r, "state") === "OPEN", (d, r) => set(d, "breakers", r, { cooldown_until: null })),
  },
  {
    name: "a probe out while its breaker is not HALF_OPEN",
    because: /a probe is out only while its breaker is HALF_OPEN/,
    apply: onRow("breakers", (d, r) => cell(d, "breakers", r, "state") === "HALF_OPEN" && probesOf(d, r), (d, r) => set(d, "breakers", r, { state: "CLOSED" })),
  },
  {
    name: "a pipeline with a step missing",
    because: /exactly the steps 0\.\.total_steps−1/,
    apply: (original) => {
      const doc = clone(original);
      const steps = rowsOf(doc, "relay_steps");
      const waiting = steps.findIndex((step) => cell(doc, "relay_steps", step, "status") === "pending");
      return waiting === -1 ? null : (steps.splice(waiting, 1), doc);
    },
  },
  {
    name: "a pipeline that claims one step more",
    because: /exactly the steps 0\.\.total_steps−1/,
    apply: onRow("pipelines", (d, r) => Number(cell(d, "pipelines", r, "total_steps")) < 48, (d, r) => set(d, "pipelines", r, { total_steps: Number(cell(d, "pipelines", r, "total_steps")) + 1 })),
  },
  {
    name: "a live baton in a finished pipeline",
    because: /live only in a running pipeline/,
    apply: onRow("batons", (d, r) => cell(d, "batons", r, "status") === "live", (d, r) => {
      const pipeline = rowsOf(d, "pipelines").find((p) => cell(d, "pipelines", p, "id") === cell(d, "batons", r, "pipeline_id"))!;
      set(d, "pipelines", pipeline, { status: "failed", failure_reason: "retries_exhausted", finished_at: 1 });
    }),
  },
  {
    name: "a live baton for another step",
    because: /live only in a running pipeline, for its current step/,
    apply: onRow("batons", (d, r) => cell(d, "batons", r, "status") === "live", (d, r) => set(d, "batons", r, { step_index: Number(cell(d, "batons", r, "step_index")) + 1 })),
  },
  {
    name: "a step after the current one already passed",
    because: /the steps before a pipeline's current step passed, and the steps after it wait/,
    apply: onRow("relay_steps", (d, r) => cell(d, "relay_steps", r, "status") === "pending", (d, r) =>
      set(d, "relay_steps", r, { status: "completed", started_at: 1, finished_at: 1, quality_score: 1, l_score: 1 }),
    ),
  },
  {
    name: "an id sequence near 2^53",
    because: /^file: sequences: \w+ is \d+, above/,
    apply: (original) => {
      const doc = clone(original);
      const name = Object.keys(doc.sequences)[0];
      return name ? ((doc.sequences[name] = 2 ** 53 - 2), doc) : null;
    },
  },
  {
    name: "two days of model calls",
    because: /only the latest day's count is kept/,
    apply: onRow("model_calls", () => true, (d) => rowsOf(d, "model_calls").push(["2000-01-01", 1])),
  },
];

const dependedOn = (doc: Doc, row: Cell[]) => rowsOf(doc, "task_deps").some((e) => e[1] === row[0]);
const hasOpenTask = (doc: Doc, goal: Cell[]) =>
  rowsOf(doc, "tasks").some((t) => cell(doc, "tasks", t, "goal_id") === goal[0] && ["pending", "in_progress", "failed"].includes(String(cell(doc, "tasks", t, "status"))));
const probesOf = (doc: Doc, breaker: Cell[]) => rowsOf(doc, "breaker_probes").some((p) => cell(doc, "breaker_probes", p, "agent_id") === breaker[0]);

/**
 * A corruption of one cell from the column's own rule: one of its counterexamples, or a value of
 * the wrong type, or null in a column that may not hold it. `at` picks which.
 */
function cellCorruption(original: Doc, at: [number, number, number, number]): { name: string; doc: Doc } | null {
  const filled = Object.keys(original.tables).filter((t) => original.tables[t].rows.length > 0).sort();
  const table = pick(filled, at[0]);
  if (table === undefined) return null;
  const doc = clone(original);
  const { columns, rows } = doc.tables[table];
  const rowIndex = at[1] % rows.length;
  const name = columns[at[2] % columns.length];
  const current = rows[rowIndex][columns.indexOf(name)];
  const rule = RULES.get(table)!.columns[name];
  // Values of the wrong type, where the rule refuses them too (a text column takes "7").
  const wrongTypes = [7, "7"].filter((c) => !rule.holds(c));
  const candidates = [...rule.counterexamples(current), ...wrongTypes].filter((c) => c !== current);
  const replacement = candidates[at[3] % candidates.length];
  rows[rowIndex][columns.indexOf(name)] = replacement;
  return { name: `${table}, row ${rowIndex + 1}: ${name} ${JSON.stringify(current)} → ${JSON.stringify(replacement)?.slice(0, 60)}`, doc };
}

/** Imports `doc` into a fresh instance: it must be refused, with a reason, and leave the instance empty. */
async function expectRefused(doc: Doc, what: string, table?: string, because?: RegExp): Promise<string> {
  const target = freshRuntime("integrity-target");
  const outcome = await target.importAll(JSON.stringify(doc));
  expect(outcome.ok, `${what}: accepted`).toBe(false);
  if (outcome.ok) return "";
  if (because) expect(outcome.error.message, what).toMatch(because);
  expect(outcome.error.code, what).toMatch(/^(invalid_argument|failed_precondition)$/);
  if (table) expect(outcome.error.message, what).toMatch(new RegExp(`^file: table ${table}, row \\d+`));
  else expect(outcome.error.message, what).toMatch(/^file: (table \w+, row \d+|sequences: )/);
  expect(value(await target.exportAll()), `${what}: left something behind`).toBe(EMPTY);
  return outcome.error.message;
}

let EMPTY = "";
const emptyExport = async () => (EMPTY ||= value(await freshRuntime("integrity-empty").exportAll()));

/**
 * An instance where every named corruption has something to apply to: goals active, completed and
 * cancelled; tasks ready, blocked, claimed under a lease and done, an owner's, a recovery task, one
 * with a retry policy; schedules by period and by cron, run; a relay half-way with its baton live;
 * breakers CLOSED, OPEN and HALF_OPEN with a probe out; a model call counted.
 */
async function everyKindOfRow(): Promise<RuntimeApi> {
  const rt = freshRuntime("integrity-rich");
  const active = value(await rt.createGoal({ name: "active", description: "" }));
  const a = value(await rt.createTask({ title: "a", goal_id: active.id, priority: 9 }));
  value(await rt.createTask({ title: "b", goal_id: active.id, dependencies: [a.id] }));
  const done = value(await rt.createGoal({ name: "done", description: "" }));
  const only = value(await rt.createTask({ title: "only", goal_id: done.id }));
  value(await rt.updateTaskStatus({ task_id: only.id, status: "completed" }));
  const cancelled = value(await rt.createGoal({ name: "cancelled", description: "" }));
  value(await rt.createTask({ title: "dropped", goal_id: cancelled.id }));
  value(await rt.cancelGoal(cancelled.id));
  value(await rt.nextTask({ agent_id: "coder-1", goal_id: active.id }));
  const relay = value(await rt.createRelayPipeline({ name: "relay", goal: "g", agent_types: ["researcher", "validator", "formatter"] }));
  value(await rt.advanceRelay({ pipeline_id: relay.pipeline_id, quality_score: 0.9, l_score: 0.9, tokens_used: 10 }));
  value(await rt.recordBreakerSuccess("steady"));
  value(await rt.tripBreaker("open"));
  value(await rt.tripBreaker("probing"));
  await timePasses(rt, "breakers");
  value(await rt.tripBreaker("open"));
  value(await rt.createTask({ title: "probe" }));
  value(await rt.nextTask({ agent_id: "probing" }));
  value(await rt.spendModelCall(100));
  // Roles, rules, retries and time: an owner's decision, a recovery task, a retry policy, a task
  // deferred, and schedules of both kinds, one of which has run.
  value(await rt.createTask({ title: "approve", goal_id: active.id, role: "owner", dependencies: [a.id] }));
  value(await rt.createTask({ title: "recover", goal_id: active.id, dependencies: [a.id], run_when: "any_failed" }));
  value(await rt.createTask({ title: "flaky", retry_backoff_seconds: 10, not_before: Date.now() + 3_600_000 }));
  value(await rt.createSchedule({ title: "hourly", every_seconds: 3_600 }));
  value(await rt.createSchedule({ title: "weekdays", cron: "0 9 * * 1-5", timezone: "Europe/Berlin" }));
  await timePasses(rt, "time");
  return rt;
}

describe("the rules", () => {
  it("cover every column of every table the export holds, and nothing else", async () => {
    const tables = await withSql(freshRuntime("integrity-schema"), (sql) => dataTables(sql));
    // rulesFor throws naming the table and the columns without a rule.
    expect(() => rulesFor(tables, INTEGRITY_RULES)).not.toThrow();
    expect([...RULES.keys()].sort()).toEqual(tables.map((t) => t.name).sort());
  });

  it("say which rule is missing when a column has none", () => {
    const [tasks] = INTEGRITY_RULES.filter((r) => r.table === "tasks");
    const { title: _title, ...columns } = tasks.columns;
    const table = { name: "tasks", columns: Object.keys(tasks.columns).map((name) => ({ name, type: "text" as const, notNull: false })), primaryKey: ["id"], autoincrement: true, references: [] };
    expect(() => rulesFor([table], [{ ...tasks, columns }])).toThrow(/integrity rules out of date for table tasks: no rule for title/);
  });
});

describe("each named corruption", () => {
  it.each(CORRUPTIONS.map((c) => [c.name, c] as const))("is refused: %s", async (_name, corruption) => {
    await emptyExport();
    const doc = JSON.parse(value(await (await everyKindOfRow()).exportAll())) as Doc;
    const corrupted = corruption.apply(doc);
    expect(corrupted, "the fixture has nothing this corruption applies to").not.toBeNull();
    await expectRefused(corrupted!, corruption.name, undefined, corruption.because);
  });
});

// --- the properties --------------------------------------------------------------------------

describe("an export of anything the runtime did", () => {
  it("imports into a fresh instance and exports the same bytes again", async () => {
    await fc.assert(
      fc.asyncProperty(operations, async (ops) => {
        const text = value(await (await build(ops)).exportAll());
        const target = freshRuntime("integrity-copy");
        value(await target.importAll(text));
        expect(value(await target.exportAll())).toBe(text);
      }),
      settings(30),
    );
  }, 300_000);
});

describe("a corrupted export", () => {
  it("is refused for any single cell that breaks its column's rule, naming the table and row, and nothing changes", async () => {
    await emptyExport();
    const at = fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat());
    await fc.assert(
      fc.asyncProperty(operations, fc.array(at, { minLength: 1, maxLength: 4 }), async (ops, spots) => {
        const doc = JSON.parse(value(await (await build(ops)).exportAll())) as Doc;
        for (const spot of spots) {
          const corrupted = cellCorruption(doc, spot);
          if (corrupted) await expectRefused(corrupted.doc, corrupted.name, corrupted.name.split(",")[0]);
        }
      }),
      settings(25),
    );
  }, 300_000);

  it("is refused for any of the named corruptions that applies, and nothing changes", async () => {
    await emptyExport();
    await fc.assert(
      fc.asyncProperty(operations, fc.array(fc.nat({ max: CORRUPTIONS.length - 1 }), { minLength: 1, maxLength: 4 }), async (ops, picks) => {
        const doc = JSON.parse(value(await (await build(ops)).exportAll())) as Doc;
        for (const i of picks) {
          const corrupted = CORRUPTIONS[i].apply(doc);
          if (corrupted) await expectRefused(corrupted, CORRUPTIONS[i].name);
        }
      }),
      settings(25),
    );
  }, 300_000);
});
