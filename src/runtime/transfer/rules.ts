/**
 * Every table's integrity rules, from the domains that own the tables (each one's `integrity.ts`,
 * in the words of kernel/integrity.ts). The import checks a file against these and nothing else;
 * a data table or column without a rule here is a bug the import refuses to run with (verify.ts),
 * and the property test finds (test/integrity.test.ts).
 *
 * Adding a column: its rule goes into its table's entry in the owning domain's integrity.ts. A
 * column the domain derives from other data takes the rule `derived()`, is named in that entry's
 * `derived.columns`, and is recomputed by the domain's one function for it (e.g. tasks/derived.ts).
 * Adding a table: an entry in its domain's integrity.ts; a new domain's list is added below. A
 * table that is not user data (an object's own keys) is listed in tables.ts NOT_DATA instead:
 * never exported, never imported, no rules.
 */
import { BREAKER_RULES } from "../breakers/integrity";
import { GOAL_RULES } from "../goals/integrity";
import type { TableRules } from "../kernel/integrity";
import { PLAN_RULES } from "../plans/integrity";
import { RELAY_RULES } from "../relay/integrity";
import { SCHEDULE_RULES } from "../schedules/integrity";
import { TASK_RULES } from "../tasks/integrity";

export const INTEGRITY_RULES: readonly TableRules[] = [...GOAL_RULES, ...TASK_RULES, ...SCHEDULE_RULES, ...RELAY_RULES, ...BREAKER_RULES, ...PLAN_RULES];
