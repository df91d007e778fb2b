/**
 * Relay pipeline tools (docs/relay.md): create a pipeline, pick up the live baton, advance it through
 * the quality gate, retry a failed step, read status. The agent loop is
 * get_relay_baton → do the work → advance_relay; on quality_gate_failed, retry_relay_step.
 */
import { z } from "zod";
import { BREAKER_STATES } from "../../runtime/breakers/model";
import { mapOutcome } from "../../runtime/kernel/errors";
import { LIMITS } from "../../runtime/kernel/limits";
import {
  FAILURE_REASONS,
  PIPELINE_STATUSES,
  STEP_STATUSES,
  type Baton,
  type BatonAnswer,
  type PipelineSummary,
  type RelayStep,
} from "../../runtime/relay/model";
import type { ToolContext } from "../context";
import { listInput, pageAnswer, pageOutput } from "../lists";
import * as s from "../schemas";
import { shape } from "../shapes";
import { defineTool, READ_ONLY, WRITES } from "../tool";
import { resourceLink } from "../uris";

const pipelineId = s.issuedId;
const batonId = s.issuedId;
const score = z.number().min(0).max(1);
const pipelineStatus = z.enum(PIPELINE_STATUSES);
/** A role name shown in prompts, and the agent_id of its breaker. */
const agentType = s.oneLineName;

/** The live baton (docs/relay.md); its `breaker` is the gate of the step's agent type. */
const baton = shape<Baton>()(
  z.object({
    baton_id: z.string(),
    pipeline_id: z.string(),
    step_index: z.number(),
    agent_type: z.string(),
    total_steps: z.number(),
    goal: z.string(),
    task: z.string(),
    expected_output: z.string(),
    input: z.object({
      summary: z.string().nullable(),
      output_entity_id: z.string().nullable(),
      from_step: z.number().nullable(),
      agent_type: z.string().nullable(),
    }),
    quality_threshold: z.number(),
    l_score_threshold: z.number(),
    remaining_budget: z.number(),
    source_chain: z.array(z.string()),
    retry_count: z.number(),
    max_retries: z.number(),
    issued_at: s.timestamp,
    breaker: z.object({
      state: z.enum(BREAKER_STATES),
      can_execute: z.boolean(),
      fallback_agent: z.string(),
      retry_after_seconds: z.number(),
    }),
  }),
  "get_relay_baton",
);

const step = shape<RelayStep>()(
  z.object({
    index: z.number(),
    agent_type: z.string(),
    status: z.enum(STEP_STATUSES),
    quality_threshold: z.number(),
    quality_score: z.number().nullable(),
    l_score: z.number().nullable(),
    tokens_used: z.number(),
    retry_count: z.number(),
    output_summary: z.string().nullable(),
    output_entity_id: z.string().nullable(),
    started_at: s.timestamp.nullable(),
    finished_at: s.timestamp.nullable(),
  }),
);

const pipelineSummary = shape<PipelineSummary>()(
  z.object({
    pipeline_id: z.string(),
    name: z.string(),
    goal: z.string(),
    description: z.string(),
    status: pipelineStatus,
    failure_reason: z.enum(FAILURE_REASONS).nullable(),
    current_step: z.number(),
    total_steps: z.number(),
    progress_percent: z.number(),
    quality_scores: z.array(z.number()),
    l_scores: z.array(z.number()),
    average_quality: z.number().nullable(),
    tokens_used: z.number(),
    token_budget: z.number(),
    remaining_budget: z.number(),
    source_chain: z.array(z.string()),
    baton_id: z.string().nullable(),
    created_at: s.timestamp,
    updated_at: s.timestamp,
    finished_at: s.timestamp.nullable(),
  }),
  "get_relay_status",
);

const batonAnswer = shape<BatonAnswer>()(
  z.object({
    baton: baton.nullable(),
    prompt: z.string().nullable(),
    pipeline_status: pipelineStatus,
    reason: z.string().optional(),
  }),
);

const createPipeline = defineTool({
  name: "create_relay_pipeline",
  description:
    "Start a relay: agents of agent_types work on goal in turn, passing one baton; the first is " +
    "live at once.",
  input: z.strictObject({
    name: s.title,
    goal: s.text.min(1),
    agent_types: z.array(agentType).min(1).max(LIMITS.relayAgents).describe("roles in running order"),
    description: s.text.optional(),
    token_budget: z.number().int().min(1).max(LIMITS.tokenBudgetMax).default(LIMITS.tokenBudgetDefault).describe("for all steps together"),
  }),
  output: z.object({
    pipeline_id: z.string(),
    name: z.string(),
    goal: z.string(),
    description: z.string(),
    agent_count: z.number(),
    agents: z.array(z.string()),
    token_budget: z.number(),
    status: pipelineStatus,
    current_step: z.number(),
    baton,
  }),
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.createRelayPipeline(args),
  link: (created) => resourceLink("pipeline", created.pipeline_id),
});

const getBaton = defineTool({
  name: "get_relay_baton",
  description:
    "The live baton and a ready prompt for the agent whose turn it is; do the work, then " +
    "advance_relay with its baton_id.",
  input: z.strictObject({
    pipeline_id: pipelineId,
    step_index: z.number().int().min(0).optional().describe("yours: with wait_seconds, wait for its turn"),
    wait_seconds: s.waitSeconds,
  }),
  output: batonAnswer,
  annotations: READ_ONLY,
  run: (args, { runtime }: ToolContext) =>
    runtime.getRelayBaton(args.pipeline_id, { step_index: args.step_index, wait_seconds: args.wait_seconds }),
});

const advance = defineTool({
  name: "advance_relay",
  description:
    "Report your step and pass the baton; status is advanced, completed, quality_gate_failed (then " +
    "retry_relay_step) or failed.",
  input: z.strictObject({
    pipeline_id: pipelineId,
    quality_score: score.describe("how well the output meets expected_output"),
    l_score: score.describe("how well it is grounded in its sources"),
    tokens_used: z.number().int().min(0).max(LIMITS.tokenBudgetMax),
    output_entity_id: z.string().min(1).max(LIMITS.entityId).optional().describe("where your full output is kept"),
    output_summary: s.text.optional(),
    baton_id: batonId.optional().describe("makes a retried call safe; without it the live baton advances"),
  }),
  output: z.object({
    status: z.enum(["advanced", "completed", "quality_gate_failed", "failed"]),
    pipeline_id: z.string(),
    step_index: z.number(),
    agent_type: z.string(),
    pipeline_status: pipelineStatus,
    tokens_used: z.number(),
    remaining_budget: z.number(),
    source_chain: z.array(z.string()),
    baton: baton.optional(),
    average_quality: z.number().nullable().optional(),
    reasons: z.array(z.string()).optional(),
    retry_count: z.number().optional(),
    max_retries: z.number().optional(),
    reason: z.enum(FAILURE_REASONS).optional(),
  }),
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.advanceRelay(args),
});

const retry = defineTool({
  name: "retry_relay_step",
  description:
    "A fresh baton for the current step, after quality_gate_failed or to take over from an agent " +
    "that went away.",
  input: z.strictObject({
    pipeline_id: pipelineId,
    step_index: z.number().int().min(0),
  }),
  output: batonAnswer.extend({ baton, prompt: z.string() }),
  // Supersedes a live baton: an agent still working with it can no longer advance.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.retryRelayStep(args.pipeline_id, args.step_index),
});

const getStatus = defineTool({
  name: "get_relay_status",
  description: "A pipeline's status, progress, scores, tokens against its budget, and every step.",
  input: z.strictObject({ pipeline_id: pipelineId }),
  output: pipelineSummary.extend({ steps: z.array(step) }),
  annotations: READ_ONLY,
  run: (args, { runtime }: ToolContext) => runtime.getRelayStatus(args.pipeline_id),
});

/** A pipeline in a list: brief, or with view "full" as in get_relay_status without the steps. */
const listedPipeline = pipelineSummary.partial().required({
  pipeline_id: true,
  name: true,
  status: true,
  current_step: true,
  total_steps: true,
  tokens_used: true,
  token_budget: true,
});

const listPipelines = defineTool({
  name: "list_relay_pipelines",
  description: 'Relay pipelines, newest first, optionally of one status; brief items unless view is "full".',
  input: z.strictObject({ status: pipelineStatus.optional(), ...listInput }),
  output: z.object({ pipelines: z.array(listedPipeline), ...pageOutput }),
  annotations: READ_ONLY,
  run: async (args, { runtime }: ToolContext) => mapOutcome(await runtime.listRelayPipelines(args), (page) => pageAnswer("pipelines", page)),
});

export const relayTools = [createPipeline, getBaton, advance, retry, getStatus, listPipelines];
