/**
 * Waiting assertions on Playwright locators for vitest (playwright-core has no `expect` of its
 * own): `await expect(locator).toHaveText("Open")` retries until the page agrees or the timeout
 * (default 10 s) passes, because a live page gets there a moment later, not at once. `.not` waits
 * for the opposite. These wait; they never assert on how long anything took.
 */
import type { Locator } from "playwright-core";
import { expect } from "vitest";

const DEFAULT_TIMEOUT_MS = 10_000;
const POLL_MS = 100;
/** How long one look at the page may take (a busy machine resolves a locator slowly). */
const LOOK_MS = 2_000;

interface Options {
  timeout?: number;
}

type Check = () => Promise<{ pass: boolean; actual: unknown }>;

const matches = (value: string | null, expected: string | RegExp) =>
  value !== null && (typeof expected === "string" ? value === expected : expected.test(value));

async function waitFor(isNot: boolean, check: Check, timeout: number) {
  const deadline = Date.now() + timeout;
  let last: { pass: boolean; actual: unknown } = { pass: false, actual: undefined };
  for (;;) {
    try {
      last = await check();
    } catch (error) {
      last = { pass: false, actual: `(${(error as Error).message.split("\n")[0]})` };
    }
    if (last.pass !== isNot || Date.now() > deadline) return last;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function matcher(describe: (expected: unknown[]) => string, check: (locator: Locator, ...expected: never[]) => Check) {
  return async function (this: { isNot?: boolean }, locator: Locator, ...args: unknown[]) {
    // vitest leaves isNot undefined, not false, without .not.
    const isNot = this.isNot === true;
    const last = args.at(-1);
    const options = typeof last === "object" && last !== null && !(last instanceof RegExp) ? (last as Options) : {};
    const expected = options === last ? args.slice(0, -1) : args;
    const result = await waitFor(isNot, check(locator, ...(expected as never[])), options.timeout ?? DEFAULT_TIMEOUT_MS);
    return {
      pass: result.pass,
      message: () =>
        `expected ${locator} ${isNot ? "not " : ""}${describe(expected)}; it was ${JSON.stringify(result.actual)} (waited ${options.timeout ?? DEFAULT_TIMEOUT_MS} ms)`,
    };
  };
}

expect.extend({
  toHaveText: matcher(
    ([text]) => `to have the text ${String(text)}`,
    (locator, expected: string | RegExp) => async () => {
      const actual = (await locator.textContent({ timeout: LOOK_MS }))?.trim() ?? null;
      return { pass: matches(actual, expected), actual };
    },
  ),
  toContainText: matcher(
    ([text]) => `to contain the text ${String(text)}`,
    (locator, expected: string) => async () => {
      const actual = await locator.textContent({ timeout: LOOK_MS });
      return { pass: actual !== null && actual.replace(/\s+/g, " ").includes(expected), actual };
    },
  ),
  toHaveCount: matcher(
    ([count]) => `to match ${String(count)} elements`,
    (locator, expected: number) => async () => {
      const actual = await locator.count();
      return { pass: actual === expected, actual };
    },
  ),
  toHaveClass: matcher(
    ([pattern]) => `to have a class matching ${String(pattern)}`,
    (locator, expected: RegExp) => async () => {
      const actual = await locator.getAttribute("class", { timeout: LOOK_MS });
      return { pass: matches(actual, expected), actual };
    },
  ),
  toHaveAttribute: matcher(
    ([name, value]) => `to have ${String(name)}=${String(value)}`,
    (locator, name: string, expected: string | RegExp) => async () => {
      const actual = await locator.getAttribute(name, { timeout: LOOK_MS });
      return { pass: matches(actual, expected), actual };
    },
  ),
  toBeVisible: matcher(
    () => "to be visible",
    (locator) => async () => {
      const actual = await locator.isVisible();
      return { pass: actual, actual };
    },
  ),
  toBeFocused: matcher(
    () => "to have the focus",
    (locator) => async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a DOM element, typed without the DOM library
      const actual = await locator.evaluate((element: any) => element === element.ownerDocument.activeElement, undefined, { timeout: LOOK_MS });
      return { pass: actual, actual };
    },
  ),
});

interface LocatorMatchers<R = unknown> {
  toHaveText(expected: string | RegExp, options?: Options): Promise<R>;
  toContainText(expected: string, options?: Options): Promise<R>;
  toHaveCount(expected: number, options?: Options): Promise<R>;
  toHaveClass(expected: RegExp, options?: Options): Promise<R>;
  toHaveAttribute(name: string, expected: string | RegExp, options?: Options): Promise<R>;
  toBeVisible(options?: Options): Promise<R>;
  toBeFocused(options?: Options): Promise<R>;
}

declare module "vitest" {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Matchers<T = any> extends LocatorMatchers<T> {}
}
