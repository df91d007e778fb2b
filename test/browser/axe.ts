/**
 * Accessibility by a standard, not by hand: axe-core (Deque's engine) runs its WCAG 2.1 A and AA
 * rules on a page as it is at that moment, in the browser, and the test fails on any critical or
 * serious violation, naming the rule, the WCAG criterion and the elements.
 *
 *   await page.goto(url("/app/relays"));
 *   await expectAccessible(page, "the relays");
 *
 * axe's own file comes from node_modules and is evaluated through the browser's debugging protocol,
 * so it needs no network and is not an inline script the pages' Content-Security-Policy would
 * refuse (the policy stays on for everything the page itself does).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AxeResults, Result } from "axe-core";
import type { Page } from "playwright-core";
import { expect } from "vitest";

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe's tags for the success criteria of WCAG 2.0 and 2.1, levels A and AA. */
export const WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
/** What fails a test; "moderate" and "minor" findings are axe's best-practice grade. */
const FAILING = new Set(["critical", "serious"]);

/** The WCAG 2.1 A/AA violations axe finds on the page now, every impact. */
export async function wcagViolations(page: Page): Promise<Result[]> {
  if (!(await page.evaluate<boolean>("typeof window.axe === 'object'"))) await page.evaluate(AXE_SOURCE);
  const options = { runOnly: { type: "tag", values: WCAG_21_AA }, resultTypes: ["violations"] };
  const results = await page.evaluate<AxeResults>(`axe.run(document, ${JSON.stringify(options)})`);
  return results.violations;
}

/** Fails unless axe finds no critical or serious WCAG 2.1 A/AA violation on the page as it is. */
export async function expectAccessible(page: Page, what = new URL(page.url()).pathname): Promise<void> {
  const failing = (await wcagViolations(page)).filter((violation) => FAILING.has(violation.impact ?? ""));
  expect(failing.map(describeViolation), `axe-core on ${what}`).toEqual([]);
}

/** One violation in a line or a few: rule, impact, criteria, and each element with what is wrong. */
function describeViolation(violation: Result): string {
  const criteria = violation.tags.filter((tag) => /^wcag\d{3,}$/.test(tag)).join(", ");
  const nodes = violation.nodes.slice(0, 5).map((node) => `\n    ${node.target.join(" ")}: ${(node.failureSummary ?? "").replace(/\s+/g, " ")}`);
  const more = violation.nodes.length > 5 ? `\n    … and ${violation.nodes.length - 5} more` : "";
  return `${violation.id} (${violation.impact}; ${criteria}): ${violation.help}${nodes.join("")}${more}`;
}
