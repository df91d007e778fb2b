/**
 * The relay's state machine: creating a pipeline with its first baton, advancing it, retrying a
 * step. Exactly one *baton* is live at a time: it names the step whose turn it is and carries
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
 * with the same baton exactly one wins. A report without a baton id advances whatever baton is
 * live, whatever earlier reports looked like (two steps may report the same numbers): the baton
 * id is what makes a retried call safe (docs/relay.md).
 */
import { conflict, exhausted, failedPrecondition, invalid } from "../kernel/errors";
import { LIMITS } from "../kernel/limits";
import { randomToken } from "../kernel/rows";
import { enqueueNotification } from "../notify/enqueue";
import { agentProfile } from "./agents";
import {
  L_SCORE_THRESHOLD,
  liveBaton,
  MAX_RETRIES,
  pipelineRow,
  stepRow,
  stepRows,
  type AdvanceAnswer,
  type AdvanceCommon,
  type AdvanceReport,
  type BatonRow,
  type BreakerLookup,
  type CreatedPipeline,
  type FailureReason,
  type NewPipeline,
  type PipelineRow,
  type PipelineStatus,
  type RetryAnswer,
  type StepRow,
} from "./model";
import { buildBaton, promptFor, remaining, sourceChain, summaryOf } from "./views";

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

export function createRelayPipeline(sql: SqlStorage, input: NewPipeline, now: number, breakers: BreakerLookup): CreatedPipeline {
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
  const baton = buildBaton(sql, p, issueBaton(sql, id, 0, now), breakers);
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
    throw exhausted(`pipeline ${p.id} used its token budget (${p.tokens_used} of ${p.token_budget}) and failed`);
  }
  if (p.status === "completed" || p.status === "failed") {
    throw conflict(`pipeline ${p.id} is ${p.status}; there is no live baton to advance`);
  }
  if (!live) {
    throw conflict(`pipeline ${p.id}: step ${p.current_step} failed its quality gate and has no live baton; call retry_relay_step`);
  }
  if (batonId !== undefined && batonId !== live.id) {
    throw conflict(`baton ${batonId} is not the live baton of pipeline ${p.id} (it was already passed, retried or never existed)`);
  }
  return live;
}

/** What a report does to its step and its pipeline: decided from the numbers alone. */
export interface Verdict {
  /** The step passed its quality gate within the budget. */
  passed: boolean;
  /** Why the gate failed (empty when it passed). */
  reasons: string[];
  status: PipelineStatus;
  failure_reason: FailureReason | null;
  /** The pipeline's token total after this report. */
  tokens_used: number;
  /** The step whose turn it is afterwards (`total_steps` once completed). */
  current_step: number;
}

export function judgeReport(
  p: Pick<PipelineRow, "tokens_used" | "token_budget" | "l_score_threshold" | "max_retries" | "total_steps">,
  step: Pick<StepRow, "step_index" | "agent_type" | "quality_threshold" | "retry_count">,
  report: Pick<AdvanceReport, "quality_score" | "l_score" | "tokens_used">,
): Verdict {
  const reasons: string[] = [];
  if (report.quality_score < step.quality_threshold) {
    reasons.push(`quality_score ${report.quality_score} is below the ${step.agent_type} threshold ${step.quality_threshold}`);
  }
  if (report.l_score < p.l_score_threshold) {
    reasons.push(`l_score ${report.l_score} is below the L-score threshold ${p.l_score_threshold}`);
  }
  const tokensUsed = p.tokens_used + report.tokens_used;
  const overBudget = tokensUsed > p.token_budget;
  const passed = !overBudget && reasons.length === 0;
  const last = step.step_index === p.total_steps - 1;
  const verdict = (status: PipelineStatus, failure: FailureReason | null, currentStep: number): Verdict => ({
    passed,
    reasons,
    status,
    failure_reason: failure,
    tokens_used: tokensUsed,
    current_step: currentStep,
  });
  if (overBudget) return verdict("failed", "budget_exhausted", step.step_index);
  if (!passed && step.retry_count >= p.max_retries) return verdict("failed", "retries_exhausted", step.step_index);
  if (!passed) return verdict("in_progress", null, step.step_index);
  return last ? verdict("completed", null, p.total_steps) : verdict("in_progress", null, step.step_index + 1);
}

export function advanceRelay(sql: SqlStorage, report: AdvanceReport, now: number, breakers: BreakerLookup): AdvanceAnswer {
  const before = pipelineRow(sql, report.pipeline_id);
  const live = assertAdvanceable(before, liveBaton(sql, before.id), report.baton_id);
  const step = stepRow(sql, before.id, live.step_index);
  const verdict = judgeReport(before, step, report);

  // The report is recorded whatever the outcome: the work was done and its tokens were spent.
  sql.exec(
    `UPDATE relay_steps SET status = ?, quality_score = ?, l_score = ?, tokens_used = tokens_used + ?,
       output_summary = ?, output_entity_id = ?, finished_at = ?
     WHERE pipeline_id = ? AND step_index = ?`,
    verdict.passed ? "completed" : "failed",
    report.quality_score,
    report.l_score,
    report.tokens_used,
    report.output_summary ?? null,
    report.output_entity_id ?? null,
    now,
    before.id,
    step.step_index,
  );
  closeBaton(sql, live.id, verdict.passed ? "passed" : "failed", now);
  const finished = verdict.status !== "in_progress";
  const p = sql
    .exec<PipelineRow>(
      `UPDATE pipelines SET status = ?, failure_reason = ?, tokens_used = ?, current_step = ?, updated_at = ?, finished_at = ?
       WHERE id = ? RETURNING *`,
      verdict.status,
      verdict.failure_reason,
      verdict.tokens_used,
      verdict.current_step,
      now,
      finished ? now : null,
      before.id,
    )
    .one();
  if (p.status === "completed" || p.status === "failed") {
    enqueueNotification(
      sql,
      "pipeline_ended",
      {
        pipeline_id: p.id,
        name: p.name,
        status: p.status,
        reason: p.failure_reason,
        total_steps: p.total_steps,
        tokens_used: p.tokens_used,
        token_budget: p.token_budget,
      },
      now,
    );
  }

  const steps = stepRows(sql, p.id);
  const common: AdvanceCommon = {
    pipeline_id: p.id,
    step_index: step.step_index,
    agent_type: step.agent_type,
    pipeline_status: p.status,
    tokens_used: p.tokens_used,
    remaining_budget: remaining(p),
    source_chain: sourceChain(steps),
  };
  const { reasons } = verdict;
  if (verdict.failure_reason === "budget_exhausted") return { ...common, status: "failed", reason: verdict.failure_reason };
  if (verdict.failure_reason === "retries_exhausted") return { ...common, status: "failed", reason: verdict.failure_reason, reasons };
  if (!verdict.passed) return { ...common, status: "quality_gate_failed", reasons, retry_count: step.retry_count, max_retries: p.max_retries };
  if (p.status === "completed") return { ...common, status: "completed", average_quality: summaryOf(p, steps, null).average_quality };
  sql.exec(
    `UPDATE relay_steps SET status = 'in_progress', started_at = ? WHERE pipeline_id = ? AND step_index = ?`,
    now,
    p.id,
    p.current_step,
  );
  return { ...common, status: "advanced", baton: buildBaton(sql, p, issueBaton(sql, p.id, p.current_step, now), breakers) };
}

/**
 * A fresh baton for the pipeline's current step: after a quality gate failure, or to take over
 * a step whose agent went away (its live baton is superseded, so a late advance with it is
 * refused). Each retry counts against the step's `max_retries`.
 */
export function retryRelayStep(sql: SqlStorage, pipelineId: string, stepIndex: number, now: number, breakers: BreakerLookup): RetryAnswer {
  const p = pipelineRow(sql, pipelineId);
  if (stepIndex < 0 || stepIndex >= p.total_steps) {
    throw invalid("step_index", `pipeline ${p.id} has steps 0..${p.total_steps - 1}`);
  }
  if (p.status === "completed") throw conflict(`pipeline ${p.id} is completed; nothing to retry`);
  if (p.status === "failed" && p.failure_reason === "budget_exhausted") {
    throw exhausted(`pipeline ${p.id} used its token budget (${p.tokens_used} of ${p.token_budget}) and failed`);
  }
  if (stepIndex !== p.current_step) {
    throw failedPrecondition(`only the current step (${p.current_step}) of pipeline ${p.id} can be retried, not step ${stepIndex}`);
  }
  const step = stepRow(sql, p.id, stepIndex);
  if (step.retry_count >= p.max_retries) {
    throw failedPrecondition(`step ${stepIndex} of pipeline ${p.id} has used all ${p.max_retries} retries`);
  }
  if (p.status !== "in_progress") {
    throw conflict(`pipeline ${p.id} is ${p.status}; nothing to retry`);
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
  const baton = buildBaton(sql, updated, issueBaton(sql, p.id, stepIndex, now), breakers);
  return { baton, prompt: promptFor(updated, baton), pipeline_status: updated.status };
}
