/** Circuit breaker tools (docs/breakers.md): one breaker per agent_id, moved by reports, trips and time. */
import { z } from "zod";
import { BREAKER_LIMITS, BREAKER_STATES, CONFIG_RANGES, FAILURE_TYPES } from "../../runtime/breakers/model";
import { mapOutcome } from "../../runtime/kernel/errors";
import type { ToolContext } from "../context";
import { listInput, pageAnswer, pageOutput } from "../lists";
import * as s from "../schemas";
import { defineTool, READ_ONLY, WRITES } from "../tool";

const state = z.enum(BREAKER_STATES);

const setting = (field: keyof typeof CONFIG_RANGES, what: string) => {
  const [min, max] = CONFIG_RANGES[field];
  return z.number().int().min(min).max(max).describe(`${what} (${min}..${max})`);
};

const config = z.object({
  failure_threshold: z.number().describe("failures within window_seconds that open the breaker"),
  window_seconds: z.number(),
  cooldown_seconds: z.number().describe("how long it stays OPEN before the alarm moves it to HALF_OPEN"),
  half_open_max_calls: z.number().describe("probes outstanding at once while HALF_OPEN"),
  success_threshold: z.number().describe("successes while HALF_OPEN that close it"),
  probe_timeout_seconds: z.number().describe("a probe unreported for this long counts as a failure"),
  fallback_agent: z.string().describe("who should get the work while this agent may not execute"),
});

const status = z.object({
  agent_id: z.string(),
  tracked: z.boolean().describe("false: no breaker exists yet for this agent; it is CLOSED under the defaults"),
  state,
  can_execute: z.boolean().describe("whether work may be handed to this agent now (consistent with state)"),
  failure_count: z.number().describe("failures inside the window since the breaker last closed"),
  success_count: z.number().describe("successes since the last state change (HALF_OPEN: toward success_threshold)"),
  total_failures: z.number(),
  total_successes: z.number(),
  trip_count: z.number().describe("times it went to OPEN"),
  last_failure_at: s.timestamp.nullable(),
  last_success_at: s.timestamp.nullable(),
  state_changed_at: s.timestamp.nullable(),
  opened_at: s.timestamp.nullable().describe("when it last went to OPEN"),
  cooldown_until: s.timestamp.nullable().describe("while OPEN: when it becomes HALF_OPEN by itself"),
  half_open_at: s.timestamp.nullable().describe("when it last went to HALF_OPEN"),
  retry_after_seconds: z.number().describe("0 if it can execute; else seconds until the cooldown ends or a probe slot frees"),
  probes_in_flight: z.number(),
  probes: z.array(z.object({ task_id: z.number(), taken_at: s.timestamp, expires_at: s.timestamp })),
  config,
  fallback_agent: z.string(),
  recent_failures: z
    .array(z.object({ type: z.enum(FAILURE_TYPES), message: z.string(), at: s.timestamp }))
    .describe(`newest first, at most ${BREAKER_LIMITS.recent}; messages kept up to ${BREAKER_LIMITS.messageKept} characters`),
  recent_transitions: z
    .array(z.object({ from: state, to: state, reason: z.string(), at: s.timestamp }))
    .describe(`newest first, at most ${BREAKER_LIMITS.recent}`),
});

const change = z.object({ agent_id: z.string(), old_state: state, new_state: state, changed: z.boolean(), breaker: status });

const agentId = s.agentId.describe("the agent whose breaker this is (1..200 chars)");

const getStatus = defineTool({
  name: "circuit_breaker_status",
  title: "Circuit breaker status",
  description:
    "The breaker of one agent: state (CLOSED = work normally, OPEN = do not give it work, HALF_OPEN = a few " +
    "probe calls allowed), can_execute, counters, when it opened and when the cooldown ends, probes in flight, " +
    "recent failures and transitions. An agent without a breaker is reported CLOSED (tracked: false); reading " +
    "never creates one.",
  input: z.strictObject({ agent_id: agentId }),
  output: status,
  annotations: READ_ONLY,
  run: (args, { runtime }: ToolContext) => runtime.breakerStatus(args.agent_id),
});

/** A breaker in a list: brief (zeros left out), or with view "full" its status. */
const listedBreaker = status.partial().required({ agent_id: true, state: true, can_execute: true });

const list = defineTool({
  name: "circuit_breaker_list",
  title: "List circuit breakers",
  description:
    `Breakers by agent_id, and the ids of the OPEN and HALF_OPEN ones (at most ${BREAKER_LIMITS.listedIds} each; *_count counts all). ` +
    `Brief items; view "full" for the status (messages cut to ${BREAKER_LIMITS.listedText} characters).`,
  input: z.strictObject(listInput),
  output: z.object({
    total_breakers: z.number(),
    open_circuits: z.array(z.string()),
    open_count: z.number(),
    half_open_circuits: z.array(z.string()),
    half_open_count: z.number(),
    breakers: z.array(listedBreaker),
    ...pageOutput,
  }),
  annotations: READ_ONLY,
  run: async (args, { runtime }: ToolContext) =>
    mapOutcome(await runtime.listBreakers(args), ({ items, next_cursor, truncated, ...ids }) => ({
      ...ids,
      ...pageAnswer("breakers", { items, next_cursor, truncated }),
    })),
});

const trip = defineTool({
  name: "circuit_breaker_trip",
  title: "Trip circuit breaker",
  description:
    "Open an agent's breaker now, for a full cooldown (restarts the cooldown if already OPEN): get_next_task " +
    "with that agent_id then hands it nothing and names the fallback agent. When the cooldown ends it becomes " +
    "HALF_OPEN by itself.",
  input: z.strictObject({
    agent_id: agentId,
    reason: z.string().max(BREAKER_LIMITS.reason).optional().describe(`why (up to ${BREAKER_LIMITS.reason} chars), kept in the transition log`),
  }),
  output: change,
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.tripBreaker(args.agent_id, args.reason),
});

const reset = defineTool({
  name: "circuit_breaker_reset",
  title: "Reset circuit breaker",
  description:
    "Close an agent's breaker now: drops outstanding probes and starts a fresh failure window; settings, totals " +
    "and history are kept. Does nothing for an agent without a breaker.",
  input: z.strictObject({ agent_id: agentId }),
  output: change,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  run: (args, { runtime }: ToolContext) => runtime.resetBreaker(args.agent_id),
});

const configure = defineTool({
  name: "circuit_breaker_configure",
  title: "Configure circuit breaker",
  description:
    "Change some settings of an agent's breaker (creating it if needed); omitted fields keep their value. " +
    "Defaults: failure_threshold 5 within window_seconds 60, cooldown_seconds 300, half_open_max_calls 3, " +
    "success_threshold 2, probe_timeout_seconds 60, fallback_agent \"generalist\". New values apply from the " +
    "next event (a running cooldown keeps its end). Returns the whole configuration.",
  input: z.strictObject({
    agent_id: agentId,
    failure_threshold: setting("failure_threshold", "failures within the window that open the breaker").optional(),
    window_seconds: setting("window_seconds", "the failure window in seconds").optional(),
    cooldown_seconds: setting("cooldown_seconds", "seconds OPEN before HALF_OPEN").optional(),
    half_open_max_calls: setting("half_open_max_calls", "probes outstanding at once while HALF_OPEN").optional(),
    success_threshold: setting("success_threshold", "successes while HALF_OPEN that close it").optional(),
    probe_timeout_seconds: setting("probe_timeout_seconds", "seconds a probe may stay unreported before it counts as a failure").optional(),
    fallback_agent: s.agentId.optional().describe("the agent to route work to meanwhile (1..200 chars)"),
  }),
  output: config,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: ({ agent_id, ...patch }, { runtime }: ToolContext) => runtime.configureBreaker(agent_id, patch),
});

const recordFailure = defineTool({
  name: "circuit_breaker_record_failure",
  title: "Record agent failure",
  description:
    "Report that a call by this agent failed. CLOSED: failure_threshold failures within window_seconds open " +
    "the breaker (tripped: true). HALF_OPEN: any failure re-opens it for a fresh cooldown. OPEN: counted only. " +
    "If you got a task as a probe (get_next_task returned probe_expires_at), this resolves it.",
  input: z.strictObject({
    agent_id: agentId,
    failure_type: z.enum(FAILURE_TYPES),
    error_message: s.text.describe("what went wrong (up to 20,000 chars)"),
  }),
  output: z.object({ old_state: state, new_state: state, tripped: z.boolean(), breaker: status }),
  annotations: WRITES,
  run: ({ agent_id, ...failure }, { runtime }: ToolContext) => runtime.recordBreakerFailure(agent_id, failure),
});

const recordSuccess = defineTool({
  name: "circuit_breaker_record_success",
  title: "Record agent success",
  description:
    "Report that a call by this agent succeeded. HALF_OPEN: resolves a probe, and success_threshold successes " +
    "close the breaker (recovered: true). Report after every probe task, or its probe_timeout_seconds " +
    "deadline counts it as a failure.",
  input: z.strictObject({ agent_id: agentId }),
  output: z.object({ old_state: state, new_state: state, recovered: z.boolean(), breaker: status }),
  annotations: WRITES,
  run: (args, { runtime }: ToolContext) => runtime.recordBreakerSuccess(args.agent_id),
});

export const breakerTools = [getStatus, list, trip, reset, configure, recordFailure, recordSuccess];
