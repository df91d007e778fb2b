/**
 * A team on one queue, end to end (SPEC §12; docs/tasks.md: roles, inputs, run_when, skipping).
 * Twelve agents in three roles, each its own MCP client (SDK v1 and v2 in turn) signed in with
 * OAuth, loop on `get_next_task {roles: [role], wait_seconds: 30}` → a short piece of work →
 * `update_task_status` under their lease, through a 60-task goal that uses all four rules. Tasks
 * whose title carries FAILS fail on purpose, so that recovery tasks run where they should and are
 * skipped where they should not. Failed tasks stay failed, so the goal stays active: once nothing
 * is pending or in progress, the test, as the team's lead, reads every task and cancels the goal,
 * which answers every waiting agent `goal_cancelled` and ends its loop.
 *
 * Afterwards, what the object recorded (every task's history) is held against what the agents
 * saw: each task claimed once, by an agent allowed to take it; each rule ran its task exactly when
 * it held over its dependencies' outcomes, and skipped it otherwise; reports ran after everything
 * they wait for; each claim carried its dependencies' results as inputs. Nothing here depends on
 * timing: which agent takes what varies from run to run, the checks hold for every interleaving.
 */
import { describe, expect, it } from "vitest";
import { authorize, callTool, connectV1, connectV2, useDevServer, type ToolCaller } from "./harness";

type Role = "planner" | "coder" | "tester";
type RunWhen = "all_completed" | "any_completed" | "any_failed" | "all_finished";
type Status = "pending" | "in_progress" | "completed" | "failed" | "cancelled";
type Outcome = "completed" | "failed" | "skipped";

interface TaskEvent {
  at: string;
  kind: string;
  agent_id: string | null;
  attempt: number;
  status: Status;
  detail: string;
}
interface TaskInput {
  task_id: number;
  title: string;
  status: Status;
  result?: string;
  error?: string;
  truncated?: true;
}
interface Task {
  id: number;
  title: string;
  status: Status;
  role: string | null;
  run_when: RunWhen;
  dependencies: number[];
  result: string | null;
  error: string | null;
  assigned_to: string | null;
  attempt: number;
}
interface TaskDetail extends Task {
  events: TaskEvent[];
}
interface Claim {
  task: Task | null;
  reason?: string;
  lease_id?: string;
  goal?: { id: number; name: string; description: string };
  inputs?: TaskInput[];
}
interface Goal {
  id: number;
  name: string;
  description: string;
  task_counts: Record<Status, number>;
}

const server = useDevServer();

// ───────────────────────────── the plan ─────────────────────────────

/** The mark of a task its agent fails on purpose. */
const FAILS = "(fails on purpose)";

interface Step {
  key: string;
  title: string;
  role: Role | null;
  after: string[];
  run_when: RunWhen;
  /** What the plan implies will become of it. */
  outcome: Outcome;
}

/**
 * Six features, each planned, built, tested (two tests fail: a diagnosis and a patch follow; the
 * other four diagnoses are skipped, and their patches with them), benchmarked two ways (one of the
 * two fails in each feature: the pick takes the other) and reported on; then an integration test,
 * a triage of the failed benchmarks, a triage of the integration test (skipped: it passes),
 * release notes and a final report over everything. 60 tasks: 14 planner, 18 coder, 13 tester,
 * 15 without a role.
 */
function releasePlan(): Step[] {
  const steps: Step[] = [];
  const add = (key: string, title: string, role: Role | null, after: string[], outcome: Outcome, run_when: RunWhen = "all_completed") =>
    steps.push({ key, title: outcome === "failed" ? `${title} ${FAILS}` : title, role, after, run_when, outcome });
  const features = [0, 1, 2, 3, 4, 5];
  const testFails = (f: number) => f === 1 || f === 4;
  const fastBenchFails = (f: number) => f === 0 || f === 3;
  const slowBenchFails = (f: number) => f === 2 || f === 5;

  add("kickoff", "Kick off the release", "planner", [], "completed");
  for (const f of features) {
    const failing = testFails(f);
    add(`plan${f}`, `Plan feature ${f}`, "planner", ["kickoff"], "completed");
    add(`build${f}`, `Implement feature ${f}`, "coder", [`plan${f}`], "completed");
    add(`test${f}`, `Test feature ${f}`, "tester", [`build${f}`], failing ? "failed" : "completed");
    add(`diagnose${f}`, `Diagnose the failed tests of feature ${f}`, "coder", [`test${f}`], failing ? "completed" : "skipped", "any_failed");
    add(`patch${f}`, `Patch feature ${f} as diagnosed`, "coder", [`diagnose${f}`], failing ? "completed" : "skipped");
    add(`fast${f}`, `Benchmark feature ${f} on the fast path`, "tester", [`build${f}`], fastBenchFails(f) ? "failed" : "completed");
    add(`slow${f}`, `Benchmark feature ${f} on the slow path`, null, [`build${f}`], slowBenchFails(f) ? "failed" : "completed");
    add(`pick${f}`, `Pick the benchmark figure of feature ${f}`, "planner", [`fast${f}`, `slow${f}`], "completed", "any_completed");
    add(`report${f}`, `Report on feature ${f}`, null, [`test${f}`, `patch${f}`, `pick${f}`], "completed", "all_finished");
  }
  add("integration", "Integration test of all features", "tester", features.map((f) => `build${f}`), "completed");
  add("benchTriage", "Triage the failed benchmarks", null, features.flatMap((f) => [`fast${f}`, `slow${f}`]), "completed", "any_failed");
  add("integrationTriage", "Triage the failed integration test", null, ["integration"], "skipped", "any_failed");
  add("notes", "Write the release notes", "planner", ["integration"], "completed");
  add(
    "final",
    "Final report",
    null,
    [...features.map((f) => `report${f}`), "integration", "benchTriage", "integrationTriage", "notes"],
    "completed",
    "all_finished",
  );
  return steps;
}

// ───────────────────────────── the agents ─────────────────────────────

const ROLES: readonly Role[] = ["planner", "coder", "tester"];
const AGENTS_PER_ROLE = 4;
/** Past this, the team is stuck: the test says what is left instead of running into its timeout. */
const SETTLE_DEADLINE_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const resultOf = (title: string, agent: string) => `${title}: done by ${agent}`;
const errorOf = (title: string, agent: string) => `${title}: failed, as planned, under ${agent}`;

interface Agent {
  id: string;
  role: Role;
  client: ToolCaller & { close(): Promise<void> };
}

interface ClaimSeen {
  agent: Agent;
  claim: Claim & { task: Task };
}

/** What the agents share with the test: the claims they saw, and the moment the goal settled. */
class Team {
  readonly claims: ClaimSeen[] = [];
  private settle!: (goal: Goal) => void;
  /** Resolved with the goal as it was when nothing was pending or in progress any more. */
  readonly settled = new Promise<Goal>((resolve) => (this.settle = resolve));

  /** One agent's work loop, until the goal is cancelled under it. */
  async work(agent: Agent, goalId: number): Promise<void> {
    for (;;) {
      const claim = await callTool<Claim>(agent.client, "get_next_task", {
        agent_id: agent.id,
        goal_id: goalId,
        roles: [agent.role],
        lease_seconds: 300,
        wait_seconds: 30,
      });
      if (claim.task === null) {
        if (claim.reason === "goal_cancelled") return;
        continue;
      }
      const task = claim.task;
      this.claims.push({ agent, claim: { ...claim, task } });
      await sleep(10 + (task.id % 4) * 10);
      await callTool(agent.client, "update_task_status", {
        task_id: task.id,
        lease_id: claim.lease_id,
        ...(task.title.includes(FAILS) ? { status: "failed", error: errorOf(task.title, agent.id) } : { status: "completed", result: resultOf(task.title, agent.id) }),
      });
      const goal = await callTool<Goal>(agent.client, "get_goal", { goal_id: goalId });
      if (goal.task_counts.pending + goal.task_counts.in_progress === 0) this.settle(goal);
    }
  }
}

/**
 * Twelve clients, each with its own MCP session, on one sign-in: the owner password throttle
 * (src/auth/owner-sign-in.ts) rightly refuses a dozen concurrent password attempts from one
 * address, and sign-ins one after another would cost more than the work itself.
 */
async function connectAgents(accessToken: string): Promise<Agent[]> {
  const specs = ROLES.flatMap((role) => Array.from({ length: AGENTS_PER_ROLE }, (_, i) => ({ id: `${role}-${i + 1}`, role })));
  return Promise.all(
    specs.map(async ({ id, role }, n) => {
      // The two SDK generations in turn, so that each role has both.
      const client = n % 2 === 0 ? await connectV1(server, accessToken) : await connectV2(server, accessToken);
      return { id, role, client };
    }),
  );
}

/**
 * The goal as it was once settled; fails at once if an agent's loop failed, and past the deadline
 * with what is left (`left()`), rather than hanging until the test's timeout.
 */
async function settledOrStuck(team: Team, loops: Promise<unknown>, left: () => Promise<string>): Promise<Goal> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stuck = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("stuck")), SETTLE_DEADLINE_MS)));
  const stopped = loops.then((): never => {
    throw new Error("every agent stopped before the goal settled");
  });
  // Only the first to settle counts; the others must not surface as unhandled rejections.
  stuck.catch(() => {});
  stopped.catch(() => {});
  try {
    return await Promise.race([team.settled, stopped, stuck]);
  } catch (error) {
    if (error instanceof Error && error.message === "stuck") throw new Error(`the goal did not settle in ${SETTLE_DEADLINE_MS} ms; still pending: ${await left()}`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

// ───────────────────────────── the test ─────────────────────────────

const FINAL: readonly Status[] = ["completed", "failed", "cancelled"];

/** Whether `rule` holds over dependencies in these states (docs/tasks.md, "When a task may run"). */
function ruleHolds(rule: RunWhen, statuses: readonly Status[]): boolean {
  switch (rule) {
    case "all_completed":
      return statuses.every((s) => s === "completed");
    case "any_completed":
      return statuses.some((s) => s === "completed");
    case "any_failed":
      return statuses.some((s) => s === "failed");
    case "all_finished":
      return statuses.every((s) => FINAL.includes(s));
  }
}

/** When a task reached the status it ended in: its newest event into completed, failed or cancelled. */
function settledAt(task: TaskDetail): number {
  const event = task.events.find((e) => FINAL.includes(e.status));
  if (!event) throw new Error(`task ${task.id} has no event that settled it: ${JSON.stringify(task.events)}`);
  return Date.parse(event.at);
}

describe("a team of agents in three roles on one goal", () => {
  it("finishes a 60-task goal with mixed rules: each task once, by its role, recovery exactly when its dependency failed, inputs carried", async () => {
    const plan = releasePlan();
    expect(plan).toHaveLength(60);
    const { accessToken } = await authorize(server);
    const lead = await connectV2(server, accessToken);
    const agents = await connectAgents(accessToken);
    const team = new Team();
    let goal: Goal | undefined;
    let loops: Promise<void[]> | undefined;
    try {
      goal = await callTool<Goal>(lead, "create_goal", { name: "Release 2.0", description: "Six features, tested, benchmarked and reported on." });
      const goalId = goal.id;
      // Created a level at a time: each task once everything it waits for exists.
      const ids = new Map<string, number>();
      while (ids.size < plan.length) {
        const level = plan.filter((step) => !ids.has(step.key) && step.after.every((key) => ids.has(key)));
        const created = await Promise.all(
          level.map((step) =>
            callTool<Task>(lead, "create_task", {
              goal_id: goalId,
              title: step.title,
              ...(step.role === null ? {} : { role: step.role }),
              dependencies: step.after.map((key) => ids.get(key)!),
              run_when: step.run_when,
            }),
          ),
        );
        level.forEach((step, i) => ids.set(step.key, created[i].id));
      }
      // Only the kick-off is ready, and it is the planners': a tester is told who has work.
      expect(await callTool<Claim>(lead, "get_next_task", { goal_id: goalId, roles: ["tester"] })).toEqual({
        task: null,
        reason: "no_task_for_roles",
        ready_by_role: { planner: 1 },
      });
      const started = Date.now();
      loops = Promise.all(agents.map((agent) => team.work(agent, goalId)));
      const settledGoal = await settledOrStuck(team, loops, async () => {
        const left = await callTool<{ tasks: Task[] }>(lead, "list_tasks", { goal_id: goalId, status: "pending", limit: 100 });
        return JSON.stringify(left.tasks);
      });
      const elapsed = Date.now() - started;

      // Everything the object recorded, read before the goal is closed (which cancels the failed tasks).
      const byKey = new Map<string, TaskDetail>();
      await Promise.all(plan.map(async (step) => byKey.set(step.key, await callTool<TaskDetail>(lead, "get_task", { task_id: ids.get(step.key)! }))));
      // The team is dismissed: every agent still waiting is answered goal_cancelled, and stops.
      await callTool(lead, "cancel_goal", { goal_id: goalId, reason: "released" });
      await loops;
      console.info(`roles e2e: 60 tasks settled in ${elapsed} ms by ${agents.length} agents (${team.claims.length} claims)`);

      const stepOf = new Map(plan.map((step) => [ids.get(step.key)!, step]));
      const detailOf = (id: number) => byKey.get(stepOf.get(id)!.key)!;

      // The outcome of every task is what the plan implies, and so are the goal's counts.
      const outcome = (task: TaskDetail): Outcome | Status =>
        task.status === "cancelled" && task.error?.startsWith("skipped:") && task.events.some((e) => e.kind === "skipped") ? "skipped" : task.status;
      expect(Object.fromEntries(plan.map((step) => [step.key, outcome(byKey.get(step.key)!)]))).toEqual(
        Object.fromEntries(plan.map((step) => [step.key, step.outcome])),
      );
      const count = (o: Outcome) => plan.filter((step) => step.outcome === o).length;
      expect(settledGoal.task_counts).toEqual({ pending: 0, in_progress: 0, completed: count("completed"), failed: count("failed"), cancelled: count("skipped") });
      expect([count("completed"), count("failed"), count("skipped")]).toEqual([45, 6, 9]);

      expect(team.claims).toHaveLength(count("completed") + count("failed"));
      // Each task that ran was claimed exactly once, by an agent allowed to take it; skipped ones never.
      const claimsOf = new Map<number, ClaimSeen[]>();
      for (const seen of team.claims) claimsOf.set(seen.claim.task.id, [...(claimsOf.get(seen.claim.task.id) ?? []), seen]);
      for (const step of plan) {
        const id = ids.get(step.key)!;
        const seen = claimsOf.get(id) ?? [];
        const claimedEvents = byKey.get(step.key)!.events.filter((e) => e.kind === "claimed");
        if (step.outcome === "skipped") {
          expect({ step: step.key, claims: seen.length, claimedEvents }).toEqual({ step: step.key, claims: 0, claimedEvents: [] });
          continue;
        }
        expect({ step: step.key, claims: seen.map((s) => s.agent.id) }).toEqual({ step: step.key, claims: [expect.any(String)] });
        const { agent, claim } = seen[0];
        if (step.role !== null) expect({ step: step.key, role: agent.role }).toEqual({ step: step.key, role: step.role });
        expect(claim.task).toMatchObject({ role: step.role, assigned_to: agent.id, attempt: 1, status: "in_progress" });
        // The object's own record: one claim, by that agent, and the end under its lease.
        expect({ step: step.key, claimedEvents: claimedEvents.map((e) => [e.agent_id, e.attempt]) }).toEqual({ step: step.key, claimedEvents: [[agent.id, 1]] });
        const finished = byKey.get(step.key)!;
        expect(finished).toMatchObject(
          step.outcome === "completed"
            ? { status: "completed", assigned_to: agent.id, result: resultOf(step.title, agent.id) }
            : { status: "failed", assigned_to: agent.id, error: errorOf(step.title, agent.id) },
        );
        expect(finished.events.some((e) => e.kind === "status_changed" && e.agent_id === agent.id && e.detail.endsWith("by the lease holder"))).toBe(true);
        if (step.outcome === "failed") expect(finished.events[0]).toMatchObject({ kind: "parked", status: "failed" });
      }

      // Every rule ran its task exactly when it held over its dependencies' final outcomes, and
      // skipped it (saying why) exactly when it could not: recovery ran where something failed.
      for (const step of plan) {
        const task = byKey.get(step.key)!;
        const depStatuses = task.dependencies.map((id) => detailOf(id).status);
        const ran = task.status === "completed" || task.status === "failed";
        expect({ step: step.key, rule: step.run_when, depStatuses, ran }).toEqual({
          step: step.key,
          rule: step.run_when,
          depStatuses,
          ran: ruleHolds(step.run_when, depStatuses),
        });
        if (!ran) {
          expect(task.error).toMatch(/^skipped: /);
          const skipped = task.events.find((e) => e.kind === "skipped")!;
          expect(skipped).toMatchObject({ status: "cancelled", agent_id: null, detail: task.error });
          // The reason names the dependency that decided it.
          expect(task.dependencies.some((id) => task.error!.includes(`#${id} `))).toBe(true);
        }
      }

      // Each claim carried the goal and its dependencies' outcomes as they stood, and the rule held
      // over them; an all_finished report was handed out only after everything it waits for.
      for (const { claim } of team.claims) {
        const task = claim.task;
        const step = stepOf.get(task.id)!;
        expect(claim.goal).toEqual({ id: goalId, name: "Release 2.0", description: "Six features, tested, benchmarked and reported on." });
        const inputs = claim.inputs ?? [];
        expect(inputs.map((input) => input.task_id)).toEqual(task.dependencies);
        for (const input of inputs) {
          const dep = detailOf(input.task_id);
          const expected: TaskInput = { task_id: dep.id, title: dep.title, status: input.status };
          if (input.status === "completed") expected.result = dep.result!;
          if (input.status === "failed" || input.status === "cancelled") expected.error = dep.error!;
          if (FINAL.includes(input.status)) expect(dep.status).toBe(input.status);
          expect({ step: step.key, input }).toEqual({ step: step.key, input: expected });
        }
        expect({ step: step.key, holds: ruleHolds(step.run_when, inputs.map((i) => i.status)) }).toEqual({ step: step.key, holds: true });
        if (step.run_when === "all_finished") {
          const claimedAt = Date.parse(detailOf(task.id).events.find((e) => e.kind === "claimed")!.at);
          for (const id of task.dependencies) expect(claimedAt).toBeGreaterThanOrEqual(settledAt(detailOf(id)));
        }
      }
    } finally {
      // Whatever happened, no agent is left waiting behind the test.
      if (goal && loops) {
        await callTool(lead, "cancel_goal", { goal_id: goal.id }).catch(() => {});
        await loops.catch(() => {});
      }
      await Promise.all([lead, ...agents.map((agent) => agent.client)].map((client) => client.close()));
    }
  });
});
