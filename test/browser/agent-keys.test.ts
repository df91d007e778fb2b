/**
 * The Agent keys page in a real browser (SPEC §16): Chromium against `wrangler dev`. The owner
 * makes a key with the form, copies it with the button, an agent uses it (an SDK client with
 * nothing but the Authorization header), the list shows its last use, and Revoke ends it on the
 * agent's next call. The page asks no other host for anything and breaks no CSP rule.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callTool, connectV2, showLogsOnFailure, startDevServer, type DevServer } from "../e2e/harness";
import { hostsOf, launchChromium, openPage, screenshot, signIn, type DashboardBrowser, type OpenedPage } from "./browser";
import { expectAccessible } from "./axe";
import "./matchers";

let server: DevServer;
let chromium: DashboardBrowser;
let desk: OpenedPage;

beforeAll(async () => {
  chromium = await launchChromium();
  server = await startDevServer();
  desk = await openPage(chromium);
  await desk.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.origin });
});

afterAll(async () => {
  await chromium?.close();
  await server?.stop();
});

showLogsOnFailure(() => server);

describe("agent keys on the dashboard", () => {
  it("makes a key, shows it once with a copy button, and the key signs an agent in on its endpoint", async () => {
    const { page } = desk;
    await signIn(page, server, server.ownerPassword);
    await page.getByRole("link", { name: "Agent keys" }).click();
    await expect(page.getByRole("heading", { name: "Agent keys", level: 1 })).toBeVisible();
    await screenshot(page, "agent-keys-empty");

    await page.getByLabel("Agent id").fill("coder-7");
    await page.getByLabel(/^Roles/).fill("coder, reviewer");
    await page.getByLabel("Endpoint").selectOption("/mcp/core");
    await page.getByLabel("Expires").selectOption("30");
    await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Create key" }).click()]);

    await expect(page.getByRole("heading", { name: "Key for coder-7" })).toBeVisible();
    const key = (await page.locator("#new-key").textContent())!;
    expect(key).toMatch(/^ark_owner_[a-z2-7]{12}_[a-z2-7]{32}$/);
    await expect(page.locator("#snippet-claude")).toContainText(`--header "Authorization: Bearer ${key}"`);
    await page.getByRole("button", { name: "Copy the key" }).click();
    await expect(page.getByRole("button", { name: "Copy the key" }).locator("xpath=following-sibling::*[@role='status']")).toHaveText("Copied");
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(key);
    await screenshot(page, "agent-key-created");
    await expectAccessible(page, "a key shown once");

    // An agent on a server: an SDK client with the header, no browser, no consent page.
    const agent = await connectV2(server, key, { url: `${server.mcpUrl}/core` });
    const task = await callTool<{ id: number }>(agent, "create_task", { title: "made by a keyed agent" });
    const claim = await callTool<{ task: { id: number; assigned_to: string } | null }>(agent, "get_next_task", {});
    expect(claim.task).toMatchObject({ id: task.id, assigned_to: "coder-7" });

    await page.getByRole("link", { name: "Back to agent keys" }).click();
    const row = page.locator("tr", { hasText: "coder-7" });
    await expect(row).toContainText("Active");
    await expect(row).toContainText("coder, reviewer");
    await expect(row).toContainText("/mcp/core");
    await expect(row.locator('td[data-label="Last use"] time')).toBeVisible();
    expect(await page.content()).not.toContain(key);

    await Promise.all([page.waitForLoadState("load"), row.getByRole("button", { name: /^Revoke the key of coder-7/ }).click()]);
    await expect(page.locator("tr", { hasText: "coder-7" })).toContainText("Revoked");
    await screenshot(page, "agent-keys-revoked");
    await expectAccessible(page, "the agent keys with one revoked");
    await expect(callTool(agent, "get_task", { task_id: task.id })).rejects.toThrow();

    expect(desk.problems).toEqual([]);
    expect(hostsOf(desk.requests)).toEqual([new URL(server.origin).host]);
  });
});
