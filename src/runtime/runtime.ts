/**
 * The Runtime Durable Object: one per user id, holding that user's goals, tasks, relays and
 * breakers in its SQLite. Its public methods are the RPC surface the MCP tools call; each is
 * one read or one transaction (`transactionSync`, no await inside), after which the single
 * alarm is re-derived from the data.
 */
import { DurableObject } from "cloudflare:workers";
import type { Plan } from "../decompose/plan";
import type { Env } from "../env";
import {
  configureBreaker,
  getBreakerStatus,
  listBreakers,
  recordFailure,
  recordSuccess,
  resetBreaker,
  settledGate,
  takeProbe,
  tripBreaker,
  type BreakerConfig,
  type BreakerList,
  type BreakerState,
  type BreakerStatus,
  type FailureType,
  type StateChange,
} from "./breakers";
import { cancelGoal } from "./cancel";
import { invalid, outcomeOf, type Outcome } from "./errors";
import { assertGoalExists, createGoal, getGoal, listGoals, type Goal, type GoalStatus } from "./goals";
import { heartbeatTask, releaseExpiredLeases, type Heartbeat, type HeartbeatAnswer } from "./leases";
import { applyPlan, type PlanMode } from "./plans";
import { iso, type JsonObject } from "./rows";
import {
  advanceRelay,
  createRelayPipeline,
  getRelayBaton,
  getRelayStatus,
  listRelayPipelines,
  retryRelayStep,
  type AdvanceAnswer,
  type AdvanceReport,
  type BatonAnswer,
  type CreatedPipeline,
  type NewPipeline,
  type PipelineFilter,
  type PipelineSummary,
  type RelayStatus,
  type RetryAnswer,
} from "./relay";
import { migrate } from "./schema";
import {
  DEFAULT_LEASE_SECONDS,
  claimTask,
  createTask,
  getTask,
  listTasks,
  peekReady,
  toTasks,
  updateTaskStatus,
  whyNothingReady,
  type NewTask,
  type StatusChange,
  type Task,
  type TaskDetail,
  type TaskFilter,
} from "./tasks";
import { nextDue, runDue } from "./timed";
// The owner's dashboard (see the block at the end of the class).
import { LiveChannel } from "./live";
import { taskGraph, type TaskGraph } from "./task-graph";
import { exportText } from "./transfer/export";
import { importDocument, parseDocument, type ImportSummary } from "./transfer/import";

export interface NextTaskRequest {
  goal_id?: number;
  agent_id?: string;
  lease_seconds?: number;
}

export interface NextTaskAnswer {
  task: Task | null;
  reason?: string;
  /** Set when the call claimed the task: quote it in heartbeat_task and update_task_status. */
  lease_id?: string;
  lease_expires_at?: string;
  /** When the agent's breaker refused: seconds until it may ask again, and who to route to. */
  retry_after_seconds?: number;
  fallback_agent?: string;
  /** When the claim is a HALF_OPEN probe: report success or failure before this time. */
  probe_expires_at?: string;
}

export class Runtime extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.transactionSync(() => migrate(this.sql));
      // Re-derive the alarm on every start, so that an alarm lost for any reason (retries used
      // up, an older deployment) cannot leave due work waiting for the next write.
      await this.rearm();
    });
  }

  // --- goals -------------------------------------------------------------------------------

  createGoal(input: { name: string; description: string; metadata?: JsonObject }): Promise<Outcome<Goal>> {
    return this.write((now) => createGoal(this.sql, input, now));
  }

  getGoal(goalId: number): Outcome<Goal> {
    return outcomeOf(() => getGoal(this.sql, goalId));
  }

  listGoals(filter: { status?: GoalStatus; limit: number }): Outcome<Goal[]> {
    return outcomeOf(() => listGoals(this.sql, filter));
  }

  /** Cancels the goal and every unfinished task of it, in one transaction. */
  cancelGoal(goalId: number, reason?: string): Promise<Outcome<Goal>> {
    return this.write((now) => cancelGoal(this.sql, goalId, reason, now));
  }

  /** Writes a validated decomposition plan into the goal's queue, whole or not at all. */
  applyPlan(goalId: number, plan: Plan, mode: PlanMode): Promise<Outcome<Task[]>> {
    return this.write((now) => applyPlan(this.sql, goalId, plan, mode, now));
  }

  // --- tasks -------------------------------------------------------------------------------

  createTask(input: NewTask): Promise<Outcome<Task>> {
    return this.write((now) => createTask(this.sql, input, now));
  }

  getTask(taskId: number): Outcome<TaskDetail> {
    return outcomeOf(() => getTask(this.sql, taskId));
  }

  listTasks(filter: TaskFilter): Outcome<Task[]> {
    return outcomeOf(() => listTasks(this.sql, filter));
  }

  /** Without an agent: the task that would be handed out next. With one: claims it. */
  nextTask(request: NextTaskRequest): Promise<Outcome<NextTaskAnswer>> {
    return this.write((now) => {
      if (request.lease_seconds !== undefined && request.agent_id === undefined) {
        throw invalid("lease_seconds", "applies to a claim: pass agent_id too");
      }
      // A lease past its expiry is over even when the alarm has not run yet: hand its task out.
      releaseExpiredLeases(this.sql, now, null);
      if (request.goal_id !== undefined) assertGoalExists(this.sql, request.goal_id);
      // The agent's circuit breaker: OPEN claims nothing, HALF_OPEN hands out a limited probe.
      const gate = request.agent_id === undefined ? null : settledGate(this.sql, request.agent_id, now);
      if (gate && !gate.can_execute) {
        return { task: null, reason: gate.reason!, retry_after_seconds: gate.retry_after_seconds, fallback_agent: gate.fallback_agent };
      }
      const ready = peekReady(this.sql, request.goal_id);
      if (!ready) return { task: null, reason: whyNothingReady(this.sql, request.goal_id) };
      if (request.agent_id === undefined) return { task: toTasks(this.sql, [ready])[0] };
      const leaseSeconds = request.lease_seconds ?? DEFAULT_LEASE_SECONDS;
      const task = claimTask(this.sql, ready.id, request.agent_id, leaseSeconds, now);
      const lease = { lease_id: task.lease_id!, lease_expires_at: task.lease_expires_at! };
      if (gate?.state !== "HALF_OPEN") return { task, ...lease };
      const probeDeadline = takeProbe(this.sql, request.agent_id, task.id, now, now + leaseSeconds * 1000);
      return { task, ...lease, probe_expires_at: iso(probeDeadline)! };
    });
  }

  /** Keeps a claimed task's lease alive and records the holder's progress note. */
  heartbeatTask(heartbeat: Heartbeat): Promise<Outcome<HeartbeatAnswer>> {
    return this.write((now) => heartbeatTask(this.sql, heartbeat, now));
  }

  updateTaskStatus(change: StatusChange): Promise<Outcome<Task>> {
    return this.write((now) => updateTaskStatus(this.sql, change, now));
  }

  // --- circuit breakers --------------------------------------------------------------------

  /** A read: an agent without a breaker is shown CLOSED under the defaults, and none is created. */
  breakerStatus(agentId: string): Outcome<BreakerStatus> {
    return outcomeOf(() => getBreakerStatus(this.sql, agentId, Date.now()));
  }

  listBreakers(limit: number): Outcome<BreakerList> {
    return outcomeOf(() => listBreakers(this.sql, limit, Date.now()));
  }

  tripBreaker(agentId: string, reason?: string): Promise<Outcome<StateChange>> {
    return this.write((now) => tripBreaker(this.sql, agentId, reason, now));
  }

  resetBreaker(agentId: string): Promise<Outcome<StateChange>> {
    return this.write((now) => resetBreaker(this.sql, agentId, now));
  }

  configureBreaker(agentId: string, patch: Partial<BreakerConfig>): Promise<Outcome<BreakerConfig>> {
    return this.write((now) => configureBreaker(this.sql, agentId, patch, now));
  }

  recordBreakerFailure(
    agentId: string,
    failure: { failure_type: FailureType; error_message: string },
  ): Promise<Outcome<{ old_state: BreakerState; new_state: BreakerState; tripped: boolean; breaker: BreakerStatus }>> {
    return this.write((now) => recordFailure(this.sql, agentId, failure, now));
  }

  recordBreakerSuccess(
    agentId: string,
  ): Promise<Outcome<{ old_state: BreakerState; new_state: BreakerState; recovered: boolean; breaker: BreakerStatus }>> {
    return this.write((now) => recordSuccess(this.sql, agentId, now));
  }

  // --- relay pipelines ---------------------------------------------------------------------

  /** The pipeline, its steps and its first baton, in one transaction. */
  createRelayPipeline(input: NewPipeline): Promise<Outcome<CreatedPipeline>> {
    return this.write((now) => createRelayPipeline(this.sql, input, now));
  }

  getRelayBaton(pipelineId: string): Outcome<BatonAnswer> {
    return outcomeOf(() => getRelayBaton(this.sql, pipelineId, Date.now()));
  }

  advanceRelay(report: AdvanceReport): Promise<Outcome<AdvanceAnswer>> {
    return this.write((now) => advanceRelay(this.sql, report, now));
  }

  retryRelayStep(pipelineId: string, stepIndex: number): Promise<Outcome<RetryAnswer>> {
    return this.write((now) => retryRelayStep(this.sql, pipelineId, stepIndex, now));
  }

  getRelayStatus(pipelineId: string): Outcome<RelayStatus> {
    return outcomeOf(() => getRelayStatus(this.sql, pipelineId));
  }

  listRelayPipelines(filter: PipelineFilter): Outcome<PipelineSummary[]> {
    return outcomeOf(() => listRelayPipelines(this.sql, filter));
  }

  // --- time --------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    this.ctx.storage.transactionSync(() => runDue(this.sql, Date.now()));
    // Set it even when it looks unchanged: while this alarm runs, the stored time may still read as
    // its own, and work left due at that same time (a bounded batch) must fire again.
    await this.rearm(true);
    this.live.announce();
  }

  /** Runs one mutation as one transaction; a thrown DomainError rolls all of it back. */
  private async write<T>(mutation: (now: number) => T): Promise<Outcome<T>> {
    const outcome = outcomeOf(() => this.ctx.storage.transactionSync(() => mutation(Date.now())));
    if (outcome.ok) await this.rearm();
    if (outcome.ok) this.live.announce();
    return outcome;
  }

  /** Points the one alarm at the earliest due time in the data, or removes it. */
  private async rearm(force = false): Promise<void> {
    const due = nextDue(this.sql);
    const armed = await this.ctx.storage.getAlarm();
    if (due === armed && !force) return;
    if (due === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(due);
  }

  // --- owner's dashboard -------------------------------------------------------------------
  // Reads for the pages, export/import, and live updates over hibernatable WebSockets
  // (src/dashboard/ is the web side). write() and alarm() announce every change.

  private readonly live = new LiveChannel(this.ctx);

  /** A goal and its tasks as a dependency graph (the goal page draws it), in one consistent read. */
  goalGraph(goalId: number): Outcome<{ goal: Goal; graph: TaskGraph }> {
    return outcomeOf(() => ({ goal: getGoal(this.sql, goalId), graph: taskGraph(this.sql, goalId) }));
  }

  /** Every row of every table as the export file's text (deterministic: see transfer/export.ts). */
  exportAll(): Outcome<string> {
    return outcomeOf(() => exportText(this.sql));
  }

  /** Writes an export into this instance if it is empty; one transaction, refused → nothing changed. */
  importAll(text: string): Promise<Outcome<ImportSummary>> {
    return this.write(() => importDocument(this.sql, parseDocument(text)));
  }

  /** WebSocket upgrades from the dashboard's /live route; nothing else reaches the object over HTTP. */
  override async fetch(request: Request): Promise<Response> {
    return this.live.accept(request);
  }

  override async webSocketMessage(ws: WebSocket): Promise<void> {
    this.live.message(ws);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.live.close(ws, code);
  }
}
