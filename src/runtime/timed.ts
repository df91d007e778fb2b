/**
 * Work that falls due at a time stored in the data (a lease expiry, a breaker's cooldown end, a
 * probe deadline). The Runtime's single alarm is always set to the earliest `nextDue` over all of
 * these, so there is no schedule table that could drift from the data; `runDue` must be
 * idempotent because alarms are delivered at least once.
 */
import { breakerTimedWork } from "./breakers";
import { leaseExpiry } from "./leases";

export interface TimedWork {
  name: string;
  /** Earliest due time (ms since epoch) in this area, or null when nothing is scheduled. */
  nextDue(sql: SqlStorage): number | null;
  /** Processes everything due at or before `now`. */
  runDue(sql: SqlStorage, now: number): void;
}

export const TIMED_WORK: TimedWork[] = [breakerTimedWork, leaseExpiry];

export function nextDue(sql: SqlStorage): number | null {
  let earliest: number | null = null;
  for (const work of TIMED_WORK) {
    const due = work.nextDue(sql);
    if (due !== null && (earliest === null || due < earliest)) earliest = due;
  }
  return earliest;
}

export function runDue(sql: SqlStorage, now: number): void {
  for (const work of TIMED_WORK) work.runDue(sql, now);
}
