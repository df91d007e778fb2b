/**
 * The daily cap on model calls for decomposition (docs/decomposition.md): every call to the
 * model, a repair included, is counted in the user's own Durable Object before it is made, per
 * UTC day. Counting and refusing are one transaction, so concurrent decompositions can never
 * make more calls than the cap between them. Only today's count is kept.
 */
import { exhausted } from "../kernel/errors";
import { iso } from "../kernel/rows";

export interface ModelCallAllowance {
  /** The UTC day counted, `YYYY-MM-DD`. */
  day: string;
  /** Calls made today, this one included. */
  used: number;
  limit: number;
  /** When the count starts again: the next UTC midnight. */
  resets_at: string;
}

const DAY_MS = 86_400_000;

/** Counts one model call for today, or refuses with resource_exhausted (changing nothing) when the cap is reached. */
export function spendModelCall(sql: SqlStorage, limit: number, now: number): ModelCallAllowance {
  const day = iso(now)!.slice(0, 10);
  const resetsAt = iso(Math.floor(now / DAY_MS) * DAY_MS + DAY_MS)!;
  const used = sql.exec<{ calls: number }>(`SELECT calls FROM model_calls WHERE day = ?`, day).toArray()[0]?.calls ?? 0;
  if (used >= limit) {
    throw exhausted(
      `decomposition by the model is limited to ${limit} model calls per day (DECOMPOSE_DAILY_LIMIT), and today's are used; ` +
        `the count resets at ${resetsAt}. Passing your own tasks needs no model call`,
    );
  }
  sql.exec(`INSERT INTO model_calls (day, calls) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET calls = calls + 1`, day);
  sql.exec(`DELETE FROM model_calls WHERE day < ?`, day);
  return { day, used: used + 1, limit, resets_at: resetsAt };
}
