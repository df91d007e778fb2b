/**
 * What every stored pipeline, step and baton satisfies, whatever wrote it (kernel/integrity.ts
 * explains the shape; an import checks a file against it): the steps are 0..total_steps−1, the
 * steps before the current one passed and those after it wait, and a baton is live only for the
 * current step of a running pipeline.
 */
import {
  acrossRule,
  derived,
  id,
  integer,
  issuedId,
  number,
  oneLineName,
  oneOf,
  rowRule,
  setExactlyWhen,
  text,
  time,
  type Row,
  type TableRules,
} from "../kernel/integrity";
import { LIMITS } from "../kernel/limits";
import { recomputeDerived } from "./derived";
import { BATON_STATUSES, FAILURE_REASONS, PIPELINE_STATUSES, STEP_STATUSES } from "./model";

const pipelineId = () => issuedId("rp_", 12);
const stepIndex = () => integer(0, LIMITS.relayAgents - 1);
/** Retries a pipeline may allow per step (MAX_RETRIES today; a pipeline keeps the rule it was created under). */
const RETRIES = 100;
/** The advance that goes beyond the budget is still recorded, so a total may pass it by one report. */
const TOKENS = 2 * LIMITS.tokenBudgetMax;

const stepsAre = (statuses: string[], columns: string[]) => (row: Row) => !statuses.includes(String(row.status)) || columns.every((c) => row[c] !== null);
const stepsLack = (statuses: string[], columns: string[]) => (row: Row) => !statuses.includes(String(row.status)) || columns.every((c) => row[c] === null);

export const RELAY_RULES: readonly TableRules[] = [
  {
    table: "pipelines",
    columns: {
      seq: id(),
      id: pipelineId(),
      name: text(LIMITS.title, 1),
      goal: text(LIMITS.text, 1),
      description: text(LIMITS.text),
      status: oneOf(PIPELINE_STATUSES),
      current_step: integer(0, LIMITS.relayAgents),
      total_steps: integer(1, LIMITS.relayAgents),
      token_budget: integer(1, LIMITS.tokenBudgetMax),
      tokens_used: derived(),
      l_score_threshold: number(0, 1),
      max_retries: integer(0, RETRIES),
      failure_reason: oneOf(FAILURE_REASONS),
      created_at: time(),
      updated_at: time(),
      finished_at: time(),
    },
    rows: [
      setExactlyWhen("failure_reason", "the pipeline failed", (row) => row.status === "failed"),
      setExactlyWhen("finished_at", "the pipeline is no longer in_progress", (row) => row.status !== "in_progress"),
      rowRule("current_step is total_steps once completed, and one of the steps before", (row) =>
        row.status === "completed" ? row.current_step === row.total_steps : Number(row.current_step) < Number(row.total_steps),
      ),
    ],
    across: [
      acrossRule(
        "a pipeline has exactly the steps 0..total_steps−1",
        `SELECT seq FROM pipelines p WHERE total_steps != (SELECT count(*) FROM relay_steps s WHERE s.pipeline_id = p.id)
           OR EXISTS (SELECT 1 FROM relay_steps s WHERE s.pipeline_id = p.id AND s.step_index >= p.total_steps)`,
      ),
      acrossRule(
        "a running pipeline's current step holds the live baton, or failed and waits for a retry",
        `SELECT p.seq FROM pipelines p JOIN relay_steps s ON s.pipeline_id = p.id AND s.step_index = p.current_step
         WHERE p.status = 'in_progress' AND NOT (
           (s.status = 'in_progress' AND EXISTS (SELECT 1 FROM batons b WHERE b.pipeline_id = p.id AND b.status = 'live'))
           OR (s.status = 'failed' AND NOT EXISTS (SELECT 1 FROM batons b WHERE b.pipeline_id = p.id AND b.status = 'live')))`,
      ),
      acrossRule(
        "a failed pipeline's current step failed",
        `SELECT p.seq FROM pipelines p JOIN relay_steps s ON s.pipeline_id = p.id AND s.step_index = p.current_step
         WHERE p.status = 'failed' AND s.status != 'failed'`,
      ),
    ],
    derived: { columns: ["tokens_used"], says: "the sum of its steps' tokens_used", recompute: recomputeDerived },
  },
  {
    table: "relay_steps",
    columns: {
      pipeline_id: pipelineId(),
      step_index: stepIndex(),
      agent_type: oneLineName(LIMITS.agentId),
      status: oneOf(STEP_STATUSES),
      quality_threshold: number(0, 1),
      quality_score: number(0, 1),
      l_score: number(0, 1),
      tokens_used: integer(0, TOKENS),
      retry_count: integer(0, RETRIES),
      output_summary: text(LIMITS.text),
      output_entity_id: text(LIMITS.entityId, 1),
      started_at: time(),
      finished_at: time(),
    },
    rows: [
      rowRule("a pending step has not started and has no report", stepsLack(["pending"], ["started_at", "finished_at", "quality_score", "l_score"])),
      rowRule("an in_progress step has started and not finished", (row) => stepsAre(["in_progress"], ["started_at"])(row) && stepsLack(["in_progress"], ["finished_at"])(row)),
      rowRule("a completed or failed step has finished with its scores", stepsAre(["completed", "failed"], ["finished_at", "quality_score", "l_score"])),
    ],
    across: [
      acrossRule(
        "the steps before a pipeline's current step passed, and the steps after it wait",
        `SELECT s.pipeline_id, s.step_index FROM relay_steps s JOIN pipelines p ON p.id = s.pipeline_id
         WHERE (s.step_index < p.current_step AND s.status != 'completed') OR (s.step_index > p.current_step AND s.status != 'pending')`,
      ),
      acrossRule(
        "a step is retried at most its pipeline's max_retries times",
        `SELECT s.pipeline_id, s.step_index FROM relay_steps s JOIN pipelines p ON p.id = s.pipeline_id WHERE s.retry_count > p.max_retries`,
      ),
    ],
  },
  {
    table: "batons",
    columns: {
      id: issuedId("bt_", 16),
      pipeline_id: pipelineId(),
      step_index: stepIndex(),
      status: oneOf(BATON_STATUSES),
      created_at: time(),
      closed_at: time(),
    },
    rows: [setExactlyWhen("closed_at", "the baton is no longer live", (row) => row.status !== "live")],
    across: [
      acrossRule(
        "a baton is for one of its pipeline's steps",
        `SELECT b.id FROM batons b JOIN pipelines p ON p.id = b.pipeline_id WHERE b.step_index >= p.total_steps`,
      ),
      acrossRule(
        "a baton is live only in a running pipeline, for its current step",
        `SELECT b.id FROM batons b JOIN pipelines p ON p.id = b.pipeline_id
         WHERE b.status = 'live' AND (p.status != 'in_progress' OR b.step_index != p.current_step)`,
      ),
    ],
  },
];
