/**
 * What every stored breaker and its failures, transitions and probes satisfy, whatever wrote them
 * (kernel/integrity.ts explains the shape; an import checks a file against it): a cooldown only
 * while OPEN, probes only while HALF_OPEN, settings within their ranges, logs within their bounds.
 */
import { acrossRule, count, id, integer, oneLineName, oneOf, rowRule, setExactlyWhen, text, time, type TableRules } from "../kernel/integrity";
import { LIMITS } from "../kernel/limits";
import { BREAKER_LIMITS, BREAKER_STATES, CONFIG_RANGES, FAILURE_TYPES } from "./model";

const agentId = () => oneLineName(LIMITS.agentId);
const setting = (name: keyof typeof CONFIG_RANGES) => integer(CONFIG_RANGES[name][0], CONFIG_RANGES[name][1]);
/** Failures kept per breaker: max(failure_threshold, 10), whatever the threshold was when they came. */
const FAILURES_KEPT = Math.max(CONFIG_RANGES.failure_threshold[1], BREAKER_LIMITS.recent);
const ofAKnownBreaker = (table: string) =>
  acrossRule("belongs to an agent that has a breaker", `SELECT id FROM ${table} x WHERE NOT EXISTS (SELECT 1 FROM breakers b WHERE b.agent_id = x.agent_id)`);

export const BREAKER_RULES: readonly TableRules[] = [
  {
    table: "breakers",
    columns: {
      agent_id: agentId(),
      state: oneOf(BREAKER_STATES),
      failure_threshold: setting("failure_threshold"),
      window_seconds: setting("window_seconds"),
      cooldown_seconds: setting("cooldown_seconds"),
      half_open_max_calls: setting("half_open_max_calls"),
      success_threshold: setting("success_threshold"),
      probe_timeout_seconds: setting("probe_timeout_seconds"),
      fallback_agent: agentId(),
      success_count: count(),
      total_failures: count(),
      total_successes: count(),
      trip_count: count(),
      failures_since: time(),
      last_failure_at: time(),
      last_success_at: time(),
      state_changed_at: time(),
      opened_at: time(),
      half_open_at: time(),
      cooldown_until: time(),
      created_at: time(),
      updated_at: time(),
    },
    rows: [
      setExactlyWhen("cooldown_until", "the breaker is OPEN", (row) => row.state === "OPEN"),
      rowRule("an OPEN breaker has opened_at", (row) => row.state !== "OPEN" || row.opened_at !== null),
      rowRule("a HALF_OPEN breaker has half_open_at", (row) => row.state !== "HALF_OPEN" || row.half_open_at !== null),
    ],
  },
  {
    table: "breaker_failures",
    columns: {
      id: id(),
      agent_id: agentId(),
      failure_type: oneOf(FAILURE_TYPES),
      // Kept up to messageKept characters, and the ellipsis that says it was cut.
      message: text(BREAKER_LIMITS.messageKept + 1),
      at: time(),
    },
    across: [
      ofAKnownBreaker("breaker_failures"),
      acrossRule(
        `a breaker keeps at most its newest ${FAILURES_KEPT} failures`,
        `SELECT max(id) AS id FROM breaker_failures GROUP BY agent_id HAVING count(*) > ${FAILURES_KEPT}`,
      ),
    ],
  },
  {
    table: "breaker_events",
    columns: {
      id: id(),
      agent_id: agentId(),
      from_state: oneOf(BREAKER_STATES),
      to_state: oneOf(BREAKER_STATES),
      reason: text(LIMITS.text),
      at: time(),
    },
    across: [
      ofAKnownBreaker("breaker_events"),
      acrossRule(
        `a breaker keeps at most its newest ${BREAKER_LIMITS.eventsKept} transitions`,
        `SELECT max(id) AS id FROM breaker_events GROUP BY agent_id HAVING count(*) > ${BREAKER_LIMITS.eventsKept}`,
      ),
    ],
  },
  {
    table: "breaker_probes",
    columns: { id: id(), agent_id: agentId(), task_id: id(), taken_at: time(), expires_at: time() },
    across: [
      acrossRule(
        "a probe is out only while its breaker is HALF_OPEN",
        `SELECT id FROM breaker_probes x WHERE NOT EXISTS (SELECT 1 FROM breakers b WHERE b.agent_id = x.agent_id AND b.state = 'HALF_OPEN')`,
      ),
    ],
  },
];
