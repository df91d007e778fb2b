/**
 * The owner's dashboard in a real browser (SPEC §11): Chromium against `wrangler dev`, the data
 * made by a real MCP client. Sign-in with a wrong and the right password, every page, changes
 * made through MCP appearing without a reload (also across a restart of the server), the keyboard,
 * a 375 px wide screen, and that the pages ask no other host for anything.
 *
 * Screenshots of every page go to test-output/screenshots/ (not committed).
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorize, callTool, connectV2, showLogsOnFailure, startDevServer, type DevServer, type V2Client } from "../e2e/harness";
import { expectAccessible } from "./axe";
import { hostsOf, launchChromium, markPage, openPage, samePage, screenshot, signIn, type DashboardBrowser, type OpenedPage } from "./browser";
import { seedShowcase, type Showcase } from "./fixtures";
import "./matchers";

let server: DevServer;
let chromium: DashboardBrowser;
let client: V2Client;
let showcase: Showcase;
/** The signed-in desktop page most tests use; its requests accumulate over the whole file. */
let desk: OpenedPage;

beforeAll(async () => {
  // Fail first, and clearly, when there is no browser.
  chromium = await launchChromium();
  server = await startDevServer();
  client = await connectV2(server, (await authorize(server)).accessToken);
  showcase = await seedShowcase(client);
  desk = await openPage(chromium);
});

afterAll(async () => {
  await client?.close();
  await chromium?.close();
  await server?.stop();
});

showLogsOnFailure(() => server);

const url = (path: string) => `${server.origin}${path}`;
const nodes = (page: Page) => page.locator("#graph .node");
const node = (page: Page, taskId: number) => page.locator(`#graph #task-${taskId}`);

describe("sign-in", () => {
  it("refuses a wrong password: the form again with the reason, no session and no data", async () => {
    const { page, context } = await openPage(chromium);
    await signIn(page, server, "not the password");
    await expect(page.getByRole("alert")).toHaveText("Wrong password.");
    expect(await page.getByLabel("Owner password").isVisible()).toBe(true);
    expect(await page.content()).not.toContain("Launch the public website");
    expect(await context.cookies()).toEqual([]);
    await page.goto(url("/app"));
    expect(new URL(page.url()).pathname).toBe("/");
    await screenshot(page, "sign-in-refused");
    await context.close();
  });

  it("signs in with the owner password and shows the goals with status and progress", async () => {
    const { page } = desk;
    await signIn(page, server, server.ownerPassword);
    expect(new URL(page.url()).pathname).toBe("/app");
    const row = page.locator(`#goal-${showcase.goalId}`);
    await expect(row.getByRole("link", { name: "Launch the public website" })).toBeVisible();
    await expect(row.locator(".badge")).toHaveText("Active");
    await expect(row.getByRole("progressbar", { name: "Progress of Launch the public website" })).toHaveAttribute("value", "0.3");
    await expect(row).toContainText("11 tasks: 3 done, 1 in progress, 5 pending, 1 failed, 1 cancelled");
    const cookie = (await desk.context.cookies()).find((c) => c.name === "ar_session")!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    expect(cookie.expires).toBeGreaterThan(Date.now() / 1000);
    await expect(page.locator("#live-status")).toHaveAttribute("data-state", "live");
    await screenshot(page, "goals");
  });
});

describe("the pages", () => {
  it("draws a goal's tasks as a graph: a labelled node per task, an edge per dependency, states in words", async () => {
    const { page } = desk;
    await page.goto(url(`/app/goals/${showcase.goalId}`));
    await expect(nodes(page)).toHaveCount(11);
    const t = showcase.tasks;
    const expected: [number, string, string][] = [
      [t.requirements, "completed", "Done"],
      [t.pages, "ready", "Ready"],
      [t.e2e, "blocked", "Blocked"],
      [t.api, "in_progress", "In progress"],
      [t.migrate, "failed", "Failed"],
      [t.flyers, "cancelled", "Cancelled"],
    ];
    for (const [id, state, words] of expected) {
      await expect(node(page, id)).toHaveClass(new RegExp(`st-${state}`));
      await expect(node(page, id)).toHaveAttribute("role", "button");
      await expect(node(page, id)).toHaveAttribute("tabindex", "0");
      await expect(node(page, id).locator(".nstate")).toHaveText(`${words} · #${id}`);
      // Its name says first what it shows (WCAG 2.5.3, Label in Name).
      await expect(node(page, id)).toHaveAttribute("aria-label", new RegExp(`^[^.]+\\. ${words} · #${id}\\.`));
    }
    // In progress: the agent and the lease's end, drawn and spoken.
    await expect(node(page, t.api).locator(".nmore")).toContainText("coder-1 · until");
    await expect(node(page, t.api)).toHaveAttribute("aria-label", new RegExp(`^Build the API\\. In progress · #${t.api}\\. coder-1 · until \\d\\d:\\d\\d\\. Claimed by coder-1, lease ends `));
    // Edges from each dependency to its dependent: 13 dependencies in the fixture.
    await expect(page.locator("#graph .edge")).toHaveCount(13);
    await expect(page.locator(`#graph .edge[data-from="${t.api}"][data-to="${t.docs}"]`)).toHaveCount(1);
    await expect(page.locator("#graph svg")).toHaveAttribute("aria-label", "Task graph: 11 tasks, 13 dependencies");
    await screenshot(page, "goal");
  });

  it("moves through the graph by keyboard and shows a task's details", async () => {
    const { page } = desk;
    const t = showcase.tasks;
    await node(page, t.requirements).focus();
    await expect(page.locator("#task-detail h3")).toHaveText(`#${t.requirements} Collect requirements`);
    // Down follows an edge to a dependent; Up comes back to a dependency.
    await page.keyboard.press("ArrowDown");
    const below = await page.evaluate<string | null>("document.activeElement && document.activeElement.getAttribute('data-id')");
    expect([t.model, t.sketch, t.flyers].map(String)).toContain(below);
    await page.keyboard.press("ArrowUp");
    await expect(node(page, t.requirements)).toBeFocused();
    await node(page, t.api).focus();
    await page.keyboard.press("Enter");
    const detail = page.locator("#task-detail");
    await expect(detail).toContainText("In progress");
    await expect(detail).toContainText("coder-1");
    await expect(detail.getByRole("button", { name: `#${t.docs}` })).toBeVisible();
    await screenshot(page, "goal-details");
    await detail.getByRole("button", { name: `#${t.docs}` }).click();
    await expect(node(page, t.docs)).toBeFocused();
    // The same tasks as a table, for reading without the drawing.
    await page.getByText("The tasks as a table").click();
    await expect(page.locator("#task-table tbody tr")).toHaveCount(11);
  });

  it("cuts a title too long for its node with an ellipsis, and shows it whole on focus and on hover", async () => {
    const { page } = desk;
    const long = "Reconcile every invoice of the last fiscal year with the bank statements, by hand";
    const goal = await callTool<{ id: number }>(client, "create_goal", { name: "Year-end closing", description: "The books, closed." });
    const cut = await callTool<{ id: number }>(client, "create_task", { title: long, goal_id: goal.id });
    const short = await callTool<{ id: number }>(client, "create_task", { title: "File it", goal_id: goal.id, dependencies: [cut.id] });
    await page.goto(url(`/app/goals/${goal.id}`));
    await expect(nodes(page)).toHaveCount(2);
    const title = node(page, cut.id).locator(".ntitle");
    // The words stay whole in the page (and in the node's name); the line is cut where it ends.
    await expect(title).toHaveText(long);
    await expect(node(page, cut.id)).toHaveAttribute("aria-label", new RegExp(`^${long}\\. Ready · #${cut.id}\\.`));
    expect(await page.evaluate<boolean>(`(() => { const line = document.querySelector("#task-${cut.id} .ntitle"); return line.scrollWidth > line.clientWidth; })()`)).toBe(true);
    // Every line of every node that does not fit ends in an ellipsis, drawn by the browser.
    const lineStyles = await page.evaluate<string[]>(
      `[...new Set([...document.querySelectorAll("#graph .nlines div")].map((line) => { const s = getComputedStyle(line); return s.textOverflow + " " + s.overflow + " " + s.whiteSpace; }))]`,
    );
    expect(lineStyles).toEqual(["ellipsis hidden nowrap"]);

    const tip = page.locator("#graph .graph-tip");
    await node(page, cut.id).focus();
    await expect(tip).toBeVisible();
    await expect(tip).toHaveText(long);
    await screenshot(page, "goal-long-title");
    await page.keyboard.press("Escape");
    await expect(tip).not.toBeVisible();
    // A title that fits needs no tip.
    await node(page, short.id).focus();
    await expect(tip).not.toBeVisible();
    await node(page, cut.id).hover();
    await expect(tip).toBeVisible();
    await expect(tip).toHaveText(long);
    // The pointer may move onto the tip; it goes when the pointer leaves both.
    await tip.hover();
    await expect(tip).toBeVisible();
    await page.mouse.move(1, 1);
    await node(page, short.id).focus();
    await expect(tip).not.toBeVisible();
  });

  it("shows a relay pipeline step by step: agent, status, scores against their gates, tokens against the budget", async () => {
    const { page } = desk;
    await page.goto(url("/app/relays"));
    await expect(page.locator(`#pipeline-${showcase.pipelineId}`)).toContainText("19,700 of 40,000 tokens");
    await expect(page.locator(`#pipeline-${showcase.finishedPipelineId} .badge`)).toHaveText("Completed");
    await screenshot(page, "relays");
    await page.getByRole("link", { name: "Market study" }).click();
    const steps = page.locator(".steps > li");
    await expect(steps).toHaveCount(4);
    await expect(steps.nth(0)).toContainText("researcher");
    await expect(steps.nth(0).locator(".badge")).toHaveText("Passed");
    await expect(steps.nth(0)).toContainText("0.86 meets the quality gate of 0.60");
    await expect(steps.nth(0)).toContainText("9,200");
    await expect(steps.nth(2).locator(".badge")).toHaveText("Failed");
    await expect(steps.nth(2)).toContainText("0.62 below the quality gate of 0.80");
    await expect(steps.nth(2)).toContainText("waits for a retry");
    await expect(steps.nth(3).locator(".badge")).toHaveText("Waiting");
    await expect(page.getByRole("meter", { name: "Tokens of Market study" })).toHaveAttribute("value", "19700");
    await screenshot(page, "relay");
  });

  it("shows breakers with their state, the cooldown counting down, and recent transitions", async () => {
    const { page } = desk;
    await page.goto(url("/app/breakers"));
    const open = page.locator("#breaker-coder-2");
    await expect(open.locator("h2 .badge")).toHaveText("Open");
    const countdown = open.locator("[data-countdown]");
    const first = await countdown.textContent();
    expect(first).toMatch(/^\d+ min \d+ s$/);
    await expect.poll(() => countdown.textContent(), { timeout: 5_000 }).not.toBe(first);
    await expect(page.locator("#breaker-coder-3 h2 .badge")).toHaveText("Half-open");
    await expect(page.locator("#breaker-coder-1 h2 .badge")).toHaveText("Closed");
    await open.getByText(/Recent transitions/).click();
    await expect(open.locator(".history").first()).toContainText("Closed → Open");
    await screenshot(page, "breakers");
  });

  it("shows schedules with their next run counting down, and pauses and resumes one with its button", async () => {
    const { page } = desk;
    const made = await callTool<{ schedule_id: string }>(client, "create_schedule", {
      title: "Nightly benchmark",
      cron: "0 3 * * *",
      timezone: "Europe/Berlin",
    });
    await page.goto(url("/app/schedules"));
    const card = page.locator(`#schedule-${made.schedule_id}`);
    await expect(card.locator("h2 .badge")).toHaveText("Active");
    await expect(card).toContainText("0 3 * * * in Europe/Berlin");
    await expect(card.locator("[data-countdown]")).toHaveText(/^\d+ (h|min|s)/);
    await Promise.all([page.waitForURL(/\/app\/schedules#schedule-/), card.getByRole("button", { name: "Pause Nightly benchmark" }).click()]);
    await expect(card.locator("h2 .badge")).toHaveText("Paused");
    await expect(card).toContainText("Paused: no runs until resumed.");
    await Promise.all([page.waitForURL(/\/app\/schedules#schedule-/), card.getByRole("button", { name: "Resume Nightly benchmark" }).click()]);
    await expect(card.locator("h2 .badge")).toHaveText("Active");
    await screenshot(page, "schedules");
  });

  it("offers the export download and the import form", async () => {
    const { page } = desk;
    await page.goto(url("/app/data"));
    await expect(page.getByRole("link", { name: "Download the export" })).toHaveAttribute("href", "/export");
    await expect(page.getByLabel("Export file (.json)")).toBeVisible();
    await screenshot(page, "data");
  });
});

describe("accessible by a standard: axe-core's WCAG 2.1 A and AA rules, on every page with real data", () => {
  // One line per page, as a person sees it: a page added to the dashboard adds its line here.
  const pages: [string, () => string, ((page: Page) => Promise<void>)?][] = [
    ["the goals", () => "/app"],
    ["a goal's task graph", () => `/app/goals/${showcase.goalId}`, async (page) => void (await expect(nodes(page)).toHaveCount(11))],
    ["a goal's task graph with a task's details open", () => `/app/goals/${showcase.goalId}`, (page) => node(page, showcase.tasks.api).focus()],
    ["the relays", () => "/app/relays"],
    ["a relay's steps", () => `/app/relays/${showcase.pipelineId}`],
    ["the breakers", () => "/app/breakers"],
    ["the schedules", () => "/app/schedules"],
    ["export and import", () => "/app/data"],
    ["the notifications", () => "/app/notifications"],
    ["the agent keys", () => "/app/keys"],
  ];
  it.each(pages)("%s", async (name, path, ready) => {
    const { page } = desk;
    await page.goto(url(path()));
    await ready?.(page);
    await expectAccessible(page, name);
  });

  it("the sign-in form, also when it refuses a password", async () => {
    const { page, context } = await openPage(chromium);
    await page.goto(url("/"));
    await expectAccessible(page, "the sign-in form");
    await signIn(page, server, "not the password");
    await expect(page.getByRole("alert")).toHaveText("Wrong password.");
    await expectAccessible(page, "the sign-in form saying the password was wrong");
    await context.close();
  });
});

describe("live updates", () => {
  it("shows a task created and a task claimed through MCP on the open goal page, without a reload", async () => {
    const { page } = desk;
    await page.goto(url(`/app/goals/${showcase.goalId}`));
    await expect(nodes(page)).toHaveCount(11);
    await markPage(page);
    const created = await callTool<{ id: number }>(client, "create_task", {
      title: "Hotfix the login form",
      goal_id: showcase.goalId,
      dependencies: [showcase.tasks.pages],
    });
    await expect(node(page, created.id)).toHaveClass(/st-blocked/);
    await expect(nodes(page)).toHaveCount(12);
    await callTool(client, "update_task_status", { task_id: showcase.tasks.pages, status: "completed" });
    await expect(node(page, showcase.tasks.pages)).toHaveClass(/st-completed/);
    await expect(node(page, created.id)).toHaveClass(/st-ready/);
    await expect(page.locator("#goal-summary")).toContainText("12 tasks: 4 done");
    expect(await samePage(page)).toBe(true);
  });

  it("keeps focus on the task it was on while the graph is redrawn", async () => {
    const { page } = desk;
    await node(page, showcase.tasks.docs).focus();
    await callTool(client, "create_task", { title: "Another one", goal_id: showcase.goalId });
    await expect(nodes(page)).toHaveCount(13);
    await expect(node(page, showcase.tasks.docs)).toBeFocused();
  });

  it("shows a breaker tripped through MCP on the open breakers page", async () => {
    const { page } = desk;
    await page.goto(url("/app/breakers"));
    await markPage(page);
    await callTool(client, "circuit_breaker_trip", { agent_id: "reviewer-9", reason: "tripped from the test" });
    await expect(page.locator("#breaker-reviewer-9 h2 .badge")).toHaveText("Open");
    expect(await samePage(page)).toBe(true);
  });

  it("reconnects after the server restarts and goes on following changes", async () => {
    const { page } = desk;
    await page.goto(url(`/app/goals/${showcase.goalId}`));
    await expect(page.locator("#live-status")).toHaveAttribute("data-state", "live");
    await markPage(page);
    const quiet = desk.problems.length;
    await server.restart();
    const created = await callTool<{ id: number }>(client, "create_task", { title: "After the restart", goal_id: showcase.goalId });
    await expect(node(page, created.id)).toBeVisible({ timeout: 30_000 });
    await expect(page.locator("#live-status")).toHaveAttribute("data-state", "live");
    expect(await samePage(page)).toBe(true);
    // While the server was away, connections were refused or cut: expected, and nothing else.
    const whileAway = desk.problems.splice(quiet);
    expect(whileAway.filter((p) => !/net::ERR_CONNECTION_(REFUSED|RESET)|net::ERR_EMPTY_RESPONSE/.test(p))).toEqual([]);
  });
});

describe("no third-party hosts, keyboard, small screens", () => {
  it("requested nothing from any host but the dashboard's own, and broke no content policy", async () => {
    expect(desk.requests.length).toBeGreaterThan(10);
    expect(hostsOf(desk.requests)).toEqual([new URL(server.origin).host]);
    expect(desk.problems).toEqual([]);
  });

  it("starts every page with a skip link, names the current page, and signs out by keyboard", async () => {
    const { page } = desk;
    await page.goto(url("/app/relays"));
    await page.keyboard.press("Tab");
    await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
    await expect(page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name: "Relays" })).toHaveAttribute("aria-current", "page");
    await page.getByRole("button", { name: "Sign out" }).focus();
    await Promise.all([page.waitForURL(url("/")), page.keyboard.press("Enter")]);
    await expect(page.getByLabel("Owner password")).toBeVisible();
    await page.goto(url("/app"));
    expect(new URL(page.url()).pathname).toBe("/");
  });

  it("fits every page into 375 px without sideways scrolling of the page", async () => {
    const phone = await openPage(chromium, { width: 375, height: 812 });
    await signIn(phone.page, server, server.ownerPassword);
    const pages: [string, string][] = [
      ["phone-goals", "/app"],
      ["phone-goal", `/app/goals/${showcase.goalId}`],
      ["phone-relays", "/app/relays"],
      ["phone-relay", `/app/relays/${showcase.pipelineId}`],
      ["phone-breakers", "/app/breakers"],
      ["phone-schedules", "/app/schedules"],
      ["phone-data", "/app/data"],
    ];
    for (const [name, path] of pages) {
      await phone.page.goto(url(path));
      if (name === "phone-goal") await expect(nodes(phone.page)).not.toHaveCount(0);
      const width = await phone.page.evaluate<number>("document.documentElement.scrollWidth");
      expect(width, path).toBeLessThanOrEqual(375);
      await screenshot(phone.page, name);
    }
    expect(hostsOf(phone.requests)).toEqual([new URL(server.origin).host]);
    expect(phone.problems).toEqual([]);
    await phone.context.close();
  });
});
