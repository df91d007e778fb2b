/** How a pipeline reads from outside: its status and steps, the list, and the live baton with its prompt. */
import type { Cursors } from "../kernel/cursor";
import { invalid, notFound } from "../kernel/errors";
import { keysetRows, readPage, scopeOf, viewOf, type KeysetTable, type Page, type View, type Viewed } from "../kernel/page";
import { idList, iso, prefixRange } from "../kernel/rows";
import { windowOf, type ListWindow } from "../kernel/window";
import { agentProfile } from "./agents";
import {
  liveBaton,
  pipelineRow,
  stepRows,
  type Baton,
  type BatonAnswer,
  type BatonRow,
  type BreakerLookup,
  type PipelineBrief,
  type PipelineQuery,
  type PipelineRow,
  type PipelineSummary,
  type RelayStatus,
  type RelayStep,
  type StepRow,
} from "./model";
import { relayPrompt } from "./prompt";

/** What a summary needs of a step: not its summary text, which may be 20,000 characters. */
type StepOutcome = Pick<StepRow, "status" | "quality_score" | "l_score" | "output_entity_id">;

export function sourceChain(steps: Pick<StepRow, "status" | "output_entity_id">[]): string[] {
  return steps.filter((s) => s.status === "completed" && s.output_entity_id !== null).map((s) => s.output_entity_id!);
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
export const remaining = (p: PipelineRow) => Math.max(0, p.token_budget - p.tokens_used);

export function summaryOf(p: PipelineRow, steps: StepOutcome[], batonId: string | null): PipelineSummary {
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

/** Pipelines newest first, a page at a time; pipelines created during a walk are not in it. */
export function listRelayPipelines<V extends View = "full">(
  sql: SqlStorage,
  cursors: Cursors,
  query: PipelineQuery<V>,
): Page<Viewed<V, PipelineBrief, PipelineSummary>> {
  const source: KeysetTable = { table: "pipelines", key: "seq", descending: true, filter: { status: query.status } };
  const page =
    viewOf(query) === "brief"
      ? readPage(cursors, scopeOf(source), query, (after: number | null, count) =>
          keysetRows<BriefRow>(sql, source, BRIEF_COLUMNS, after, count).map(({ seq, id, ...rest }) => ({
            key: seq,
            item: { pipeline_id: id, ...rest },
          })),
        )
      : readPage(cursors, scopeOf(source), query, (after: number | null, count) =>
          summaries(sql, keysetRows<PipelineRow>(sql, source, "*", after, count)),
        );
  // The view chose the reader above, so the items are of the view's type.
  return page as Page<Viewed<V, PipelineBrief, PipelineSummary>>;
}

const BRIEF_COLUMNS = "seq, id, name, status, current_step, total_steps, tokens_used, token_budget";
type BriefRow = Pick<PipelineRow, "seq" | "id" | "name" | "status" | "current_step" | "total_steps" | "tokens_used" | "token_budget">;

/** Full summaries of a page of pipelines: their steps' outcomes and live batons in one query each. */
function summaries(sql: SqlStorage, pipelines: PipelineRow[]): { key: number; item: PipelineSummary }[] {
  if (pipelines.length === 0) return [];
  const ids = idList(pipelines.map((p) => p.id));
  const steps = new Map<string, StepOutcome[]>();
  type OutcomeRow = [string, StepOutcome["status"], number | null, number | null, string | null];
  // The covering index holds these columns: the steps' rows, summaries and all, are never read.
  // Rows as arrays: a page of 100 pipelines is 4,800 steps, and objects per row cost more than SQLite.
  const rows = sql
    .exec(
      `SELECT pipeline_id, status, quality_score, l_score, output_entity_id FROM relay_steps INDEXED BY relay_step_outcomes
       WHERE pipeline_id IN (SELECT value FROM json_each(?)) ORDER BY pipeline_id, step_index`,
      ids,
    )
    .raw<OutcomeRow>();
  for (const [pipelineId, status, quality_score, l_score, output_entity_id] of rows) {
    const list = steps.get(pipelineId) ?? [];
    list.push({ status, quality_score, l_score, output_entity_id });
    steps.set(pipelineId, list);
  }
  const batons = new Map<string, string>();
  for (const b of sql.exec<Pick<BatonRow, "id" | "pipeline_id">>(
    `SELECT id, pipeline_id FROM batons WHERE status = 'live' AND pipeline_id IN (SELECT value FROM json_each(?))`,
    ids,
  )) {
    batons.set(b.pipeline_id, b.id);
  }
  return pipelines.map((p) => ({ key: p.seq, item: summaryOf(p, steps.get(p.id) ?? [], batons.get(p.id) ?? null) }));
}

/** A pipeline as the owner's list of pipelines shows it: no goal, description or step summaries, which may be long. */
export interface PipelineLine extends Pick<PipelineSummary, "pipeline_id" | "name" | "status" | "failure_reason" | "current_step" | "total_steps"> {
  /** Steps that passed their gate. */
  passed_steps: number;
  average_quality: number | null;
  tokens_used: number;
  token_budget: number;
  updated_at: string;
}

/** A window of pipelines, newest first, below `before` (a seq; null: the newest). */
export function pipelineLines(sql: SqlStorage, before: number | null, limit: number): ListWindow<PipelineLine> {
  return windowOf(sql, { table: "pipelines", key: "seq" }, before, limit, (below, count) => {
    const rows = sql
      .exec<Pick<PipelineRow, "seq" | "id" | "name" | "status" | "failure_reason" | "current_step" | "total_steps" | "tokens_used" | "token_budget" | "updated_at">>(
        `SELECT seq, id, name, status, failure_reason, current_step, total_steps, tokens_used, token_budget, updated_at
         FROM pipelines WHERE seq < ? ORDER BY seq DESC LIMIT ?`,
        below,
        count,
      )
      .toArray();
    // The steps' outcomes through the covering index: never a summary text.
    const passed = new Map<string, number[]>();
    for (const step of sql.exec<{ pipeline_id: string; quality_score: number }>(
      `SELECT pipeline_id, quality_score FROM relay_steps INDEXED BY relay_step_outcomes
       WHERE pipeline_id IN (SELECT value FROM json_each(?)) AND status = 'completed'`,
      idList(rows.map((r) => r.id)),
    )) {
      (passed.get(step.pipeline_id) ?? passed.set(step.pipeline_id, []).get(step.pipeline_id)!).push(step.quality_score);
    }
    return rows.map(({ seq, id, updated_at, ...rest }) => {
      const scores = passed.get(id) ?? [];
      const average = scores.length ? round(scores.reduce((a, b) => a + b, 0) / scores.length, 4) : null;
      return { key: seq, item: { pipeline_id: id, ...rest, passed_steps: scores.length, average_quality: average, updated_at: iso(updated_at)! } };
    });
  });
}

/**
 * Everything the agent holding `batonRow` needs, from the stored pipeline and steps, including
 * the breaker of its agent type (a baton whose agent may not execute names the fallback agent).
 * The one place a baton is built.
 */
export function buildBaton(sql: SqlStorage, p: PipelineRow, batonRow: BatonRow, breakers: BreakerLookup): Baton {
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
    breaker: breakers(step.agent_type),
  };
}

export const promptFor = (p: PipelineRow, baton: Baton) =>
  relayPrompt(baton, { pipelineName: p.name, description: p.description, tokenBudget: p.token_budget });

function whyNoBaton(p: PipelineRow): string {
  if (p.status === "completed") return "the pipeline is completed";
  if (p.status === "failed") return `the pipeline failed (${p.failure_reason})`;
  return `step ${p.current_step} failed its quality gate; call retry_relay_step for it`;
}

export function getRelayBaton(sql: SqlStorage, pipelineId: string, breakers: BreakerLookup): BatonAnswer {
  const p = pipelineRow(sql, pipelineId);
  const live = liveBaton(sql, pipelineId);
  if (!live) return { baton: null, prompt: null, pipeline_status: p.status, reason: whyNoBaton(p) };
  const baton = buildBaton(sql, p, live, breakers);
  return { baton, prompt: promptFor(p, baton), pipeline_status: p.status };
}

/** Running pipelines below sequence number `beforeSeq`, newest first: one page of the live pipelines (resources/list). */
export function runningPipelinesPage(sql: SqlStorage, beforeSeq: number | null, limit: number): Pick<PipelineRow, "seq" | "id" | "name">[] {
  return sql
    .exec<Pick<PipelineRow, "seq" | "id" | "name">>(
      `SELECT seq, id, name FROM pipelines WHERE status = 'in_progress' AND seq < ? ORDER BY seq DESC LIMIT ?`,
      beforeSeq ?? Number.MAX_SAFE_INTEGER,
      limit,
    )
    .toArray();
}

/** Up to `limit` pipeline ids starting with `prefix`, in order (a range read of the id index). */
export function pipelineIdsWithPrefix(sql: SqlStorage, prefix: string, limit: number): string[] {
  const [lo, hi] = prefixRange(prefix);
  return sql
    .exec<{ id: string }>(`SELECT id FROM pipelines WHERE id >= ? AND id < ? ORDER BY id LIMIT ?`, lo, hi, limit)
    .toArray()
    .map((r) => r.id);
}

/**
 * Whether the agent of step `stepIndex` should stop waiting for its turn: the live baton is for
 * that step or a later one, or the pipeline has ended. While an earlier step holds the baton, or
 * the step before waits for a retry, it has not come yet. One indexed read.
 */
export function turnReached(sql: SqlStorage, pipelineId: string, stepIndex: number): boolean {
  const row = sql
    .exec<{ status: PipelineRow["status"]; total_steps: number; live_step: number | null }>(
      `SELECT p.status, p.total_steps, b.step_index AS live_step FROM pipelines p
       LEFT JOIN batons b ON b.pipeline_id = p.id AND b.status = 'live' WHERE p.id = ?`,
      pipelineId,
    )
    .toArray()[0];
  if (!row) throw notFound(`pipeline ${pipelineId} does not exist`);
  if (stepIndex >= row.total_steps) throw invalid("step_index", `pipeline ${pipelineId} has steps 0..${row.total_steps - 1}`);
  return row.status !== "in_progress" || (row.live_step !== null && row.live_step >= stepIndex);
}

/** The baton answer once `turnReached`; null before that. */
export function batonOnceReached(sql: SqlStorage, pipelineId: string, stepIndex: number, breakers: BreakerLookup): BatonAnswer | null {
  return turnReached(sql, pipelineId, stepIndex) ? getRelayBaton(sql, pipelineId, breakers) : null;
}
