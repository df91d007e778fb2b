/**
 * The Runtime Durable Object: one per user id, holding that user's goals, tasks, relays and
 * breakers in its SQLite. Its public methods are the RPC surface the MCP tools call; each only
 * delegates to a domain function as one read or one transaction (`transactionSync`, no await
 * inside), after which the single alarm is re-derived from the data.
 */
import { DurableObject } from "cloudflare:workers";
import { configureBreaker, recordFailure, recordSuccess, resetBreaker, tripBreaker, type Report } from "./breakers/machine";
import type { BreakerBrief, BreakerConfig, BreakerList, BreakerQuery, BreakerStatus, FailureType, StateChange } from "./breakers/model";
import { getBreakerStatus, listBreakers } from "./breakers/views";
import { complete, goalWithTasks, listLive, type CompletionKind, type GoalWithTasks, type LivePage, type LivePosition } from "./catalog";
import { handOut, heartbeat, relayBreakers, TIMED_WORK, type NextTaskAnswer, type NextTaskRequest } from "./dispatch";
import { createGoal, getGoal, listGoals, updateGoal, type Goal, type GoalBrief, type GoalEdit, type GoalQuery } from "./goals/goals";
import { Cursors, cursorKey } from "./kernel/cursor";
import { outcomeOf, type Outcome } from "./kernel/errors";
import type { Page, View, Viewed } from "./kernel/page";
import type { JsonObject } from "./kernel/rows";
import { migrate } from "./kernel/schema";
import { nextDue, runDue } from "./kernel/timed";
import { applyPlan, type PlanMode } from "./plans/apply";
import { spendModelCall, type ModelCallAllowance } from "./plans/budget";
import type { Plan } from "./plans/plan";
import { advanceRelay, createRelayPipeline, retryRelayStep } from "./relay/machine";
import type {
  AdvanceAnswer,
  AdvanceReport,
  BatonAnswer,
  CreatedPipeline,
  NewPipeline,
  PipelineBrief,
  PipelineQuery,
  PipelineSummary,
  RelayStatus,
  RetryAnswer,
} from "./relay/model";
import { getRelayBaton, getRelayStatus, listRelayPipelines } from "./relay/views";
import { cancelGoal } from "./tasks/cancel";
import { updateTask, type TaskEdit } from "./tasks/edit";
import type { Heartbeat, HeartbeatAnswer } from "./tasks/leases";
import type { Task } from "./tasks/model";
import { createTask, getTask, listTasks, type NewTask, type TaskBrief, type TaskDetail, type TaskQuery } from "./tasks/queue";
import { updateTaskStatus, type StatusChange } from "./tasks/status";

export class Runtime extends DurableObject {
  private readonly sql: SqlStorage;
  /** List cursors, under this object's own key (made on first use, kept in its SQLite). */
  private readonly cursors = new Cursors(() => this.ctx.storage.transactionSync(() => cursorKey(this.sql)));

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
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

  // The list methods are async only so that their RPC type (api.ts) keeps the view parameter:
  // `view` defaults to "full" here, the tools ask for "brief" (docs/lists.md).

  async listGoals<V extends View = "full">(query: GoalQuery<V>): Promise<Outcome<Page<Viewed<V, GoalBrief, Goal>>>> {
    return outcomeOf(() => listGoals(this.sql, this.cursors, query));
  }

  /** Changes a goal's name, description or metadata; omitted fields keep their value. */
  updateGoal(edit: GoalEdit): Promise<Outcome<Goal>> {
    return this.write((now) => updateGoal(this.sql, edit, now));
  }

  /** Cancels the goal and every unfinished task of it, in one transaction. */
  cancelGoal(goalId: number, reason?: string): Promise<Outcome<Goal>> {
    return this.write((now) => cancelGoal(this.sql, goalId, reason, now));
  }

  /** Writes a validated decomposition plan into the goal's queue, whole or not at all. */
  applyPlan(goalId: number, plan: Plan, mode: PlanMode): Promise<Outcome<Task[]>> {
    return this.write((now) => applyPlan(this.sql, goalId, plan, mode, now));
  }

  /** Counts one model call for decomposition against today's cap, or refuses it (resource_exhausted). */
  spendModelCall(dailyLimit: number): Promise<Outcome<ModelCallAllowance>> {
    return this.write((now) => spendModelCall(this.sql, dailyLimit, now));
  }

  // --- tasks -------------------------------------------------------------------------------

  createTask(input: NewTask): Promise<Outcome<Task>> {
    return this.write((now) => createTask(this.sql, input, now));
  }

  getTask(taskId: number): Outcome<TaskDetail> {
    return outcomeOf(() => getTask(this.sql, taskId));
  }

  async listTasks<V extends View = "full">(query: TaskQuery<V>): Promise<Outcome<Page<Viewed<V, TaskBrief, Task>>>> {
    return outcomeOf(() => listTasks(this.sql, this.cursors, query));
  }

  /** Edits a task that is not final; new dependencies are checked and the ready queue follows at once. */
  updateTask(edit: TaskEdit): Promise<Outcome<Task>> {
    return this.write((now) => updateTask(this.sql, edit, now));
  }

  /** Without an agent: the task that would be handed out next. With one: claims it. */
  nextTask(request: NextTaskRequest): Promise<Outcome<NextTaskAnswer>> {
    return this.write((now) => handOut(this.sql, request, now));
  }

  /** Keeps a claimed task's lease alive and records the holder's progress note. */
  heartbeatTask(request: Heartbeat): Promise<Outcome<HeartbeatAnswer>> {
    return this.write((now) => heartbeat(this.sql, request, now));
  }

  updateTaskStatus(change: StatusChange): Promise<Outcome<Task>> {
    return this.write((now) => updateTaskStatus(this.sql, change, now));
  }

  // --- circuit breakers --------------------------------------------------------------------

  /** A read: an agent without a breaker is shown CLOSED under the defaults, and none is created. */
  breakerStatus(agentId: string): Outcome<BreakerStatus> {
    return outcomeOf(() => getBreakerStatus(this.sql, agentId, Date.now()));
  }

  async listBreakers<V extends View = "full">(query: BreakerQuery<V>): Promise<Outcome<BreakerList<Viewed<V, BreakerBrief, BreakerStatus>>>> {
    return outcomeOf(() => listBreakers(this.sql, this.cursors, query, Date.now()));
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

  recordBreakerFailure(agentId: string, failure: { failure_type: FailureType; error_message: string }): Promise<Outcome<Report<"tripped">>> {
    return this.write((now) => recordFailure(this.sql, agentId, failure, now));
  }

  recordBreakerSuccess(agentId: string): Promise<Outcome<Report<"recovered">>> {
    return this.write((now) => recordSuccess(this.sql, agentId, now));
  }

  // --- relay pipelines ---------------------------------------------------------------------

  /** The pipeline, its steps and its first baton, in one transaction. */
  createRelayPipeline(input: NewPipeline): Promise<Outcome<CreatedPipeline>> {
    return this.write((now) => createRelayPipeline(this.sql, input, now, relayBreakers(this.sql, now)));
  }

  getRelayBaton(pipelineId: string): Outcome<BatonAnswer> {
    return outcomeOf(() => getRelayBaton(this.sql, pipelineId, relayBreakers(this.sql, Date.now())));
  }

  advanceRelay(report: AdvanceReport): Promise<Outcome<AdvanceAnswer>> {
    return this.write((now) => advanceRelay(this.sql, report, now, relayBreakers(this.sql, now)));
  }

  retryRelayStep(pipelineId: string, stepIndex: number): Promise<Outcome<RetryAnswer>> {
    return this.write((now) => retryRelayStep(this.sql, pipelineId, stepIndex, now, relayBreakers(this.sql, now)));
  }

  getRelayStatus(pipelineId: string): Outcome<RelayStatus> {
    return outcomeOf(() => getRelayStatus(this.sql, pipelineId));
  }

  async listRelayPipelines<V extends View = "full">(query: PipelineQuery<V>): Promise<Outcome<Page<Viewed<V, PipelineBrief, PipelineSummary>>>> {
    return outcomeOf(() => listRelayPipelines(this.sql, this.cursors, query));
  }

  // --- browsing: resources and completions ---------------------------------------------------

  /** A goal and its tasks in one read. */
  goalWithTasks(goalId: number): Outcome<GoalWithTasks> {
    return outcomeOf(() => goalWithTasks(this.sql, this.cursors, goalId));
  }

  /** One page of the live items (active goals, then running pipelines), from `from` or the start. */
  listLive(from: LivePosition | null, limit: number): Outcome<LivePage> {
    return outcomeOf(() => listLive(this.sql, from, limit));
  }

  /** The user's own ids of a kind that start with `prefix`, at most 100. */
  complete(kind: CompletionKind, prefix: string): Outcome<string[]> {
    return outcomeOf(() => complete(this.sql, kind, prefix));
  }

  // --- time --------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    this.ctx.storage.transactionSync(() => runDue(TIMED_WORK, this.sql, Date.now()));
    // Set it even when it looks unchanged: while this alarm runs, the stored time may still read as
    // its own, and work left due at that same time (a bounded batch) must fire again.
    await this.rearm(true);
  }

  /** Runs one mutation as one transaction; a thrown DomainError rolls all of it back. */
  private async write<T>(mutation: (now: number) => T): Promise<Outcome<T>> {
    const outcome = outcomeOf(() => this.ctx.storage.transactionSync(() => mutation(Date.now())));
    if (outcome.ok) await this.rearm();
    return outcome;
  }

  /** Points the one alarm at the earliest due time in the data, or removes it. */
  private async rearm(force = false): Promise<void> {
    const due = nextDue(TIMED_WORK, this.sql);
    const armed = await this.ctx.storage.getAlarm();
    if (due === armed && !force) return;
    if (due === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(due);
  }
}
