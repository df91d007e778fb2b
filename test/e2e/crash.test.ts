/**
 * Many agents, a crash and a restart (SPEC §5 claims, §8 continuity; docs/tasks.md): eight agents
 * work through one goal's queue at once, each with its own MCP client (SDK v1 and v2 mixed),
 * while the dev server is killed outright (SIGKILL, mid-request) once and restarted cleanly once.
 * Afterwards the queue's own records, read through the tools, must show that nothing was lost and
 * that no task was ever handed to two agents:
 *
 *   - every task is completed exactly once, its `result` naming the agent whose completion the
 *     server accepted, and no task had two completions accepted;
 *   - at no time did a task have two live leases: in its history every claim after the first
 *     comes after the previous lease ended (expired, or ended by a status change);
 *   - no task was completed before its dependencies;
 *   - whatever the server acknowledged before the crash is still there after it;
 *   - the goal is completed.
 *
 * Every check holds in every interleaving: the agents' timing is random and the server is killed
 * at an arbitrary moment, so a completion may be cut off with its answer lost ("in doubt"); the
 * checks account for that instead of depending on luck. Leases are 2 s (LEASE_MIN_SECONDS=1,
 * the testing aid), so the leases held when the server goes down run out while it is down, their
 * tasks go back to the queue, and late completions under them are refused.
 */
import { describe, expect, it } from "vitest";
import type { TaskEvent } from "../../src/runtime/tasks/history";
import {
  authorize,
  callTool,
  callToolRaw,
  connectV1,
  connectV2,
  useDevServer,
  type DevServer,
  type ToolCaller,
} from "./harness";

interface Task {
  id: number;
  title: string;
  status: string;
  dependencies: number[];
  completed_at: string | null;
  result: string | null;
  attempt: number;
  events: TaskEvent[];
}
interface Goal {
  id: number;
  status: string;
  task_counts: Record<string, number>;
  progress: number;
}
interface Claim {
  task: Omit<Task, "events"> | null;
  reason?: string;
  lease_id?: string;
  lease_expires_at?: string;
}

const AGENTS = 8;
/** Claimed for 2 s and never extended: a lease held across an outage runs out. */
const LEASE_SECONDS = 2;
/** Each task is this much "work" for the agent holding it, plus up to WORK_SPREAD_MS at random. */
const WORK_MS = 30;
const WORK_SPREAD_MS = 200;
/** The crash comes after this many accepted completions, the clean restart after that many. */
const CRASH_AFTER = 10;
const RESTART_AFTER = 24;
/** The whole run, outages included, must be over by then; else the test fails with what it saw. */
const RUN_CAP_MS = 90_000;
/** A call that has not answered by then is treated like a dropped connection. */
const CALL_TIMEOUT_MS = 15_000;
/** No task may fail for running out of attempts: outages cost attempts, but never this many. */
const MAX_ATTEMPTS = 100;
/** get_task keeps the newest 50 events of a task: fewer means the history is complete. */
const EVENTS_KEPT = 50;

const server = useDevServer({ vars: { LEASE_MIN_SECONDS: "1" } });


// ───────────────────────────── what the agents saw ─────────────────────────────

interface Lease {
  task_id: number;
  agent: string;
  lease_id: string;
  lease_expires_at: string;
}

/** A completion an agent sent under its lease. */
interface Completion {
  task_id: number;
  agent: string;
  lease_id: string;
}

/** The agents' shared, client-side ledger: every answer they got, as they got it. */
class Ledger {
  /** Claims the server answered: the agent holds the task under this lease. */
  readonly claims: Lease[] = [];
  /** Completions the server answered with the completed task. */
  readonly accepted: Completion[] = [];
  /** Completions answered with `conflict`: the lease was lost, the agent moved on. */
  readonly refused: Completion[] = [];
  /**
   * Completions cut off by an outage and then refused when sent again: the first may or may not
   * have reached the server before it went down; nobody was told it was accepted.
   */
  readonly inDoubt: Completion[] = [];
  /** Calls that failed without an answer (connection refused or cut, timeout, `unavailable`). */
  outages = 0;
  /** Answers no agent should ever get. */
  readonly unexpected: string[] = [];
  /** Set when the run is over or failed: the agent loops stop. */
  halted = false;
  private readonly waiting: { count: number; resolve: () => void }[] = [];

  constructor(readonly deadline: number) {}

  accept(completion: Completion): void {
    this.accepted.push(completion);
    for (const waiter of this.waiting.filter((w) => w.count <= this.accepted.length)) waiter.resolve();
  }

  /** Resolves once `count` completions have been accepted. */
  whenAccepted(count: number): Promise<void> {
    if (this.accepted.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ count, resolve }));
  }

  summary(): string {
    return (
      `${this.claims.length} claims, ${this.accepted.length} completions accepted, ${this.refused.length} refused ` +
      `(${this.inDoubt.length} in doubt), ${this.outages} calls cut off by outages; unexpected: ${JSON.stringify(this.unexpected.slice(0, 10))}`
    );
  }
}

type Answer = { ok: true; value: Record<string, unknown>; interrupted: boolean } | { ok: false; error: string; interrupted: boolean };
type Client = ToolCaller & { close(): Promise<void> };

/**
 * One agent: claim the next ready task for 2 s, work on it a little, complete it under the lease;
 * until the goal is completed. While the server is down it retries with backoff on a fresh client,
 * sending the same call again: a claim made just before an outage is simply left to expire, and a
 * completion is sent again under the same lease (refused if the lease ran out meanwhile).
 */
async function agentLoop(index: number, ledger: Ledger, accessToken: string, goalId: number): Promise<void> {
  const agent = `agent-${index}`;
  const connect: (server: DevServer, token: string) => Promise<Client> = index % 2 === 0 ? connectV2 : connectV1;
  let client: Client | undefined;

  /** The call's answer; while there is none (server down), retries until there is one. */
  const call = async (name: string, args: Record<string, unknown>): Promise<Answer> => {
    let interrupted = false;
    for (let backoff = 50; ; backoff = Math.min(backoff * 2, 800)) {
      if (ledger.halted) throw new Error(`${agent}: halted`);
      if (Date.now() > ledger.deadline) throw new Error(`${agent}: the run did not finish within ${RUN_CAP_MS} ms`);
      try {
        client ??= await connect(server, accessToken);
        const result = await withTimeout(callToolRaw(client, name, args), CALL_TIMEOUT_MS);
        const text = result.content.find((item) => item.type === "text")?.text ?? "";
        if (!result.isError) return { ok: true, value: result.structuredContent ?? {}, interrupted };
        // The server answered that it could not do it (e.g. its Durable Object was being reset):
        // no answer about the call itself, like a dropped connection.
        if (!text.startsWith("unavailable:")) return { ok: false, error: text, interrupted };
      } catch {
        // Connection refused or cut, or no answer in time: the server is down or going down.
      }
      interrupted = true;
      ledger.outages++;
      const old = client;
      client = undefined;
      await old?.close().catch(() => undefined);
      await sleep(backoff);
    }
  };

  try {
    for (;;) {
      const next = await call("get_next_task", { goal_id: goalId, agent_id: agent, lease_seconds: LEASE_SECONDS });
      if (!next.ok) throw new Error(`${agent} get_next_task: ${next.error}`);
      const claim = next.value as unknown as Claim;
      if (claim.task === null) {
        // Nothing ready: done if the goal is, else wait for dependencies and released leases.
        const goal = await call("get_goal", { goal_id: goalId });
        if (goal.ok && goal.value.status === "completed") return;
        await sleep(50 + Math.random() * 150);
        continue;
      }
      const lease: Lease = { task_id: claim.task.id, agent, lease_id: claim.lease_id!, lease_expires_at: claim.lease_expires_at! };
      ledger.claims.push(lease);

      await sleep(WORK_MS + Math.random() * WORK_SPREAD_MS);

      const completion: Completion = { task_id: lease.task_id, agent, lease_id: lease.lease_id };
      const done = await call("update_task_status", { task_id: lease.task_id, status: "completed", result: agent, lease_id: lease.lease_id });
      if (done.ok) {
        if (done.value.status !== "completed" || done.value.result !== agent) {
          ledger.unexpected.push(`${agent} completed task ${lease.task_id} but got ${JSON.stringify(done.value)}`);
        }
        ledger.accept(completion);
      } else if (done.error.startsWith("conflict: ")) {
        // Lost the lease (it ran out, or an earlier copy of this very call completed the task).
        ledger.refused.push(completion);
        if (done.interrupted) ledger.inDoubt.push(completion);
      } else {
        ledger.unexpected.push(`${agent} update_task_status on task ${lease.task_id}: ${done.error}`);
      }
    }
  } finally {
    await client?.close().catch(() => undefined);
  }
}

// ───────────────────────────── the goal ─────────────────────────────

/**
 * 40 tasks: four chains of six (each step waits for the one before), eight joins that each wait
 * for a step of two different chains, and eight free tasks. Returns each task's dependencies.
 */
async function createQueue(client: ToolCaller, goalId: number): Promise<Map<number, number[]>> {
  const dependencies = new Map<number, number[]>();
  const create = async (title: string, priority: number, deps: number[]) => {
    const task = await callTool<Task>(client, "create_task", { goal_id: goalId, title, priority, dependencies: deps, max_attempts: MAX_ATTEMPTS });
    dependencies.set(task.id, deps);
    return task.id;
  };
  const chains: number[][] = [];
  for (let c = 0; c < 4; c++) {
    const chain: number[] = [];
    for (let step = 0; step < 6; step++) chain.push(await create(`chain ${c} step ${step}`, 8, step === 0 ? [] : [chain[step - 1]]));
    chains.push(chain);
  }
  for (let j = 0; j < 8; j++) await create(`join ${j}`, 6, [chains[j % 4][j % 6], chains[(j + 1) % 4][(j + 3) % 6]]);
  for (let f = 0; f < 8; f++) await create(`free ${f}`, 1 + f, []);
  return dependencies;
}

// ───────────────────────────── the run ─────────────────────────────

interface Run {
  dependencies: Map<number, number[]>;
  ledger: Ledger;
  /** Completions acknowledged before the crash, and the tasks as read right after it. */
  acknowledgedBeforeCrash: Completion[];
  afterCrash: Map<number, Omit<Task, "events">>;
  /** Every task of the goal at the end, with its history. */
  tasks: Map<number, Task>;
  goal: Goal;
}

let run: Run | undefined;

/** The run's records, for the guarantees checked after it. */
function finishedRun(): Run {
  if (!run) throw new Error("the run did not finish: see the first test");
  return run;
}

describe("eight agents, a crash and a restart", () => {
  it("finish a 40-task goal together, each carrying on through the outages", async () => {
    const { accessToken } = await authorize(server);
    const owner = await connectV2(server, accessToken);
    const goal = await callTool<Goal>(owner, "create_goal", { name: "crash e2e", description: "40 tasks, 8 agents, a crash and a restart" });
    const dependencies = await createQueue(owner, goal.id);
    await owner.close();

    const ledger = new Ledger(Date.now() + RUN_CAP_MS);
    const agents = Promise.all(Array.from({ length: AGENTS }, (_, i) => agentLoop(i, ledger, accessToken, goal.id)));
    // Whichever agent fails first stops the others, and the failure surfaces below.
    const finished = agents.then(
      () => undefined,
      (error: unknown) => {
        ledger.halted = true;
        throw error;
      },
    );
    /** Stops the agents and fails with what they saw and which tasks are still open. */
    const withDiagnostics = async (error: unknown): Promise<never> => {
      ledger.halted = true;
      const open = await openTasks(accessToken, goal.id).catch((reason: unknown) => `open tasks unreadable: ${String(reason)}`);
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${ledger.summary()}\n${open}`);
    };

    // Mid-run, a crash: every process killed at once, requests in flight cut off.
    await Promise.race([ledger.whenAccepted(CRASH_AFTER), finished]).catch(withDiagnostics);
    const acknowledgedBeforeCrash = [...ledger.accepted];
    await server.crash();
    // What survived, read as soon as the server is back.
    const observer = await connectV1(server, accessToken);
    const afterCrash = new Map((await listGoalTasks(observer, goal.id)).map((task) => [task.id, task]));
    await observer.close();

    // Later, a clean restart (SIGTERM).
    await Promise.race([ledger.whenAccepted(RESTART_AFTER), finished]).catch(withDiagnostics);
    await server.restart();

    await finished.catch(withDiagnostics);

    // Everything the guarantees below look at, read through the tools on a fresh client.
    const reader = await connectV2(server, accessToken);
    const tasks = new Map<number, Task>();
    for (const task of await listGoalTasks(reader, goal.id)) tasks.set(task.id, await callTool<Task>(reader, "get_task", { task_id: task.id }));
    const finalGoal = await callTool<Goal>(reader, "get_goal", { goal_id: goal.id });
    await reader.close();
    run = { dependencies, ledger, acknowledgedBeforeCrash, afterCrash, tasks, goal: finalGoal };

    console.info(`crash e2e: ${ledger.summary()}`);
    expect(ledger.unexpected).toEqual([]);
    // The outages really hit the agents: some of their calls were cut off and retried.
    expect(ledger.outages).toBeGreaterThan(0);
    expect([...tasks.keys()].sort((a, b) => a - b)).toEqual([...dependencies.keys()].sort((a, b) => a - b));
  });

  it("completes every task exactly once, with the result of the one agent whose completion was accepted", () => {
    const { tasks, ledger } = finishedRun();
    for (const task of tasks.values()) {
      const label = `task ${task.id} (${task.title})`;
      expect(task.status, label).toBe("completed");
      const completions = task.events.filter((event) => event.kind === "status_changed" && event.status === "completed");
      expect(completions, label).toHaveLength(1);
      const [completion] = completions;

      // No task had two completions accepted: at most one agent was ever told "completed".
      const accepted = ledger.accepted.filter((c) => c.task_id === task.id);
      expect(accepted.length, label).toBeLessThanOrEqual(1);
      // The completion that counts came from an agent, under its own lease, with its own result:
      // the accepted one, or else one whose answer an outage swallowed (never acknowledged).
      const sender = accepted[0] ?? ledger.inDoubt.find((c) => c.task_id === task.id && c.lease_id === completion.lease_id);
      expect(sender, `${label}: completed under ${completion.lease_id}, which no agent was told`).toBeDefined();
      expect(completion, label).toMatchObject({ agent_id: sender!.agent, lease_id: sender!.lease_id });
      expect(task.result, label).toBe(sender!.agent);
    }
  });

  it("never lets a task have two live leases at once, and never ends a lease early", () => {
    const { tasks, ledger } = finishedRun();
    for (const task of tasks.values()) {
      const label = `task ${task.id} (${task.title})`;
      // The whole history is there (get_task keeps the newest 50 events).
      expect(task.events.length, label).toBeLessThan(EVENTS_KEPT);
      const history = [...task.events].reverse();
      expect(history[0]?.kind, label).toBe("claimed");
      expect(leaseViolations(history), label).toEqual([]);

      for (const event of history) {
        const lease = ledger.claims.find((c) => c.lease_id === event.lease_id);
        if (!lease) continue; // a claim whose answer was cut off by an outage
        // Released no earlier than the expiry its holder was given.
        if (event.kind === "lease_expired") expect(event.at >= lease.lease_expires_at, `${label}: ${event.detail}`).toBe(true);
        // A completion under a lease was accepted only while the lease was live (fencing).
        if (event.kind === "status_changed") expect(event.at < lease.lease_expires_at, `${label}: ${event.detail} at ${event.at}`).toBe(true);
      }
    }
    // Every claim an agent was told about is in the history, with the agent it was handed to.
    for (const claim of ledger.claims) {
      const claimed = tasks.get(claim.task_id)!.events.filter((event) => event.kind === "claimed" && event.lease_id === claim.lease_id);
      expect(claimed, `claim ${claim.lease_id} of task ${claim.task_id}`).toHaveLength(1);
      expect(claimed[0].agent_id).toBe(claim.agent);
    }
  });

  it("never completes a task before its dependencies", () => {
    const { tasks, dependencies } = finishedRun();
    for (const task of tasks.values()) {
      expect([...task.dependencies].sort((a, b) => a - b)).toEqual([...dependencies.get(task.id)!].sort((a, b) => a - b));
      const firstClaim = [...task.events].reverse().find((event) => event.kind === "claimed")!;
      for (const dep of task.dependencies) {
        const dependency = tasks.get(dep)!;
        const label = `task ${task.id} (${task.title}) after task ${dep} (${dependency.title})`;
        // ISO strings of one format compare as times.
        expect(task.completed_at! >= dependency.completed_at!, label).toBe(true);
        // Not even handed out before: a task is ready only once its dependencies are completed.
        expect(firstClaim.at >= dependency.completed_at!, label).toBe(true);
      }
    }
  });

  it("loses nothing it acknowledged before the crash", () => {
    const { acknowledgedBeforeCrash, afterCrash, tasks } = finishedRun();
    expect(acknowledgedBeforeCrash.length).toBeGreaterThanOrEqual(CRASH_AFTER);
    // All 40 tasks, created and acknowledged before the crash, are still there after it.
    expect(afterCrash.size).toBe(tasks.size);
    for (const completion of acknowledgedBeforeCrash) {
      const label = `task ${completion.task_id}, completed by ${completion.agent} before the crash`;
      expect(afterCrash.get(completion.task_id), label).toMatchObject({ status: "completed", result: completion.agent });
      expect(tasks.get(completion.task_id), label).toMatchObject({ status: "completed", result: completion.agent });
    }
  });

  it("ends with the goal completed", () => {
    const { goal, tasks } = finishedRun();
    expect(goal).toMatchObject({ status: "completed", progress: 1 });
    expect(goal.task_counts).toMatchObject({ completed: tasks.size, pending: 0, in_progress: 0, failed: 0, cancelled: 0 });
  });
});

/**
 * Walks a task's history, oldest first, and lists every point where a second lease went live while
 * another was: a claim must come after the previous lease ended, by running out (`lease_expired`)
 * or by a status change (which ends whatever lease the task had), and each ending names the lease
 * that was live. The agents here never heartbeat, so a heartbeat is a violation too.
 */
function leaseViolations(history: TaskEvent[]): string[] {
  const violations: string[] = [];
  let live: string | null = null;
  for (const event of history) {
    const where = `${event.at} ${event.kind} ${event.lease_id} (${event.detail})`;
    if (event.kind === "claimed") {
      if (live !== null) violations.push(`${where}: claimed while lease ${live} was live`);
      live = event.lease_id;
    } else if (event.kind === "lease_expired" || event.kind === "status_changed") {
      if (event.lease_id !== live) violations.push(`${where}: ended a lease other than the live one, ${live}`);
      live = null;
    } else {
      violations.push(`${where}: unexpected`);
    }
  }
  return violations;
}

async function listGoalTasks(client: ToolCaller, goalId: number): Promise<Omit<Task, "events">[]> {
  return (await callTool<{ tasks: Omit<Task, "events">[] }>(client, "list_tasks", { goal_id: goalId, limit: 500, view: "full" })).tasks;
}

/** The goal's tasks that are not completed, for a failure message. */
async function openTasks(accessToken: string, goalId: number): Promise<string> {
  const client = await withTimeout(connectV2(server, accessToken), CALL_TIMEOUT_MS);
  try {
    const open = (await withTimeout(listGoalTasks(client, goalId), CALL_TIMEOUT_MS)).filter((task) => task.status !== "completed");
    return `open tasks: ${JSON.stringify(open.map(({ id, title, status, attempt, result }) => ({ id, title, status, attempt, result })))}`;
  } finally {
    await client.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
