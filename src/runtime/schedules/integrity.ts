/**
 * What every stored schedule satisfies, whatever wrote it (kernel/integrity.ts explains the shape;
 * an import checks a file against it). A new column of the table gets its rule here.
 */
import { acrossRule, count, id, integer, issuedId, jsonObject, oneLineName, oneOf, rowRule, setExactlyWhen, text, time, type TableRules } from "../kernel/integrity";
import { DomainError } from "../kernel/errors";
import { LIMITS } from "../kernel/limits";
import { ID_PREFIX, OVERLAPS, SCHEDULE_LIMITS, SCHEDULE_STATUSES } from "./model";
import { assertCron, canonicalTimezone } from "./timing";

/** What `check` answers, false where it refuses with a DomainError (the domain's own checks). */
const passes = (check: () => boolean): boolean => {
  try {
    return check();
  } catch (error) {
    if (error instanceof DomainError) return false;
    throw error;
  }
};

export const SCHEDULE_RULES: readonly TableRules[] = [
  {
    table: "schedules",
    columns: {
      seq: id(),
      id: issuedId(ID_PREFIX, 12),
      title: text(LIMITS.title, 1),
      description: text(LIMITS.text),
      goal_id: id(),
      role: oneLineName(SCHEDULE_LIMITS.role),
      priority: integer(LIMITS.priorityMin, LIMITS.priorityMax),
      metadata: jsonObject(LIMITS.metadataBytes, LIMITS.metadataDepth),
      every_seconds: integer(SCHEDULE_LIMITS.everyMinSeconds, SCHEDULE_LIMITS.everyMaxSeconds),
      cron: text(SCHEDULE_LIMITS.cron, 1),
      timezone: text(SCHEDULE_LIMITS.timezone, 1),
      overlap: oneOf(OVERLAPS),
      starts_at: time(),
      ends_at: time(),
      keep_runs: integer(1, SCHEDULE_LIMITS.keepRunsMax),
      status: oneOf(SCHEDULE_STATUSES),
      next_run_at: time(),
      last_run_at: time(),
      last_task_id: id(),
      runs: count(),
      skipped_runs: count(),
      prune_at: time(),
      created_at: time(),
      updated_at: time(),
    },
    rows: [
      rowRule("exactly one of every_seconds and cron is set", (row) => (row.every_seconds === null) !== (row.cron === null)),
      rowRule("timezone is an IANA time zone, named as the schedule was made with it", (row) =>
        passes(() => canonicalTimezone(String(row.timezone)) === row.timezone),
      ),
      rowRule("cron is five fields the cron library reads, in the schedule's timezone", (row) =>
        row.cron === null || passes(() => (assertCron(String(row.cron), String(row.timezone), Number(row.created_at)), true)),
      ),
      setExactlyWhen("next_run_at", "the schedule is active", (row) => row.status === "active"),
      rowRule("last_run_at and last_task_id are set together, once a run was made", (row) => (row.last_run_at === null) === (row.last_task_id === null)),
    ],
    across: [
      acrossRule(
        `at most ${SCHEDULE_LIMITS.live} schedules are not ended`,
        `SELECT seq FROM schedules WHERE status != 'ended' ORDER BY seq LIMIT -1 OFFSET ${SCHEDULE_LIMITS.live}`,
      ),
      acrossRule(
        "a schedule's last task is a task it made",
        `SELECT s.seq FROM schedules s WHERE s.last_task_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = s.last_task_id AND t.schedule_id = s.id)`,
      ),
    ],
  },
];
