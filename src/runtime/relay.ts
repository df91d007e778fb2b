/**
 * Relay race pipelines. A *pipeline* is an ordered chain of 1..48 agent *steps* working on one
 * goal. Exactly one *baton* is live at a time: it names the step whose turn it is and carries
 * what that agent needs (its task, the previous agent's summary, the thresholds, the budget
 * left). The agent does its step and *advances* the relay with its scores, tokens and summary:
 *
 *   - the *quality gate*: the step passes when quality_score ≥ the step's threshold (by agent
 *     type) and l_score ≥ the pipeline's L-score threshold. A pass completes the step and hands
 *     a new baton to the next one (or completes the pipeline); a failure fails the step, which
 *     then waits for a *retry* (a fresh baton for the same step, at most `max_retries` per step).
 *   - the *budget*: tokens count against `token_budget` whatever the gate says (the work was
 *     done). The advance that goes beyond it is recorded and fails the pipeline.
 *
 * A baton is used once: advancing closes it, so a second advance with the same baton id, a stale
 * one, or one for a finished pipeline is a `conflict` that changes nothing. The Durable Object
 * runs one request at a time and each call is one transaction, so of several concurrent advances
 * with the same baton exactly one wins.
 */
import { breakerGate, type Gate } from "./breakers";
import { conflict, exhausted, failedPrecondition, invalid, notFound } from "./errors";
import { LIMITS } from "./limits";
import { relayPrompt } from "./relay-prompt";
import { idList, iso, randomToken } from "./rows";

export const PIPELINE_STATUSES = ["pending", "in_progress", "completed", "failed"] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];
export const STEP_STATUSES = ["pending", "in_progress", "completed", "failed"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
export const FAILURE_REASONS = ["budget_exhausted", "retries_exhausted"] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const L_SCORE_THRESHOLD = 0.3;
export const MAX_RETRIES = 3;
export const DEFAULT_QUALITY_THRESHOLD = 0.6;

export interface AgentProfile {
  quality_threshold: number;
  task: string;
  expected_output: string;
}

/** The built-in agent types (SPEC §6). Any other name is allowed and gets `customAgent`. */
export const BUILT_IN_AGENTS: Readonly<Record<string, AgentProfile>> = {
  researcher: {
    quality_threshold: 0.6,
    task: "Research the goal: gather the facts, sources, constraints and prior work it depends on.",
    expected_output: "The findings with their sources, and the open questions that remain.",
  },
  analyzer: {
    quality_threshold: 0.7,
    task: "Analyze the material you were handed: find the patterns, trade-offs, risks and gaps that matter for the goal.",
    expected_output: "The key insights, each supported by the material, and the options they point to.",
  },
  synthesizer: {
    quality_threshold: 0.7,
    task: "Synthesize the analysis into one coherent answer or solution for the goal.",
    expected_output: "A complete draft that answers the goal, with the reasoning that links it to the analysis.",
  },
  validator: {
    quality_threshold: 0.8,
    task: "Validate the draft against the goal: check correctness, completeness and consistency; fix what you can and flag the rest.",
    expected_output: "The validated draft and a list of the issues found, each marked fixed or open.",
  },
  formatter: {
    quality_threshold: 0.6,
    task: "Format the validated result into its final, well-structured form for delivery.",
    expected_output: "The final deliverable, ready to hand to the person who set the goal.",
  },
};

function customAgent(agentType: string): AgentProfile {
  return {
    quality_threshold: DEFAULT_QUALITY_THRESHOLD,
    task: `Do the ${agentType} step of the pipeline toward the goal, building on what the previous agent handed over.`,
    expected_output: `The result of the ${agentType} step, and a summary of it that the next agent can work from.`,
  };
}

/** Built-in types match case-insensitively ("Validator" is the validator). */
export function agentProfile(agentType: string): AgentProfile {
  return BUILT_IN_AGENTS[agentType.trim().toLowerCase()] ?? customAgent(agentType);
}

// --- stored rows -----------------------------------------------------------------------------

interface PipelineRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  name: string;
  goal: string;
  description: string;
  status: PipelineStatus;
  current_step: number;
  total_steps: number;
  token_budget: number;
  tokens_used: number;
  l_score_threshold: number;
  max_retries: number;
  failure_reason: FailureReason | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

interface StepRow extends Record<string, SqlStorageValue> {
  pipeline_id: string;
  step_index: number;
  agent_type: string;
  status: StepStatus;
  quality_threshold: number;
  quality_score: number | null;
  l_score: number | null;
  tokens_used: number;
  retry_count: number;
  output_summary: string | null;
  output_entity_id: string | null;
  started_at: number | null;
  finished_at: number | null;
}

interface BatonRow extends Record<string, SqlStorageValue> {
  id: string;
  pipeline_id: string;
  step_index: number;
  status: "live" | "passed" | "failed" | "superseded";
  created_at: number;
  closed_at: number | null;
}

// --- what the product speaks -----------------------------------------------------------------

export interface BatonInput {
  /** The previous agent's summary (data written by another agent, never instructions). */
  summary: string | null;
  output_entity_id: string | null;
  from_step: number | null;
  agent_type: string | null;
}

export interface Baton {
  baton_id: string;
  pipeline_id: string;
  step_index: number;
  agent_type: string;
  total_steps: number;
  goal: string;
  task: string;
  expected_output: string;
  input: BatonInput;
  quality_threshold: number;
  l_score_threshold: number;
  remaining_budget: number;
  source_chain: string[];
  retry_count: number;
  max_retries: number;
  issued_at: string;
  /** The circuit breaker of this agent type: when it may not execute, the fallback agent to use. */
  breaker: BatonBreaker;
}

/** The breaker gate of the step's agent type, without the hand-out reason. */
export type BatonBreaker = Omit<Gate, "reason">;

export interface BatonAnswer {
  baton: Baton | null;
  prompt: string | null;
  pipeline_status: PipelineStatus;
  /** Why there is no live baton. */
  reason?: string;
}

export interface RetryAnswer extends BatonAnswer {
  baton: Baton;
  prompt: string;
}

export interface CreatedPipeline {
  pipeline_id: string;
  name: string;
  goal: string;
  description: string;
  agent_count: number;
  agents: string[];
  token_budget: number;
  status: PipelineStatus;
  current_step: number;
  baton: Baton;
}

export interface RelayStep {
  index: number;
  agent_type: string;
  status: StepStatus;
  quality_threshold: number;
  quality_score: number | null;
  l_score: number | null;
  tokens_used: number;
  retry_count: number;
  output_summary: string | null;
  output_entity_id: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface PipelineSummary {
  pipeline_id: string;
  name: string;
  goal: string;
  description: string;
  status: PipelineStatus;
  failure_reason: FailureReason | null;
  current_step: number;
  total_steps: number;
  progress_percent: number;
  quality_scores: number[];
  l_scores: number[];
  average_quality: number | null;
  tokens_used: number;
  token_budget: number;
  remaining_budget: number;
  source_chain: string[];
  baton_id: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface RelayStatus extends PipelineSummary {
  steps: RelayStep[];
}

interface AdvanceCommon {
  pipeline_id: string;
  /** The step that reported. */
  step_index: number;
  agent_type: string;
  pipeline_status: PipelineStatus;
  tokens_used: number;
  remaining_budget: number;
  source_chain: string[];
}

export type AdvanceAnswer = AdvanceCommon &
  (
    | { status: "advanced"; baton: Baton }
    | { status: "completed"; average_quality: number | null }
    | { status: "quality_gate_failed"; reasons: string[]; retry_count: number; max_retries: number }
    | { status: "failed"; reason: FailureReason; reasons?: string[] }
  );

export interface NewPipeline {
  name: string;
  goal: string;
  agent_types: string[];
  description?: string;
  token_budget?: number;
}

export interface AdvanceReport {
  pipeline_id: string;
  quality_score: number;
  l_score: number;
  tokens_used: number;
  output_entity_id?: string;
  output_summary?: string;
  baton_id?: string;
}

export interface PipelineFilter {
  status?: PipelineStatus;
  limit: number;
}

// --- reading ---------------------------------------------------------------------------------

function pipelineRow(sql: SqlStorage, pipelineId: string): PipelineRow {
  const row = sql.exec<PipelineRow>(`SELECT * FROM pipelines WHERE id = ?`, pipelineId).toArray()[0];
  if (!row) throw notFound(`pipeline ${pipelineId} does not exist`, "pipeline_id");
  return row;
}

function stepRows(sql: SqlStorage, pipelineId: string): StepRow[] {
  return sql.exec<StepRow>(`SELECT * FROM relay_steps WHERE pipeline_id = ? ORDER BY step_index`, pipelineId).toArray();
}

function stepRow(sql: SqlStorage, pipelineId: string, stepIndex: number): StepRow {
  return sql.exec<StepRow>(`SELECT * FROM relay_steps WHERE pipeline_id = ? AND step_index = ?`, pipelineId, stepIndex).one();
}

function liveBaton(sql: SqlStorage, pipelineId: string): BatonRow | null {
  return sql.exec<BatonRow>(`SELECT * FROM batons WHERE pipeline_id = ? AND status = 'live'`, pipelineId).toArray()[0] ?? null;
}

/** The provenance chain: output entity ids of the completed steps, in step order. */
function sourceChain(steps: StepRow[]): string[] {
  return steps.filter((s) => s.status === "completed" && s.output_entity_id !== null).map((s) => s.output_entity_id!);
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const remaining = (p: PipelineRow) => Math.max(0, p.token_budget - p.tokens_used);

function summaryOf(p: PipelineRow, steps: StepRow[], batonId: string | null): PipelineSummary {
  // Scores of the steps that passed their gate; a failed attempt's scores show on its step only.
  const passed = steps.filter((s) => s.status === "completed");
  const qualityScores = passed.map((s) => s.quality_score!);
  return {
    pipeline_id: p.id,
    name: p.name,
    goal: p.goal,
    description: p.description,
    status: p.status,
    failure_reason: p.failure_reason,
    current_step: p.current_step,
    total_steps: p.total_steps,
    progress_percent: round((passed.length / p.total_steps) * 100, 1),
    quality_scores: qualityScores,
    l_scores: passed.map((s) => s.l_score!),
    average_quality: qualityScores.length ? round(qualityScores.reduce((a, b) => a + b, 0) / qualityScores.length, 4) : null,
    tokens_used: p.tokens_used,
    token_budget: p.token_budget,
    remaining_budget: remaining(p),
    source_chain: sourceChain(steps),
    baton_id: batonId,
    created_at: iso(p.created_at)!,
    updated_at: iso(p.updated_at)!,
    finished_at: iso(p.finished_at),
  };
}

function toStep(s: StepRow): RelayStep {
  return {
    index: s.step_index,
    agent_type: s.agent_type,
    status: s.status,
    quality_threshold: s.quality_threshold,
    quality_score: s.quality_score,
    l_score: s.l_score,
    tokens_used: s.tokens_used,
    retry_count: s.retry_count,
    output_summary: s.output_summary,
    output_entity_id: s.output_entity_id,
    started_at: iso(s.started_at),
    finished_at: iso(s.finished_at),
  };
}

export function getRelayStatus(sql: SqlStorage, pipelineId: string): RelayStatus {
  const p = pipelineRow(sql, pipelineId);
  const steps = stepRows(sql, pipelineId);
  return { ...summaryOf(p, steps, liveBaton(sql, pipelineId)?.id ?? null), steps: steps.map(toStep) };
}

export function listRelayPipelines(sql: SqlStorage, filter: PipelineFilter): PipelineSummary[] {
  const where = filter.status ? `WHERE status = ?` : "";
  const params: SqlStorageValue[] = filter.status ? [filter.status] : [];
  const pipelines = sql.exec<PipelineRow>(`SELECT * FROM pipelines ${where} ORDER BY seq DESC LIMIT ?`, ...params, filter.limit).toArray();
  if (pipelines.length === 0) return [];
  const ids = idList(pipelines.map((p) => p.id));
  const steps = new Map<string, StepRow[]>();
  for (const s of sql.exec<StepRow>(
    `SELECT * FROM relay_steps WHERE pipeline_id IN (SELECT value FROM json_each(?)) ORDER BY pipeline_id, step_index`,
    ids,
  )) {
    const list = steps.get(s.pipeline_id) ?? [];
    list.push(s);
    steps.set(s.pipeline_id, list);
  }
  const batons = new Map<string, string>();
  for (const b of sql.exec<BatonRow>(`SELECT * FROM batons WHERE status = 'live' AND pipeline_id IN (SELECT value FROM json_each(?))`, ids)) {
    batons.set(b.pipeline_id, b.id);
  }
  return pipelines.map((p) => summaryOf(p, steps.get(p.id) ?? [], batons.get(p.id) ?? null));
}

/**
 * Everything the agent holding `batonRow` needs, from the stored pipeline and steps, including
 * the breaker of its agent type (a baton whose agent may not execute names the fallback agent).
 * The one place a baton is built.
 */
function buildBaton(sql: SqlStorage, p: PipelineRow, batonRow: BatonRow, now: number): Baton {
  const steps = stepRows(sql, p.id);
  const step = steps[batonRow.step_index];
  const previous = batonRow.step_index > 0 ? steps[batonRow.step_index - 1] : null;
  const profile = agentProfile(step.agent_type);
  return {
    baton_id: batonRow.id,
    pipeline_id: p.id,
    step_index: step.step_index,
    agent_type: step.agent_type,
    total_steps: p.total_steps,
    goal: p.goal,
    task: profile.task,
    expected_output: profile.expected_output,
    input: {
      summary: previous?.output_summary ?? null,
      output_entity_id: previous?.output_entity_id ?? null,
      from_step: previous?.step_index ?? null,
      agent_type: previous?.agent_type ?? null,
    },
    quality_threshold: step.quality_threshold,
    l_score_threshold: p.l_score_threshold,
    remaining_budget: remaining(p),
    source_chain: sourceChain(steps),
    retry_count: step.retry_count,
    max_retries: p.max_retries,
    issued_at: iso(batonRow.created_at)!,
    breaker: batonBreaker(breakerGate(sql, step.agent_type, now)),
  };
}

const batonBreaker = ({ reason: _reason, ...gate }: Gate): BatonBreaker => gate;

const promptFor = (p: PipelineRow, baton: Baton) =>
  relayPrompt(baton, { pipelineName: p.name, description: p.description, tokenBudget: p.token_budget });

function whyNoBaton(p: PipelineRow): string {
  if (p.status === "completed") return "the pipeline is completed";
  if (p.status === "failed") return `the pipeline failed (${p.failure_reason})`;
  return `step ${p.current_step} failed its quality gate; call retry_relay_step for it`;
}

export function getRelayBaton(sql: SqlStorage, pipelineId: string, now: number): BatonAnswer {
  const p = pipelineRow(sql, pipelineId);
  const live = liveBaton(sql, pipelineId);
  if (!live) return { baton: null, prompt: null, pipeline_status: p.status, reason: whyNoBaton(p) };
  const baton = buildBaton(sql, p, live, now);
  return { baton, prompt: promptFor(p, baton), pipeline_status: p.status };
}

// --- writing ---------------------------------------------------------------------------------

function issueBaton(sql: SqlStorage, pipelineId: string, stepIndex: number, now: number): BatonRow {
  // The unique index on live batons makes a second live baton impossible even if a caller erred.
  return sql
    .exec<BatonRow>(
      `INSERT INTO batons (id, pipeline_id, step_index, status, created_at) VALUES (?, ?, ?, 'live', ?) RETURNING *`,
      `bt_${randomToken(16)}`,
      pipelineId,
      stepIndex,
      now,
    )
    .one();
}

function closeBaton(sql: SqlStorage, batonId: string, status: BatonRow["status"], now: number): void {
  sql.exec(`UPDATE batons SET status = ?, closed_at = ? WHERE id = ?`, status, now, batonId);
}

export function createRelayPipeline(sql: SqlStorage, input: NewPipeline, now: number): CreatedPipeline {
  const tokenBudget = input.token_budget ?? LIMITS.tokenBudgetDefault;
  const id = `rp_${randomToken(12)}`;
  const p = sql
    .exec<PipelineRow>(
      `INSERT INTO pipelines (id, name, goal, description, status, current_step, total_steps, token_budget,
         l_score_threshold, max_retries, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'in_progress', 0, ?, ?, ?, ?, ?, ?) RETURNING *`,
      id,
      input.name,
      input.goal,
      input.description ?? "",
      input.agent_types.length,
      tokenBudget,
      L_SCORE_THRESHOLD,
      MAX_RETRIES,
      now,
      now,
    )
    .one();
  input.agent_types.forEach((agentType, index) => {
    sql.exec(
      `INSERT INTO relay_steps (pipeline_id, step_index, agent_type, status, quality_threshold, started_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      id,
      index,
      agentType,
      index === 0 ? "in_progress" : "pending",
      agentProfile(agentType).quality_threshold,
      index === 0 ? now : null,
    );
  });
  const baton = buildBaton(sql, p, issueBaton(sql, id, 0, now), now);
  return {
    pipeline_id: id,
    name: p.name,
    goal: p.goal,
    description: p.description,
    agent_count: p.total_steps,
    agents: [...input.agent_types],
    token_budget: p.token_budget,
    status: p.status,
    current_step: 0,
    baton,
  };
}

/** Refuses advances that cannot apply: finished pipeline, no live baton, or not this baton. */
function assertAdvanceable(p: PipelineRow, live: BatonRow | null, batonId: string | undefined): BatonRow {
  if (p.status === "failed" && p.failure_reason === "budget_exhausted") {
    throw exhausted(`pipeline ${p.id} used its token budget (${p.tokens_used} of ${p.token_budget}) and failed`, "pipeline_id");
  }
  if (p.status === "completed" || p.status === "failed") {
    throw conflict(`pipeline ${p.id} is ${p.status}; there is no live baton to advance`, "pipeline_id");
  }
  if (!live) {
    throw conflict(`pipeline ${p.id}: step ${p.current_step} failed its quality gate and has no live baton; call retry_relay_step`, "baton_id");
  }
  if (batonId !== undefined && batonId !== live.id) {
    throw conflict(`baton ${batonId} is not the live baton of pipeline ${p.id} (it was already passed, retried or never existed)`, "baton_id");
  }
  return live;
}

/** How long a report without baton_id is compared with the one that completed the step before. */
const REPLAY_WINDOW_MS = 10 * 60_000;

/**
 * A report without `baton_id` advances whatever baton is live, so a client that retries such a
 * call (after a timeout, say) would hand the previous agent's report to the next step. A report
 * identical to the one that just completed the previous step is taken for that retry and refused.
 */
function assertNotReplayed(sql: SqlStorage, live: BatonRow, report: AdvanceReport, now: number): void {
  if (report.baton_id !== undefined || live.step_index === 0) return;
  const previous = stepRow(sql, live.pipeline_id, live.step_index - 1);
  const same =
    previous.status === "completed" &&
    previous.finished_at !== null &&
    now - previous.finished_at <= REPLAY_WINDOW_MS &&
    previous.quality_score === report.quality_score &&
    previous.l_score === report.l_score &&
    previous.output_summary === (report.output_summary ?? null) &&
    previous.output_entity_id === (report.output_entity_id ?? null);
  if (same) {
    throw conflict(
      `this report repeats the one that completed step ${previous.step_index} (${previous.agent_type}); ` +
        `it was not applied to step ${live.step_index}. Pass baton_id to advance a specific baton`,
      "baton_id",
    );
  }
}

function gateReasons(step: StepRow, p: PipelineRow, report: AdvanceReport): string[] {
  const reasons: string[] = [];
  if (report.quality_score < step.quality_threshold) {
    reasons.push(`quality_score ${report.quality_score} is below the ${step.agent_type} threshold ${step.quality_threshold}`);
  }
  if (report.l_score < p.l_score_threshold) {
    reasons.push(`l_score ${report.l_score} is below the L-score threshold ${p.l_score_threshold}`);
  }
  return reasons;
}

export function advanceRelay(sql: SqlStorage, report: AdvanceReport, now: number): AdvanceAnswer {
  const before = pipelineRow(sql, report.pipeline_id);
  const live = assertAdvanceable(before, liveBaton(sql, before.id), report.baton_id);
  assertNotReplayed(sql, live, report, now);
  const stepIndex = live.step_index;
  const step = stepRow(sql, before.id, stepIndex);
  const tokensUsed = before.tokens_used + report.tokens_used;
  const overBudget = tokensUsed > before.token_budget;
  const reasons = gateReasons(step, before, report);
  const passed = !overBudget && reasons.length === 0;
  const retriesLeft = step.retry_count < before.max_retries;

  // The report is recorded whatever the outcome: the work was done and its tokens were spent.
  sql.exec(
    `UPDATE relay_steps SET status = ?, quality_score = ?, l_score = ?, tokens_used = tokens_used + ?,
       output_summary = ?, output_entity_id = ?, finished_at = ?
     WHERE pipeline_id = ? AND step_index = ?`,
    passed ? "completed" : "failed",
    report.quality_score,
    report.l_score,
    report.tokens_used,
    report.output_summary ?? null,
    report.output_entity_id ?? null,
    now,
    before.id,
    stepIndex,
  );
  closeBaton(sql, live.id, passed ? "passed" : "failed", now);

  const last = stepIndex === before.total_steps - 1;
  let status: PipelineStatus = "in_progress";
  let failureReason: FailureReason | null = null;
  if (overBudget) [status, failureReason] = ["failed", "budget_exhausted"];
  else if (!passed && !retriesLeft) [status, failureReason] = ["failed", "retries_exhausted"];
  else if (passed && last) status = "completed";
  const nextStep = passed && !last ? stepIndex + 1 : stepIndex;
  const finished = status === "completed" || status === "failed";
  const p = sql
    .exec<PipelineRow>(
      `UPDATE pipelines SET status = ?, failure_reason = ?, tokens_used = ?, current_step = ?, updated_at = ?, finished_at = ?
       WHERE id = ? RETURNING *`,
      status,
      failureReason,
      tokensUsed,
      status === "completed" ? before.total_steps : nextStep,
      now,
      finished ? now : null,
      before.id,
    )
    .one();

  const steps = stepRows(sql, p.id);
  const common: AdvanceCommon = {
    pipeline_id: p.id,
    step_index: stepIndex,
    agent_type: step.agent_type,
    pipeline_status: p.status,
    tokens_used: p.tokens_used,
    remaining_budget: remaining(p),
    source_chain: sourceChain(steps),
  };
  if (failureReason === "budget_exhausted") return { ...common, status: "failed", reason: failureReason };
  if (failureReason === "retries_exhausted") return { ...common, status: "failed", reason: failureReason, reasons };
  if (!passed) return { ...common, status: "quality_gate_failed", reasons, retry_count: step.retry_count, max_retries: p.max_retries };
  if (status === "completed") return { ...common, status: "completed", average_quality: summaryOf(p, steps, null).average_quality };
  sql.exec(
    `UPDATE relay_steps SET status = 'in_progress', started_at = ? WHERE pipeline_id = ? AND step_index = ?`,
    now,
    p.id,
    nextStep,
  );
  return { ...common, status: "advanced", baton: buildBaton(sql, p, issueBaton(sql, p.id, nextStep, now), now) };
}

/**
 * A fresh baton for the pipeline's current step: after a quality gate failure, or to take over
 * a step whose agent went away (its live baton is superseded, so a late advance with it is
 * refused). Each retry counts against the step's `max_retries`.
 */
export function retryRelayStep(sql: SqlStorage, pipelineId: string, stepIndex: number, now: number): RetryAnswer {
  const p = pipelineRow(sql, pipelineId);
  if (stepIndex < 0 || stepIndex >= p.total_steps) {
    throw invalid("step_index", `pipeline ${p.id} has steps 0..${p.total_steps - 1}`);
  }
  if (p.status === "completed") throw conflict(`pipeline ${p.id} is completed; nothing to retry`, "pipeline_id");
  if (p.status === "failed" && p.failure_reason === "budget_exhausted") {
    throw exhausted(`pipeline ${p.id} used its token budget (${p.tokens_used} of ${p.token_budget}) and failed`, "pipeline_id");
  }
  if (stepIndex !== p.current_step) {
    throw failedPrecondition(`only the current step (${p.current_step}) of pipeline ${p.id} can be retried, not step ${stepIndex}`, "step_index");
  }
  const step = stepRow(sql, p.id, stepIndex);
  if (step.retry_count >= p.max_retries) {
    throw failedPrecondition(`step ${stepIndex} of pipeline ${p.id} has used all ${p.max_retries} retries`, "step_index");
  }
  if (p.status !== "in_progress") {
    throw conflict(`pipeline ${p.id} is ${p.status}; nothing to retry`, "pipeline_id");
  }
  const live = liveBaton(sql, p.id);
  if (live) closeBaton(sql, live.id, "superseded", now);
  sql.exec(
    `UPDATE relay_steps SET status = 'in_progress', retry_count = retry_count + 1, started_at = ?, finished_at = NULL
     WHERE pipeline_id = ? AND step_index = ?`,
    now,
    p.id,
    stepIndex,
  );
  const updated = sql.exec<PipelineRow>(`UPDATE pipelines SET updated_at = ? WHERE id = ? RETURNING *`, now, p.id).one();
  const baton = buildBaton(sql, updated, issueBaton(sql, p.id, stepIndex, now), now);
  return { baton, prompt: promptFor(updated, baton), pipeline_status: updated.status };
}
