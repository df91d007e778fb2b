/** Circuit breaker tools (docs/breakers.md): one breaker per agent_id, moved by reports, trips and time. */
import { z } from "zod";
import {
  BREAKER_LIMITS,
  BREAKER_STATES,
  CONFIG_RANGES,
  FAILURE_TYPES,
  type BreakerConfig,
  type BreakerStatus,
} from "../../runtime/breakers/model";
import { mapOutcome } from "../../runtime/kernel/errors";
import { asAgent, ownerOnly } from "../caller";
import type { ToolContext } from "../context";
import { listInput, pageAnswer, pageOutput } from "../lists";
import * as s from "../schemas";
import { shape } from "../shapes";
import { defineTool, READ_ONLY, WRITES } from "../tool";

const state = z.enum(BREAKER_STATES);

const setting = (field: keyof typeof CONFIG_RANGES) => {
  const [min, max] = CONFIG_RANGES[field];
  return z.number().int().min(min).max(max);
};

const config = shape<BreakerConfig>()(
  z.object({
    failure_threshold: z.number(),
    window_seconds: z.number(),
    cooldown_seconds: z.number(),
    half_open_max_calls: z.number(),
    success_threshold: z.number(),
    probe_timeout_seconds: z.number(),
    fallback_agent: z.string(),
  }),
);

/** One breaker's status (docs/breakers.md); embedded whole in the answer of every breaker write. */
const status = shape<BreakerStatus>()(
  z.object({
    agent_id: z.string(),
    tracked: z.boolean(),
    state,
    can_execute: z.boolean(),
    failure_count: z.number(),
    success_count: z.number(),
    total_failures: z.number(),
    total_successes: z.number(),
    trip_count: z.number(),
    last_failure_at: s.timestamp.nullable(),
    last_success_at: s.timestamp.nullable(),
    state_changed_at: s.timestamp.nullable(),
    opened_at: s.timestamp.nullable(),
    cooldown_until: s.timestamp.nullable(),
    half_open_at: s.timestamp.nullable(),
    retry_after_seconds: z.number(),
    probes_in_flight: z.number(),
    probes: z.array(z.object({ task_id: z.number(), taken_at: s.timestamp, expires_at: s.timestamp })),
    config,
    fallback_agent: z.string(),
    recent_failures: z.array(z.object({ type: z.enum(FAILURE_TYPES), message: z.string(), at: s.timestamp })),
    recent_transitions: z.array(z.object({ from: state, to: state, reason: z.string(), at: s.timestamp })),
  }),
  "circuit_breaker_status",
);

const change = z.object({ agent_id: z.string(), old_state: state, new_state: state, changed: z.boolean(), breaker: status });

const agentId = s.agentId;

const getStatus = defineTool({
  name: "circuit_breaker_status",
  description:
    "An agent's breaker: state, whether it may take work, counters, cooldown and recent failures; " +
    "reading never creates one.",
  input: z.strictObject({ agent_id: agentId }),
  output: status,
  annotations: READ_ONLY,
  run: (args, { runtime }: ToolContext) => runtime.breakerStatus(args.agent_id),
});

/** A breaker in a list: brief (zeros left out), or with view "full" its status. */
const listedBreaker = status.partial().required({ agent_id: true, state: true, can_execute: true });

const list = defineTool({
  name: "circuit_breaker_list",
  description: `Breakers by agent_id, and the ids of the OPEN and HALF_OPEN ones (at most ${BREAKER_LIMITS.listedIds} each); brief items unless view is "full".`,
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
  description: "Open an agent's breaker by hand for a full cooldown.",
  input: z.strictObject({
    agent_id: agentId,
    reason: z.string().max(BREAKER_LIMITS.reason).optional(),
  }),
  output: change,
  annotations: WRITES,
  // A keyed agent may take itself out of work, never another agent.
  run: (args, { runtime, caller }: ToolContext) => {
    const agent = asAgent(caller, args.agent_id);
    return agent.ok ? runtime.tripBreaker(agent.value, args.reason) : agent;
  },
});

const reset = defineTool({
  name: "circuit_breaker_reset",
  description: "Close an agent's breaker by hand; settings and history stay.",
  input: z.strictObject({ agent_id: agentId }),
  output: change,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  // The owner's: a misbehaving agent must not close its own breaker, or anyone's.
  run: (args, { runtime, caller }: ToolContext) => {
    const allowed = ownerOnly(caller, "circuit_breaker_reset");
    return allowed.ok ? runtime.resetBreaker(args.agent_id) : allowed;
  },
});

const configure = defineTool({
  name: "circuit_breaker_configure",
  description: "Change some of an agent's breaker settings; omitted ones keep their value.",
  input: z.strictObject({
    agent_id: agentId,
    failure_threshold: setting("failure_threshold").optional(),
    window_seconds: setting("window_seconds").optional(),
    cooldown_seconds: setting("cooldown_seconds").optional(),
    half_open_max_calls: setting("half_open_max_calls").optional(),
    success_threshold: setting("success_threshold").optional(),
    probe_timeout_seconds: setting("probe_timeout_seconds").optional(),
    fallback_agent: s.agentId.optional(),
  }),
  output: config,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  // The owner's: a raised threshold or a zero cooldown would be a reset by other means.
  run: ({ agent_id, ...patch }, { runtime, caller }: ToolContext) => {
    const allowed = ownerOnly(caller, "circuit_breaker_configure");
    return allowed.ok ? runtime.configureBreaker(agent_id, patch) : allowed;
  },
});

const recordFailure = defineTool({
  name: "circuit_breaker_record_failure",
  description: "Report a failed call by an agent; enough failures within the window open its breaker (tripped).",
  input: z.strictObject({
    agent_id: agentId,
    failure_type: z.enum(FAILURE_TYPES),
    error_message: s.text,
  }),
  output: z.object({ old_state: state, new_state: state, tripped: z.boolean(), breaker: status }),
  annotations: WRITES,
  run: ({ agent_id, ...failure }, { runtime, caller }: ToolContext) => {
    const agent = asAgent(caller, agent_id);
    return agent.ok ? runtime.recordBreakerFailure(agent.value, failure) : agent;
  },
});

const recordSuccess = defineTool({
  name: "circuit_breaker_record_success",
  description: "Report a successful call by an agent; while HALF_OPEN, enough successes close its breaker (recovered).",
  input: z.strictObject({ agent_id: agentId }),
  output: z.object({ old_state: state, new_state: state, recovered: z.boolean(), breaker: status }),
  annotations: WRITES,
  run: (args, { runtime, caller }: ToolContext) => {
    const agent = asAgent(caller, args.agent_id);
    return agent.ok ? runtime.recordBreakerSuccess(agent.value) : agent;
  },
});

export const breakerTools = [getStatus, list, trip, reset, configure, recordFailure, recordSuccess];
