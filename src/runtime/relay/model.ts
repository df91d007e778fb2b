/**
 * Relay race pipelines, what they are made of: a *pipeline* is an ordered chain of 1..48 agent
 * *steps* working on one goal, and exactly one *baton* is live at a time (docs/relay.md). The
 * stored rows, the objects the product speaks, and the row readers.
 */
import type { Gate } from "../breakers/model";
import { notFound } from "../kernel/errors";
import type { PageQuery, View } from "../kernel/page";

export const PIPELINE_STATUSES = ["in_progress", "completed", "failed"] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];
export const STEP_STATUSES = ["pending", "in_progress", "completed", "failed"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
export const FAILURE_REASONS = ["budget_exhausted", "retries_exhausted"] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];
/** A baton is live until its step reports (passed or failed) or a retry replaces it (superseded). */
export const BATON_STATUSES = ["live", "passed", "failed", "superseded"] as const;
export type BatonStatus = (typeof BATON_STATUSES)[number];

export const L_SCORE_THRESHOLD = 0.3;
export const MAX_RETRIES = 3;

// --- stored rows -----------------------------------------------------------------------------

export interface PipelineRow extends Record<string, SqlStorageValue> {
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

export interface StepRow extends Record<string, SqlStorageValue> {
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

export interface BatonRow extends Record<string, SqlStorageValue> {
  id: string;
  pipeline_id: string;
  step_index: number;
  status: BatonStatus;
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

/**
 * How the relay learns the breaker of an agent type. Breakers are another domain: the caller
 * (dispatch) supplies the lookup, so the relay never reads them itself.
 */
export type BreakerLookup = (agentType: string) => BatonBreaker;

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

export interface AdvanceCommon {
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

export type PipelineQuery<V extends View = View> = { status?: PipelineStatus } & PageQuery<V>;

/** A pipeline as a list shows it by default (docs/lists.md). */
export interface PipelineBrief {
  pipeline_id: string;
  name: string;
  status: PipelineStatus;
  current_step: number;
  total_steps: number;
  tokens_used: number;
  token_budget: number;
}

// --- reading ---------------------------------------------------------------------------------

export function pipelineRow(sql: SqlStorage, pipelineId: string): PipelineRow {
  const row = sql.exec<PipelineRow>(`SELECT * FROM pipelines WHERE id = ?`, pipelineId).toArray()[0];
  if (!row) throw notFound(`pipeline ${pipelineId} does not exist`);
  return row;
}

export function stepRows(sql: SqlStorage, pipelineId: string): StepRow[] {
  return sql.exec<StepRow>(`SELECT * FROM relay_steps WHERE pipeline_id = ? ORDER BY step_index`, pipelineId).toArray();
}

export function stepRow(sql: SqlStorage, pipelineId: string, stepIndex: number): StepRow {
  return sql.exec<StepRow>(`SELECT * FROM relay_steps WHERE pipeline_id = ? AND step_index = ?`, pipelineId, stepIndex).one();
}

export function liveBaton(sql: SqlStorage, pipelineId: string): BatonRow | null {
  return sql.exec<BatonRow>(`SELECT * FROM batons WHERE pipeline_id = ? AND status = 'live'`, pipelineId).toArray()[0] ?? null;
}

/** The provenance chain: output entity ids of the completed steps, in step order. */
