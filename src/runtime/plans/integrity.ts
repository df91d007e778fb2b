/**
 * What the stored count of model calls for decomposition satisfies (budget.ts): one row, the
 * latest day's (kernel/integrity.ts explains the shape; an import checks a file against it).
 */
import { acrossRule, day, integer, type TableRules } from "../kernel/integrity";

/** Far above any daily cap an owner sets (DECOMPOSE_DAILY_LIMIT). */
const CALLS = 1_000_000;

export const PLAN_RULES: readonly TableRules[] = [
  {
    table: "model_calls",
    columns: { day: day(), calls: integer(1, CALLS) },
    across: [acrossRule("only the latest day's count is kept", `SELECT day FROM model_calls WHERE day < (SELECT max(day) FROM model_calls)`)],
  },
];
