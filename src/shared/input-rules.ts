/**
 * Rules of user input that more than one layer enforces: the tool schemas (src/mcp/schemas.ts)
 * when a call arrives, and the import's integrity checks (src/runtime/transfer/) when a file does.
 * Kept here, below both, so that the runtime never imports MCP and the two can never differ.
 */

/** Not blank: at least one character that is not white space. */
export const NOT_BLANK = /\S/;

/**
 * One line, without control characters or Unicode line breaks: a name shown to agents inside
 * prompts built for other agents (an agent id, an agent type, a fallback agent) cannot start a
 * line of its own there.
 */
export const ONE_LINE = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/;

/** Whether `value` is a one-line name of 1..`max` characters. */
export const isOneLineName = (value: string, max: number): boolean =>
  value.length >= 1 && value.length <= max && NOT_BLANK.test(value) && ONE_LINE.test(value);

/**
 * Whether `value` nests objects and arrays more than `max` levels deep (the value itself is level
 * 1). Iterative, and stops at the first level too deep, so a hostile value costs no recursion.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  let level: unknown[] = [value];
  for (let depth = 1; level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const item of level) {
      if (item !== null && typeof item === "object") for (const child of Object.values(item)) next.push(child);
    }
    if (next.some((item) => item !== null && typeof item === "object") && depth >= max) return true;
    level = next;
  }
  return false;
}
