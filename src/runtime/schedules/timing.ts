/**
 * When a schedule's runs fall due (docs/schedules.md, "When runs happen"). Two rules:
 *   - every_seconds: due at starts_at + k × every_seconds (k ≥ 0), or, without starts_at, at the
 *     creation time + k × every_seconds (k ≥ 1): elapsed time, the same in every time zone;
 *   - cron: a five-field expression in an IANA time zone, read and matched by `croner` (daylight
 *     saving included: a wall-clock time that does not exist runs at the first time after the
 *     gap, one that occurs twice runs once; croner's docs have the details).
 * Due times are never before starts_at and always before ends_at. The next run is always the
 * first due time *after now*: runs missed while the object was down or the schedule paused are
 * not made up for, which is what keeps a late alarm to at most one late run.
 */
import { Cron } from "croner";
import { invalid } from "../kernel/errors";
import { SCHEDULE_LIMITS } from "./model";

export interface Rule {
  every_seconds: number | null;
  cron: string | null;
  timezone: string;
  starts_at: number | null;
  ends_at: number | null;
  /** When the schedule was made: where every_seconds counts from without starts_at. */
  created_at: number;
}

/** The first due time strictly after `after` (ms), or null when none is left before ends_at. */
export function nextRunAfter(rule: Rule, after: number): number | null {
  const from = Math.max(after + 1, rule.starts_at ?? -Infinity);
  const due = rule.every_seconds !== null ? intervalFrom(rule, rule.every_seconds * 1000, from) : cronFrom(rule.cron!, rule.timezone, from);
  if (due === null || (rule.ends_at !== null && due >= rule.ends_at)) return null;
  return due;
}

/** The first multiple of `step` after the anchor that is at or after `from`. */
function intervalFrom(rule: Rule, step: number, from: number): number {
  const anchor = rule.starts_at ?? rule.created_at;
  if (from <= anchor) return anchor;
  return anchor + Math.ceil((from - anchor) / step) * step;
}

/** The first time at or after `from` the expression matches (croner counts in whole seconds). */
function cronFrom(expression: string, timezone: string, from: number): number | null {
  return parsedCron(expression, timezone).nextRun(new Date(from - 1))?.getTime() ?? null;
}

/**
 * Parsed expressions, per isolate: parsing costs as much as finding a next run, and the alarm
 * asks for the same few expressions again and again. Bounded by the schedules one user may have.
 */
const parsed = new Map<string, Cron>();

function parsedCron(expression: string, timezone: string): Cron {
  const key = `${timezone} ${expression}`;
  let cron = parsed.get(key);
  if (!cron) {
    if (parsed.size >= SCHEDULE_LIMITS.live) parsed.clear();
    // No function: croner only parses and matches, it schedules nothing. UTC as an offset of 0
    // is the same zone without the Intl round trips (a third of the time).
    cron = new Cron(expression, { mode: "5-part", ...(timezone === "UTC" ? { utcOffset: 0 } : { timezone }) });
    parsed.set(key, cron);
  }
  return cron;
}

/** The canonical name of an IANA time zone (`europe/berlin` → `Europe/Berlin`), or invalid_argument. */
export function canonicalTimezone(zone: string): string {
  const refused = () => invalid("timezone", `${JSON.stringify(zone)} is not an IANA time zone (e.g. "Europe/Berlin", "UTC")`);
  // A name, not a UTC offset: an offset has no daylight saving, which is what a zone is for.
  if (zone.length > SCHEDULE_LIMITS.timezone || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone)) throw refused();
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw refused();
  }
}

/**
 * Checks a cron expression with the library that will match it: five fields (or a nickname such
 * as `@daily`), each field's values, and that it matches some time at all. invalid_argument
 * names the field and says what is wrong.
 */
export function assertCron(expression: string, timezone: string, now: number): void {
  if (expression.length > SCHEDULE_LIMITS.cron) throw invalid("cron", `at most ${SCHEDULE_LIMITS.cron} characters`);
  let cron: Cron;
  try {
    cron = parsedCron(expression, timezone);
  } catch (error) {
    throw invalid("cron", `${(error as Error).message.replace(/^Cron\w*: /, "")}`);
  }
  // croner takes a string with a colon as a single date to run once: not a schedule.
  if (cron.getOnce() !== null) throw invalid("cron", "five fields: minute hour day-of-month month day-of-week");
  if (cronFrom(expression, timezone, now) === null) throw invalid("cron", "matches no time from now on");
}
