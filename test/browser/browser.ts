/**
 * A real browser for the dashboard's tests: Debian's Chromium driven by playwright-core (which
 * downloads nothing). Every page records each request it makes, so a test can prove the page asks
 * no other host for anything, and every console error (a CSP violation is one).
 *
 *   const browser = await launchChromium();
 *   const { page, requests, problems } = await openPage(browser, server);
 *   await signIn(page, server, server.ownerPassword);
 *   await screenshot(page, "goals");               // test-output/screenshots/goals.png
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { DevServer } from "../e2e/harness";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const OUTPUT_DIR = join(ROOT, "test-output");

/** Where Chromium is: CHROMIUM_PATH, or Debian's package. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(path)) {
    throw new Error(
      `Chromium not found at ${path}. The browser tests need it: on Debian/Ubuntu run ` +
        "`sudo apt-get update && sudo apt-get install -y chromium` (CI's .ci/run does), " +
        "or set CHROMIUM_PATH to a Chromium or Chrome binary.",
    );
  }
  return path;
}

export interface DashboardBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Headless Chromium and nothing of its own on the network (no component updates, no sync, no
 * background fetches): the only requests are the ones the page makes. Playwright starts every
 * launch with a new, empty profile directory of its own and removes it on close.
 */
export async function launchChromium(): Promise<DashboardBrowser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Every URL the page requested (documents, scripts, styles, images, fetches, sockets). */
  requests: string[];
  /** Console errors and page errors, CSP violations among them. */
  problems: string[];
}

export async function openPage(
  { browser }: DashboardBrowser,
  options: { width?: number; height?: number; acceptDownloads?: boolean } = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    acceptDownloads: options.acceptDownloads ?? true,
    // A fixed zone and locale keep the screenshots the same from run to run.
    timezoneId: "UTC",
    locale: "en-GB",
  });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("websocket", (socket) => requests.push(socket.url()));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  return { context, page, requests, problems };
}

/** Signs in through the form at `/`; the page is then on /app (or still on the form when refused). */
export async function signIn(page: Page, server: DevServer, password: string): Promise<void> {
  await page.goto(`${server.origin}/`);
  await page.getByLabel("Owner password").fill(password);
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Sign in" }).click()]);
}

/** Saves a full-page screenshot under test-output/screenshots/ (not committed). */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(OUTPUT_DIR, "screenshots");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The hosts (host:port) among the URLs. */
export const hostsOf = (urls: string[]) => [...new Set(urls.filter((u) => !u.startsWith("data:")).map((u) => new URL(u).host))];

/** Marks the document, so that samePage() can tell it was not reloaded or navigated away from. */
export const markPage = (page: Page) => page.evaluate("window.__notReloaded = true");
export const samePage = (page: Page) => page.evaluate<boolean>("window.__notReloaded === true");
