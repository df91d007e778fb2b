/**
 * The owner's decisions in a real browser (SPEC §14; docs/owner.md): Chromium against `wrangler
 * dev`, the agent a real MCP client (SDK v2) with an OAuth token. An agent asks for a decision by
 * creating an owner task and making its work depend on it; the owner sees the count in the
 * navigation rise without a reload, opens "Waiting for you", approves with a note, and the agent
 * waiting for work receives the dependent task with the note among its inputs. A rejection runs
 * the any_failed recovery task. Then a task's page, Retry, and the pages at 375 px.
 *
 * Screenshots go to test-output/screenshots/owner-*.png (not committed).
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorize, callTool, connectV2, showLogsOnFailure, startDevServer, type DevServer, type V2Client } from "../e2e/harness";
import { expectAccessible } from "./axe";
import { hostsOf, launchChromium, markPage, openPage, samePage, screenshot, signIn, type DashboardBrowser, type OpenedPage } from "./browser";
import "./matchers";

let server: DevServer;
let chromium: DashboardBrowser;
let agent: V2Client;
let desk: OpenedPage;

beforeAll(async () => {
  chromium = await launchChromium();
  server = await startDevServer();
  agent = await connectV2(server, (await authorize(server)).accessToken);
  desk = await openPage(chromium);
  await signIn(desk.page, server, server.ownerPassword);
});

afterAll(async () => {
  await agent?.close();
  await chromium?.close();
  await server?.stop();
});

showLogsOnFailure(() => server);

interface Task {
  id: number;
}
interface Claim {
  task: (Task & { title: string }) | null;
  lease_id?: string;
  inputs?: { task_id: number; status: string; result?: string; error?: string }[];
}

const url = (path: string) => `${server.origin}${path}`;
const count = (page: Page) => page.locator("#waiting-count");
const decision = (page: Page, taskId: number) => page.locator(`#decision-${taskId}`);
const task = (title: string, args: Record<string, unknown> = {}) => callTool<Task>(agent, "create_task", { title, ...args });

/** A call that settles later, and whether it has. */
function pending<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { promise, settled: () => done };
}

/** Goal "Release 2.0": the notes (done), the owner's approval of them, then publish; and a recovery if it is rejected. */
let release: { goalId: number; notes: number; approval: number; publish: number; stopped: number };
/** Goal "Hire a contractor": a budget the owner must approve, and what to do if not. */
let budget: { goalId: number; approval: number; hire: number; fallback: number };

describe("an agent asks, the owner decides", () => {
  it("the count in the navigation rises without a reload when an agent's decision becomes ready", async () => {
    const { page } = desk;
    await page.goto(url("/app"));
    await expect(page.locator("#live-status")).toHaveAttribute("data-state", "live");
    await expect(count(page)).toHaveText("0");
    await markPage(page);

    const goal = await callTool<{ id: number }>(agent, "create_goal", { name: "Release 2.0", description: "Publish version 2.0 with its release notes." });
    const notes = await task("Write the release notes", { goal_id: goal.id });
    const approval = await task("Approve the release notes", { goal_id: goal.id, role: "owner", dependencies: [notes.id], description: "Read them; approve if they may go out." });
    const publish = await task("Publish the release", { goal_id: goal.id, dependencies: [approval.id] });
    const stopped = await task("Tell the team the release is stopped", { goal_id: goal.id, dependencies: [approval.id], run_when: "any_failed" });
    release = { goalId: goal.id, notes: notes.id, approval: approval.id, publish: publish.id, stopped: stopped.id };
    // Not ready yet: the owner's decision waits for the notes.
    await expect(page.locator(`#goal-${goal.id}`)).toBeVisible();
    await expect(count(page)).toHaveText("0");

    const claim = await callTool<Claim>(agent, "get_next_task", { agent_id: "writer", goal_id: goal.id });
    expect(claim.task!.id).toBe(notes.id);
    await callTool(agent, "update_task_status", { task_id: notes.id, lease_id: claim.lease_id, status: "completed", result: "Notes: faster sync, new dashboard." });
    await expect(count(page)).toHaveText("1");
    await expect(count(page)).toHaveAttribute("data-count", "1");
    expect(await samePage(page)).toBe(true);
    await screenshot(page, "owner-count");
  });

  it("no agent can take or finish the owner's task", async () => {
    expect(await callTool<Claim>(agent, "get_next_task", { agent_id: "eager", goal_id: release.goalId })).toMatchObject({ task: null });
    const refused = await agent.callTool({ name: "update_task_status", arguments: { task_id: release.approval, status: "completed" } });
    expect(refused).toMatchObject({ isError: true });
  });

  it("the owner approves with a note on Waiting for you, and the agent waiting for work gets the dependent with the note among its inputs", async () => {
    const { page } = desk;
    await Promise.all([page.waitForURL(url("/app/waiting")), page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name: /Waiting for you/ }).click()]);
    const card = decision(page, release.approval);
    await expect(card.getByRole("heading", { level: 2 })).toContainText("Approve the release notes");
    await expect(card).toContainText("Release 2.0");
    await expect(card).toContainText("Read them; approve if they may go out.");
    await expect(card.locator(".inputs")).toContainText("Write the release notes");
    await expect(card.locator(".inputs")).toContainText("Notes: faster sync, new dashboard.");
    await expectAccessible(page, "Waiting for you");

    // An agent waits for work while the owner reads.
    const publisher = pending(callTool<Claim>(agent, "get_next_task", { agent_id: "publisher", wait_seconds: 30 }));
    const note = card.getByLabel(/Note for the agents/);
    await note.fill("Approved: mention the migration guide in the announcement.");
    await note.press("End");
    await note.pressSequentially(" Thanks!");

    // Meanwhile another agent asks for a decision: the page redraws, and what the owner typed stays, focused.
    await markPage(page);
    const hire = await callTool<{ id: number }>(agent, "create_goal", { name: "Hire a contractor", description: "Someone to port the mobile app." });
    const approveBudget = await task("Approve a budget of 8,000 EUR", { goal_id: hire.id, role: "owner" });
    const hireTask = await task("Sign the contract", { goal_id: hire.id, dependencies: [approveBudget.id] });
    const fallback = await task("Plan the port in-house", { goal_id: hire.id, dependencies: [approveBudget.id], run_when: "any_failed" });
    budget = { goalId: hire.id, approval: approveBudget.id, hire: hireTask.id, fallback: fallback.id };
    await expect(decision(page, approveBudget.id)).toBeVisible();
    await expect(count(page)).toHaveText("2");
    expect(await note.inputValue()).toBe("Approved: mention the migration guide in the announcement. Thanks!");
    await expect(note).toBeFocused();
    expect(await samePage(page)).toBe(true);
    await screenshot(page, "owner-waiting");

    expect(publisher.settled()).toBe(false);
    await Promise.all([page.waitForURL(url(`/app/waiting?decided=${release.approval}`)), card.getByRole("button", { name: "Approve" }).click()]);
    await expect(page.getByRole("status").filter({ hasText: "You approved" })).toContainText("Approve the release notes");
    await expect(decision(page, release.approval)).toHaveCount(0);
    await expect(count(page)).toHaveText("1");

    const claim = await publisher.promise;
    expect(claim.task).toMatchObject({ id: release.publish, title: "Publish the release" });
    expect(claim.inputs).toEqual([
      { task_id: release.approval, title: "Approve the release notes", status: "completed", result: "Approved: mention the migration guide in the announcement. Thanks!" },
    ]);
    await screenshot(page, "owner-approved");
  });

  it("a rejection fails the decision with the note as its error and runs the any_failed recovery task", async () => {
    const { page } = desk;
    const card = decision(page, budget.approval);
    await card.getByLabel(/Note for the agents/).fill("Too expensive this quarter.");
    await Promise.all([page.waitForURL(url(`/app/waiting?decided=${budget.approval}`)), card.getByRole("button", { name: "Reject" }).click()]);
    await expect(page.getByRole("status").filter({ hasText: "You rejected" })).toContainText("Approve a budget of 8,000 EUR");
    await expect(count(page)).toHaveText("0");
    await expect(page.locator(".empty")).toHaveText("Nothing waits for you.");

    const claim = await callTool<Claim>(agent, "get_next_task", { agent_id: "planner", wait_seconds: 30 });
    expect(claim.task).toMatchObject({ id: budget.fallback, title: "Plan the port in-house" });
    expect(claim.inputs).toEqual([{ task_id: budget.approval, title: "Approve a budget of 8,000 EUR", status: "failed", error: "Too expensive this quarter." }]);
    expect(await callTool(agent, "get_task", { task_id: budget.hire })).toMatchObject({ status: "pending", blocked_by: [budget.approval] });
  });

  it("a decision made in another tab is refused in this one, saying so", async () => {
    const gate = await task("Approve the newsletter", { role: "owner" });
    // A tab that hears of no change (its live socket answered by the test, not the server) still shows the decision.
    const stale = await openPage(chromium);
    await stale.page.routeWebSocket(/\/live$/, () => {});
    await signIn(stale.page, server, server.ownerPassword);
    await stale.page.goto(url("/app/waiting"));
    await expect(decision(stale.page, gate.id)).toBeVisible();
    const { page } = desk;
    await page.goto(url("/app/waiting"));
    await decision(page, gate.id).getByRole("button", { name: "Approve" }).click();
    await expect(page.getByRole("status").filter({ hasText: "You approved" })).toContainText("Approve the newsletter");
    const [answer] = await Promise.all([
      stale.page.waitForResponse((r) => r.url() === url(`/app/tasks/${gate.id}/decide`)),
      decision(stale.page, gate.id).getByRole("button", { name: "Reject" }).click(),
    ]);
    expect(answer.status()).toBe(409);
    await expect(stale.page.getByRole("alert")).toContainText("was approved already, perhaps in another tab: your decision was not recorded. Nothing changed.");
    await expectAccessible(stale.page, "a decision refused");
    await screenshot(stale.page, "owner-decided-elsewhere");
    expect(stale.problems.filter((p) => !p.includes("409"))).toEqual([]);
    await stale.context.close();
    expect(await callTool(agent, "get_task", { task_id: gate.id })).toMatchObject({ status: "completed" });
  });
});

describe("what was done, and Retry", () => {
  it("the graph marks the owner's decision by icon, outline and words, and links each task to its page", async () => {
    const { page } = desk;
    const later = await task("Announce on the blog", { goal_id: release.goalId, role: "writer", not_before: new Date(Date.now() + 2 * 3_600_000).toISOString() });
    await page.goto(url(`/app/goals/${release.goalId}`));
    const node = page.locator(`#graph #task-${release.approval}`);
    await expect(node.locator(".oring")).toHaveCount(1);
    await expect(node.locator(".nowner")).toHaveCount(1);
    await expect(node.locator(".nmore")).toHaveText("Owner's decision: approved");
    await expect(node).toHaveAttribute("aria-label", /^Approve the release notes\. Done · #\d+\. Owner's decision: approved\./);
    const scheduled = page.locator(`#graph #task-${later.id}`);
    await expect(scheduled).toHaveClass(/st-scheduled/);
    await expect(scheduled.locator(".nstate")).toHaveText(`Scheduled · #${later.id}`);
    await expect(scheduled.locator(".nmore")).toContainText("role writer · starts at");
    await expect(page.locator(".legend")).toContainText("Scheduled");
    await expect(page.locator(".legend")).toContainText("Owner's decision");
    await screenshot(page, "owner-goal");
    await node.focus();
    await Promise.all([page.waitForURL(url(`/app/tasks/${release.approval}`)), page.locator("#task-detail").getByRole("link", { name: "The task's page" }).click()]);
    await expect(page.getByRole("heading", { level: 1 })).toContainText("Approve the release notes");
    await expect(page.locator("#result-heading + .agent-text")).toHaveText("Approved: mention the migration guide in the announcement. Thanks!");
    await expect(page.locator("#history-heading ~ .table-wrap")).toContainText("approved by owner");
    await expectAccessible(page, "a decided owner task's page");
  });

  it("a failed task's page shows its error and history; Retry puts it back in the queue", async () => {
    const { page } = desk;
    const flaky = await task("Upload the binaries", { goal_id: release.goalId, max_attempts: 2 });
    const claim = await callTool<Claim>(agent, "get_next_task", { agent_id: "uploader", goal_id: release.goalId });
    expect(claim.task!.id).toBe(flaky.id);
    await callTool(agent, "heartbeat_task", { task_id: flaky.id, lease_id: claim.lease_id, progress: "3 of 5 files up" });
    await callTool(agent, "update_task_status", { task_id: flaky.id, lease_id: claim.lease_id, status: "failed", error: "the CDN answered 503" });
    await page.goto(url(`/app/tasks/${flaky.id}`));
    await expect(page.locator("#error-heading + .agent-text")).toHaveText("the CDN answered 503");
    await expect(page.locator("#progress-heading + .agent-text")).toHaveText("3 of 5 files up");
    await expect(page.locator(".task-summary")).toContainText("1 of 2");
    await expectAccessible(page, "a failed task's page");
    await screenshot(page, "owner-task-failed");
    await Promise.all([page.waitForURL(url(`/app/tasks/${flaky.id}?retried=1`)), page.getByRole("button", { name: "Retry" }).click()]);
    await expect(page.getByRole("status").filter({ hasText: "Retried" })).toContainText("attempt 2");
    expect(await callTool(agent, "get_task", { task_id: flaky.id })).toMatchObject({ status: "pending" });
  });

  it("tasks without a goal have a page, linked from the goals", async () => {
    const { page } = desk;
    await page.goto(url("/app"));
    const section = page.locator("section[aria-labelledby='loose-heading']");
    await expect(section).toContainText("Approve the newsletter");
    await section.getByRole("link", { name: "Approve the newsletter" }).click();
    await expect(page.locator(".crumbs")).toContainText("Tasks without a goal");
    await page.locator(".crumbs").getByRole("link", { name: "Tasks without a goal" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Tasks without a goal");
    await expectAccessible(page, "tasks without a goal");
  });

  it("fits the new pages into 375 px, and asks no other host for anything", async () => {
    const phone = await openPage(chromium, { width: 375, height: 812 });
    await signIn(phone.page, server, server.ownerPassword);
    const gate = await task("Approve the phone-sized decision, which has a rather long title to wrap", { goal_id: budget.goalId, role: "owner" });
    for (const [name, path] of [
      ["owner-phone-waiting", "/app/waiting"],
      ["owner-phone-task", `/app/tasks/${release.approval}`],
      ["owner-phone-tasks", "/app/tasks"],
    ] as const) {
      await phone.page.goto(url(path));
      if (path === "/app/waiting") await expect(decision(phone.page, gate.id)).toBeVisible();
      expect(await phone.page.evaluate<number>("document.documentElement.scrollWidth"), path).toBeLessThanOrEqual(375);
      await screenshot(phone.page, name);
    }
    expect(hostsOf([...desk.requests, ...phone.requests])).toEqual([new URL(server.origin).host]);
    expect([...desk.problems, ...phone.problems]).toEqual([]);
    await phone.context.close();
  });
});
