/**
 * Work that falls due at a time stored in the data (a lease expiry, a breaker's cooldown end, a
 * probe deadline). The Runtime's single alarm is always set to the earliest `nextDue` over all of
 * these, so there is no schedule table that could drift from the data; `runDue` must be
 * idempotent because alarms are delivered at least once.
 */
export interface TimedWork {
  /** Earliest due time (ms since epoch) in this area, or null when nothing is scheduled; `now` for work due at once. */
  nextDue(sql: SqlStorage, now: number): number | null;
  /** Processes what is due at or before `now` (a bounded batch; what is left stays due). */
  runDue(sql: SqlStorage, now: number): void;
}

export function nextDue(work: readonly TimedWork[], sql: SqlStorage, now: number): number | null {
  let earliest: number | null = null;
  for (const area of work) {
    const due = area.nextDue(sql, now);
    if (due !== null && (earliest === null || due < earliest)) earliest = due;
  }
  return earliest;
}

export function runDue(work: readonly TimedWork[], sql: SqlStorage, now: number): void {
  for (const area of work) area.runDue(sql, now);
}
