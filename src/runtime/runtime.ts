/**
 * The Runtime Durable Object: one per user id, holding that user's goals, tasks, schedules, relays
 * and breakers in its SQLite. Its public methods are the RPC surface the MCP tools call; each only
 * delegates to a domain function as one read or one transaction (`transactionSync`, no await
 * inside), after which the waiters the write may concern are tried again (waiters.ts) and the
 * single alarm is re-derived from the data.
 */
import { DurableObject } from "cloudflare:workers";
import { configureBreaker, recordFailure, recordSuccess, resetBreaker, tripBreaker, type Report } from "./breakers/machine";
import type { BreakerBrief, BreakerConfig, BreakerList, BreakerQuery, BreakerStatus, FailureType, StateChange } from "./breakers/model";
import { getBreakerStatus, listBreakers } from "./breakers/views";
import { complete, goalWithTasks, listLive, type CompletionKind, type GoalWithTasks, type LivePage } from "./catalog";
import {
  callerScope,
  handOut,
  handOutMayServe,
  heartbeat,
  nothingYet,
  queueDue,
  relayBreakers,
  settleDue,
  TIMED_WORK,
  type NextTaskAnswer,
  type NextTaskRequest,
} from "./dispatch";
import { createGoal, getGoal, goalLines, listGoals, updateGoal, type Goal, type GoalBrief, type GoalEdit, type GoalLine, type GoalQuery } from "./goals/goals";
import { Cursors, cursorKey } from "./kernel/cursor";
import { LIMITS } from "./kernel/limits";
import type { ListWindow } from "./kernel/window";
import { mapOutcome, outcomeOf, type ErrorCode, type Outcome } from "./kernel/errors";
import type { Page, View, Viewed } from "./kernel/page";
import type { JsonObject } from "./kernel/rows";
import { migrate } from "./kernel/schema";
import { nextDue, runDue } from "./kernel/timed";
import { configureOutbox, nextDelivery, outboxStatus, recordOutcomes, takeDue, type OutboxStatus } from "./notify/outbox";
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
import { batonOnceReached, getRelayBaton, getRelayStatus, listRelayPipelines, pipelineLines, type PipelineLine } from "./relay/views";
import { assertGoalNotHeldByOthers } from "./tasks/acting";
import type { Schedule, ScheduleBrief } from "./schedules/model";
import {
  createSchedule,
  getSchedule,
  listSchedules,
  schedulesWithRuns,
  updateSchedule,
  type NewSchedule,
  type ScheduleDetail,
  type ScheduleEdit,
  type ScheduleQuery,
} from "./schedules/schedules";
import { cancelGoal } from "./tasks/cancel";
import { updateTask, type TaskEdit } from "./tasks/edit";
import type { Heartbeat, HeartbeatAnswer } from "./tasks/leases";
import type { Task } from "./tasks/model";
import { createTask, getTask, listTasks, type NewTask, type TaskBrief, type TaskDetail, type TaskQuery } from "./tasks/queue";
import { decideOwnerTask, readyOwnerTasks, waitingForOwner, type OwnerDecision } from "./tasks/owner";
import { redriveFailed, updateTaskStatus, type StatusChange } from "./tasks/status";
import { assertWaitSeconds, Waiters, type Attempt, type AttemptControl, type Topic, type Waiting } from "./waiters";
import { deliver, notifyTarget, targetView, type NotifyTarget, type NotifyTargetView } from "./webhooks";
// Agent keys: made and revoked on the dashboard, checked by the Worker on every keyed request.
import { checkAgentKey, createAgentKey, listAgentKeys, recordKeyUse, revokeAgentKey } from "./keys/keys";
import type { AgentKey, KeyCheck, KeyedCall, NewAgentKey } from "./keys/model";
// The owner's dashboard (see the block at the end of the class).
import { LiveChannel } from "./live";
import { taskGraph, type TaskGraph } from "./tasks/graph";
import { exportText } from "./transfer/export";
import { importDocument, parseDocument, type ImportSummary } from "./transfer/import";
import { wipeAll, type WipeSummary } from "./transfer/wipe";

/**
 * What a keyed call may never reach through callAsAgent: the object's own handlers and helpers,
 * and what only the owner's dashboard does (keys, export and import).
 */
const NOT_CALLABLE_AS_AGENT = new Set([
  "constructor", "alarm", "fetch", "webSocketMessage", "webSocketClose", "webSocketError",
  "write", "commit", "rowsChanged", "settle", "wake", "serve", "rearm",
  "callAsAgent", "checkAgentKey", "createAgentKey", "listAgentKeys", "revokeAgentKey", "exportAll", "importAll",
]);

/** Waiters for work are woken by every write; waiters for a baton by the writes of their pipeline. */
const QUEUE = "queue:";
const RELAY = "relay:";

/** What a write may concern besides the queue: a pipeline's waiters, an agent's sleeping waiters. */
interface WriteConcerns {
  pipelineId?: string;
  agent?: string;
  /** The alarm: breakers may have let their agents through. */
  everyone?: boolean;
}

/** What `getRelayBaton` may wait for: the turn of `step_index` (default 0: any live baton). */
export interface BatonWait extends Waiting {
  step_index?: number;
}

const earliest = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const failed = (code: ErrorCode, message: string): Outcome<never> => ({ ok: false, error: { code, message } });

/** An attempt's outcome as a waiter sees it: null while there is nothing to answer yet. */
function unlessNothing<T>(outcome: Outcome<T | null>): Outcome<T> | null {
  if (!outcome.ok) return outcome;
  return outcome.value === null ? null : { ok: true, value: outcome.value };
}

export class Runtime extends DurableObject {
  private readonly sql: SqlStorage;
  /** List cursors, under this object's own key (made on first use, kept in its SQLite). */
  private readonly cursors = new Cursors(() => this.ctx.storage.transactionSync(() => cursorKey(this.sql)));
  /** Calls waiting for work or for their baton, in this object's memory only (waiters.ts). */
  private readonly waiters = new Waiters();
  /** Where notifications go (NOTIFY_URL, NOTIFY_SECRET); events are recorded only while it is on. */
  private readonly notify: NotifyTarget;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.notify = notifyTarget(env.NOTIFY_URL, env.NOTIFY_SECRET);
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.transactionSync(() => {
        migrate(this.sql);
        configureOutbox(this.sql, this.notify.state === "on", Date.now());
      });
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

  /**
   * Cancels the goal and every unfinished task of it, in one transaction. `actingAgent` (a keyed
   * call's agent) may not cancel tasks other agents hold under a lease.
   */
  cancelGoal(goalId: number, reason?: string, actingAgent?: string): Promise<Outcome<Goal>> {
    return this.write((now) => {
      if (actingAgent !== undefined) assertGoalNotHeldByOthers(this.sql, goalId, actingAgent);
      return cancelGoal(this.sql, goalId, reason, now);
    });
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

  /**
   * Without an agent: the task that would be handed out next. With one: claims it. With
   * `wait_seconds`, when nothing is ready for the caller, waits until a write makes something
   * ready for it (then hands it out) or the time is up (then answers as without waiting).
   */
  nextTask(request: NextTaskRequest & Waiting): Promise<Outcome<NextTaskAnswer>> {
    const { wait_seconds: seconds, ...ask } = request;
    const scope = outcomeOf(() => callerScope(ask));
    if (!scope.ok) return Promise.resolve(scope);
    // Work that fell due (a lease that ran out, a not_before that came) goes first to the callers
    // that have waited for it, then to this one.
    this.wake();
    const handOutNow = (now: number) => handOut(this.sql, ask, now);
    if (!seconds) return this.write(handOutNow);
    const attempt = (control: AttemptControl) => {
      const outcome = this.commit(handOutNow);
      // An OPEN breaker lets nothing through before its cooldown ends (or a write to the breaker).
      if (outcome.ok && outcome.value.retry_after_seconds !== undefined) control.sleepUntil(Date.now() + outcome.value.retry_after_seconds * 1000);
      return unlessNothing(mapOutcome(outcome, (answer) => (nothingYet(answer) ? null : answer)));
    };
    // Waiters with the same goal and roles share a topic: a write wakes only those it can serve.
    const roles = JSON.stringify([...new Set(ask.roles ?? [])].sort());
    const topic: Topic = { key: `${QUEUE}${ask.goal_id ?? "*"}:${roles}`, mayServe: () => handOutMayServe(this.sql, scope.value) };
    // The first attempt is a write like any other (it may claim, or release an overdue lease).
    return this.serve(topic, seconds, attempt, () => this.write(handOutNow), () => this.settle(), ask.agent_id);
  }

  /** Keeps a claimed task's lease alive and records the holder's progress note. */
  heartbeatTask(request: Heartbeat): Promise<Outcome<HeartbeatAnswer>> {
    return this.write((now) => heartbeat(this.sql, request, now));
  }

  /** `actingAgent`: a keyed call's agent, who may not move a task another agent holds under a lease. */
  updateTaskStatus(change: StatusChange, actingAgent?: string): Promise<Outcome<Task>> {
    return this.write((now) => updateTaskStatus(this.sql, change, now, { by: "agent", agent: actingAgent }));
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
    return this.write((now) => tripBreaker(this.sql, agentId, reason, now), { agent: agentId });
  }

  resetBreaker(agentId: string): Promise<Outcome<StateChange>> {
    return this.write((now) => resetBreaker(this.sql, agentId, now), { agent: agentId });
  }

  configureBreaker(agentId: string, patch: Partial<BreakerConfig>): Promise<Outcome<BreakerConfig>> {
    return this.write((now) => configureBreaker(this.sql, agentId, patch, now), { agent: agentId });
  }

  recordBreakerFailure(agentId: string, failure: { failure_type: FailureType; error_message: string }): Promise<Outcome<Report<"tripped">>> {
    return this.write((now) => recordFailure(this.sql, agentId, failure, now), { agent: agentId });
  }

  recordBreakerSuccess(agentId: string): Promise<Outcome<Report<"recovered">>> {
    return this.write((now) => recordSuccess(this.sql, agentId, now), { agent: agentId });
  }

  // --- relay pipelines ---------------------------------------------------------------------

  /** The pipeline, its steps and its first baton, in one transaction. */
  createRelayPipeline(input: NewPipeline): Promise<Outcome<CreatedPipeline>> {
    return this.write((now) => createRelayPipeline(this.sql, input, now, relayBreakers(this.sql, now)));
  }

  /**
   * The live baton and its prompt. With `wait_seconds`, answers as soon as the live baton is for
   * `step_index` or a later step, or the pipeline has ended, or the time is up (with the live
   * baton as it is then).
   */
  getRelayBaton(pipelineId: string, wait: BatonWait = {}): Promise<Outcome<BatonAnswer>> {
    const look = () => outcomeOf(() => getRelayBaton(this.sql, pipelineId, relayBreakers(this.sql, Date.now())));
    if (wait.step_index === undefined && !wait.wait_seconds) return Promise.resolve(look());
    const attempt = () =>
      unlessNothing(outcomeOf(() => batonOnceReached(this.sql, pipelineId, wait.step_index ?? 0, relayBreakers(this.sql, Date.now()))));
    return this.serve({ key: `${RELAY}${pipelineId}`, mayServe: () => true }, wait.wait_seconds ?? 0, attempt, look);
  }

  advanceRelay(report: AdvanceReport): Promise<Outcome<AdvanceAnswer>> {
    return this.write((now) => advanceRelay(this.sql, report, now, relayBreakers(this.sql, now)), { pipelineId: report.pipeline_id });
  }

  retryRelayStep(pipelineId: string, stepIndex: number): Promise<Outcome<RetryAnswer>> {
    return this.write((now) => retryRelayStep(this.sql, pipelineId, stepIndex, now, relayBreakers(this.sql, now)), { pipelineId });
  }

  getRelayStatus(pipelineId: string): Outcome<RelayStatus> {
    return outcomeOf(() => getRelayStatus(this.sql, pipelineId));
  }

  async listRelayPipelines<V extends View = "full">(query: PipelineQuery<V>): Promise<Outcome<Page<Viewed<V, PipelineBrief, PipelineSummary>>>> {
    return outcomeOf(() => listRelayPipelines(this.sql, this.cursors, query));
  }

  // --- schedules ---------------------------------------------------------------------------

  /** A schedule, active at once; its runs are made by the alarm. */
  createSchedule(input: NewSchedule): Promise<Outcome<Schedule>> {
    return this.write((now) => createSchedule(this.sql, input, now));
  }

  /** Pauses, resumes, ends or edits a schedule; the alarm follows its next run at once. */
  updateSchedule(edit: ScheduleEdit): Promise<Outcome<Schedule>> {
    return this.write((now) => updateSchedule(this.sql, edit, now));
  }

  /** A schedule with its newest runs. */
  getSchedule(scheduleId: string): Outcome<ScheduleDetail> {
    return outcomeOf(() => getSchedule(this.sql, scheduleId));
  }

  async listSchedules<V extends View = "full">(query: ScheduleQuery<V>): Promise<Outcome<Page<Viewed<V, ScheduleBrief, Schedule>>>> {
    return outcomeOf(() => listSchedules(this.sql, this.cursors, query));
  }

  // --- browsing: resources and completions ---------------------------------------------------

  /** A goal and its tasks in one read. */
  goalWithTasks(goalId: number): Outcome<GoalWithTasks> {
    return outcomeOf(() => goalWithTasks(this.sql, this.cursors, goalId));
  }

  /** One page of the live items (active goals, then running pipelines), from `cursor` or the start. */
  listLive(cursor: string | undefined, limit: number): Outcome<LivePage> {
    return outcomeOf(() => listLive(this.sql, this.cursors, cursor, limit));
  }

  /** The user's own ids of a kind that start with `prefix`, at most 100. */
  complete(kind: CompletionKind, prefix: string): Outcome<string[]> {
    return outcomeOf(() => complete(this.sql, kind, prefix));
  }

  // --- time --------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    // The timed work first, and with it the due notifications are marked in flight (at least once).
    const now = Date.now();
    const due = this.ctx.storage.transactionSync(() => {
      runDue(TIMED_WORK, this.sql, now);
      return this.notify.state === "on" ? takeDue(this.sql, now) : [];
    });
    // A released lease or a breaker letting its agent through again may be what a waiter waits for.
    this.wake({ everyone: true });
    // Set it even when it looks unchanged: while this alarm runs, the stored time may still read as
    // its own, and work left due at that same time (a bounded batch) must fire again.
    await this.rearm(true);
    this.live.announce();
    if (due.length === 0 || this.notify.state !== "on") return;
    // I/O, so outside any transaction: calls go on meanwhile. An alarm that falls due now waits for
    // this one to return, which every POST's timeout bounds (OUTBOX.timeoutMs).
    const outcomes = await deliver(this.notify, due);
    this.ctx.storage.transactionSync(() => recordOutcomes(this.sql, outcomes, Date.now()));
    await this.rearm(true);
    this.live.announce();
  }

  /**
   * Runs one mutation as one transaction (a thrown DomainError rolls all of it back); after a
   * successful one, tries again the waiters it may concern and re-derives the alarm. Every write
   * may make work ready, so every write wakes the waiters for work; a relay write names its
   * pipeline, whose waiters it wakes too, and a breaker write its agent, whose sleeping waiters it
   * wakes.
   */
  private async write<T>(mutation: (now: number) => T, concerns: WriteConcerns = {}): Promise<Outcome<T>> {
    const before = this.rowsChanged();
    const outcome = this.commit(mutation);
    // A call that changed no row (a look at the next task, a wait's attempt that found nothing)
    // leaves waiters, alarm and dashboard as they were: nothing to settle.
    if (outcome.ok && this.rowsChanged() !== before) await this.settle(concerns);
    return outcome;
  }

  /** Rows inserted, updated or deleted on this object's database so far (SQLite's total_changes). */
  private rowsChanged(): number {
    return this.sql.exec<{ n: number }>(`SELECT total_changes() AS n`).one().n;
  }

  private commit<T>(mutation: (now: number) => T): Outcome<T> {
    return outcomeOf(() => this.ctx.storage.transactionSync(() => mutation(Date.now())));
  }

  /** After a write: wake whom it may concern (each served waiter is its own transaction), then re-arm. */
  private async settle(concerns: WriteConcerns = {}): Promise<void> {
    this.wake(concerns);
    await this.rearm();
    this.live.announce();
  }

  private wake({ pipelineId, agent, everyone }: WriteConcerns = {}): void {
    if (this.waiters.size === 0) return;
    // Due work first, once, in a transaction of its own: what it frees is then there for the
    // waiters' checks, which need not look for it each.
    if (queueDue(this.sql, Date.now())) this.commit((now) => settleDue(this.sql, now));
    this.waiters.poke({
      concerns: (key) => key.startsWith(QUEUE) || (pipelineId !== undefined && key === `${RELAY}${pipelineId}`),
      agent,
      everyone,
      now: Date.now(),
    });
  }

  /**
   * Answers with `attempt` when it has an answer; otherwise, with `seconds`, waits on `topic` for
   * a write to serve the call, and at the deadline answers `last()`, as without waiting. The
   * waiter is registered in the same synchronous step as the first attempt, so a write cannot slip
   * between them unseen; `afterFirst` (e.g. wake and re-arm after a first attempt that wrote) runs
   * once it is registered. Waiting holds nothing: no lease, no transaction, no input gate.
   */
  private async serve<T>(
    topic: Topic,
    seconds: number,
    attempt: Attempt<Outcome<T>>,
    last: () => Outcome<T> | Promise<Outcome<T>>,
    afterFirst: () => Promise<void> = async () => {},
    agent?: string,
  ): Promise<Outcome<T>> {
    const valid = outcomeOf(() => assertWaitSeconds(seconds));
    if (!valid.ok) return valid;
    const first = attempt({ sleepUntil: () => {} });
    const waiting = first === null && seconds > 0 ? outcomeOf(() => this.waiters.wait(topic, seconds, attempt, agent)) : null;
    try {
      await afterFirst();
    } catch (error) {
      // The call fails: its place must not stay to be served for nobody.
      if (waiting?.ok) waiting.value.cancel();
      throw error;
    }
    if (first !== null) return first;
    if (waiting === null) return last();
    if (!waiting.ok) return waiting;
    return (await waiting.value.answer) ?? last();
  }

  /** Points the one alarm at the earliest due time in the data (timed work, notifications), or removes it. */
  private async rearm(force = false): Promise<void> {
    const due = earliest(nextDue(TIMED_WORK, this.sql, Date.now()), nextDelivery(this.sql));
    const armed = await this.ctx.storage.getAlarm();
    if (due === armed && !force) return;
    if (due === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(due);
  }

  // --- agent keys --------------------------------------------------------------------------
  // The records of the keys the owner made (keys/): the Worker asks this object on every keyed
  // request, so a revocation holds from the next call on, wherever the call arrives.

  createAgentKey(input: NewAgentKey): Promise<Outcome<AgentKey>> {
    return this.write((now) => createAgentKey(this.sql, input, now));
  }

  listAgentKeys(): Outcome<AgentKey[]> {
    return outcomeOf(() => listAgentKeys(this.sql, Date.now()));
  }

  revokeAgentKey(keyId: string): Promise<Outcome<AgentKey>> {
    return this.write((now) => revokeAgentKey(this.sql, keyId, now));
  }

  /** Who a key's bearer is. A read, but for the key's last use, written at most once a minute. */
  checkAgentKey(keyId: string, secretHash: string): KeyCheck {
    const now = Date.now();
    const { useDue, ...check } = checkAgentKey(this.sql, keyId, secretHash, now);
    if (useDue) this.ctx.storage.transactionSync(() => recordKeyUse(this.sql, keyId, now));
    return check;
  }

  /**
   * One call of a keyed request whose key the Worker has not confirmed yet (it knew the key from
   * an earlier request): the key is checked here first, in the same round trip as the call, and
   * `method` runs only while the key holds. So a revoked key does nothing on its next call, and a
   * keyed call costs one trip to this object, as a token's call does after its KV read.
   */
  async callAsAgent(keyId: string, secretHash: string, method: string, args: unknown[]): Promise<KeyedCall> {
    const check = this.checkAgentKey(keyId, secretHash);
    if (!check.ok) return { refused: check.reason };
    if (NOT_CALLABLE_AS_AGENT.has(method) || !Object.hasOwn(Runtime.prototype, method)) {
      // Only the Worker's own code names methods here: a name that is no tool's call is a bug, told as one.
      return { value: failed("failed_precondition", `${method} is not a call made with an agent key`) };
    }
    const run = (this as unknown as Record<string, (...args: unknown[]) => unknown>)[method];
    return { value: await run.apply(this, args) };
  }

  // --- owner's dashboard -------------------------------------------------------------------
  // Reads for the pages, export/import, and live updates over hibernatable WebSockets
  // (src/dashboard/ is the web side). Every settled write and every alarm run announce a change.

  private readonly live = new LiveChannel(this.ctx);

  /** Approves or rejects a ready owner task; agents waiting on its dependents are woken at once. */
  decideOwnerTask(decision: OwnerDecision): Promise<Outcome<Task>> {
    return this.write((now) => decideOwnerTask(this.sql, decision, now));
  }

  /** The owner tasks waiting for a decision (at most `limit`, oldest first, each with its goal and inputs) and how many there are. */
  waitingForOwner(limit: number): Outcome<{ count: number; tasks: TaskDetail[] }> {
    return outcomeOf(() => ({
      count: waitingForOwner(this.sql),
      tasks: readyOwnerTasks(this.sql, limit).map((task) => getTask(this.sql, task.id)),
    }));
  }

  /** The dashboard's Retry: sets a failed task, or every failed task of a goal, back to pending. */
  redriveFailed(target: { task_id: number } | { goal_id: number }): Promise<Outcome<number[]>> {
    return this.write((now) => redriveFailed(this.sql, target, now, LIMITS.listMax));
  }

  /** A goal and its tasks as a dependency graph (the goal page draws it), in one consistent read. */
  goalGraph(goalId: number): Outcome<{ goal: Goal; graph: TaskGraph }> {
    return outcomeOf(() => ({ goal: getGoal(this.sql, goalId), graph: taskGraph(this.sql, goalId) }));
  }

  /** Where notifications go and how their delivery fares (the notifications page). */
  notificationStatus(): Outcome<{ target: NotifyTargetView } & OutboxStatus> {
    return outcomeOf(() => ({ target: targetView(this.notify), ...outboxStatus(this.sql) }));
  }

  /** The newest schedules with their newest runs (the schedules page). */
  schedulesWithRuns(limit: number, runsEach: number): Outcome<ScheduleDetail[]> {
    return outcomeOf(() => schedulesWithRuns(this.sql, limit, runsEach));
  }

  /** A window of goals for the list page, newest first below `before`: only what a row shows. */
  goalsWindow(before: number | null, limit: number): Outcome<ListWindow<GoalLine>> {
    return outcomeOf(() => goalLines(this.sql, before, limit));
  }

  /** A window of relay pipelines for the list page, newest first below `before` (a seq). */
  pipelinesWindow(before: number | null, limit: number): Outcome<ListWindow<PipelineLine>> {
    return outcomeOf(() => pipelineLines(this.sql, before, limit));
  }

  /** Every row of every table as the export file's text (deterministic: see transfer/export.ts). */
  exportAll(): Outcome<string> {
    return outcomeOf(() => exportText(this.sql));
  }

  /** Writes an export into this instance if it is empty; one transaction, refused → nothing changed. */
  importAll(text: string): Promise<Outcome<ImportSummary>> {
    return this.write(() => importDocument(this.sql, parseDocument(text)));
  }

  /**
   * Removes every row of every table, so that an import can be made again; one transaction. Every
   * waiting call is woken: what it waited for may be gone.
   */
  async wipeAll(): Promise<Outcome<WipeSummary>> {
    const outcome = await this.write(() => wipeAll(this.sql));
    this.waiters.poke({ concerns: () => true, everyone: true, now: Date.now() });
    return outcome;
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
