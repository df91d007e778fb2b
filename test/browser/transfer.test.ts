/**
 * Export, import and wipe in the browser: the download from one instance goes into a second, empty
 * instance and comes back out of it byte for byte; a file that is malformed or too large, and any
 * file once the instance holds data, is refused with a visible message and changes nothing; a
 * wipe needs WIPE typed, and then the instance takes the file again.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorize, callTool, connectV2, showLogsOnFailure, startDevServer, type DevServer } from "../e2e/harness";
import { expectAccessible } from "./axe";
import { hostsOf, launchChromium, openPage, screenshot, signIn, type DashboardBrowser, type OpenedPage } from "./browser";
import { seedShowcase, type Showcase } from "./fixtures";
import "./matchers";

let source: DevServer;
let target: DevServer;
let chromium: DashboardBrowser;
let showcase: Showcase;
let onSource: OpenedPage;
let onTarget: OpenedPage;

beforeAll(async () => {
  chromium = await launchChromium();
  source = await startDevServer();
  const client = await connectV2(source, (await authorize(source)).accessToken);
  showcase = await seedShowcase(client);
  await client.close();
  target = await startDevServer();
  onSource = await openPage(chromium);
  onTarget = await openPage(chromium);
  await signIn(onSource.page, source, source.ownerPassword);
  await signIn(onTarget.page, target, target.ownerPassword);
});

afterAll(async () => {
  await chromium?.close();
  await source?.stop();
  await target?.stop();
});

showLogsOnFailure(() => source);
showLogsOnFailure(() => target);

/** Clicks "Download the export" and returns the file's bytes and suggested name. */
async function download(page: Page, server: DevServer): Promise<{ bytes: Buffer; name: string }> {
  await page.goto(`${server.origin}/app/data`);
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download the export" }).click()]);
  return { bytes: await readFile((await file.path())!), name: file.suggestedFilename() };
}

/**
 * Chooses a file on the import form and submits it; returns the message the page shows. The file
 * is chosen by its path on disk, as a person picks one: a buffer travels to the browser inside one
 * protocol message, which on a loaded machine took more than Playwright's 30 s for 16 MiB.
 */
async function upload(page: Page, server: DevServer, name: string, bytes: Buffer) {
  const dir = await mkdtemp(join(tmpdir(), "agent-runtime-upload-"));
  try {
    const file = join(dir, name);
    await writeFile(file, bytes);
    await page.goto(`${server.origin}/app/data`);
    await page.getByLabel("Export file (.json)").setInputFiles(file);
    await Promise.all([page.waitForURL(`${server.origin}/import`), page.getByRole("button", { name: "Import" }).click()]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return page.locator("#data-result");
}

let exported: Buffer;

describe("export and import through the browser", () => {
  it("downloads everything as one JSON file", async () => {
    const file = await download(onSource.page, source);
    expect(file.name).toMatch(/^agent-runtime-export-\d{4}-\d{2}-\d{2}T.*Z\.json$/);
    exported = file.bytes;
    const doc = JSON.parse(exported.toString("utf8")) as { tables: Record<string, { rows: unknown[] }> };
    expect(doc.tables.tasks.rows).toHaveLength(11);
    expect(doc.tables.task_events.rows.length).toBeGreaterThan(0);
    expect(doc.tables.pipelines.rows).toHaveLength(2);
    expect(doc.tables.batons.rows.length).toBeGreaterThan(0);
    expect(doc.tables.breakers.rows).toHaveLength(3);
    expect(doc.tables.breaker_events.rows.length).toBeGreaterThan(0);
  });

  it("refuses a file that is not JSON, saying why, and the instance stays empty", async () => {
    const message = await upload(onTarget.page, target, "broken.json", Buffer.from('{"format": "agent-runtime-export", '));
    await expect(message).toContainText("Refused, nothing was imported: the file is not JSON");
    await expect(message).toHaveAttribute("role", "alert");
    await expectAccessible(onTarget.page, "an import refused");
    await onTarget.page.goto(`${target.origin}/app`);
    await expect(onTarget.page.locator(".empty")).toContainText("No goals yet");
  });

  it("refuses a file larger than 16 MiB, saying so", async () => {
    const big = Buffer.alloc(16 * 1024 * 1024 + 1, 0x20);
    const message = await upload(onTarget.page, target, "huge.json", big);
    await expect(message).toContainText("The file is larger than 16 MiB");
  });

  it("imports the download into the empty instance, and exporting it again gives the same bytes", async () => {
    const message = await upload(onTarget.page, target, "export.json", exported);
    await expect(message).toContainText("Imported");
    await expect(message).toContainText("1 goals, 11 tasks, 2 pipelines, 3 breakers");
    await screenshot(onTarget.page, "import-done");
    await expectAccessible(onTarget.page, "an import done");
    const again = await download(onTarget.page, target);
    expect(again.bytes.equals(exported)).toBe(true);
    // And the pages show the imported data.
    await onTarget.page.goto(`${target.origin}/app/goals/${showcase.goalId}`);
    await expect(onTarget.page.locator("#graph .node")).toHaveCount(11);
  });

  it("refuses any import into an instance that holds data, and changes nothing", async () => {
    const message = await upload(onTarget.page, target, "export.json", exported);
    await expect(message).toContainText("this instance is not empty");
    const after = await download(onTarget.page, target);
    expect(after.bytes.equals(exported)).toBe(true);
  });

  it("keeps working for the agents: the imported instance takes new tasks after the imported ids", async () => {
    const client = await connectV2(target, (await authorize(target)).accessToken);
    const created = await callTool<{ id: number }>(client, "create_task", { title: "after the import", goal_id: showcase.goalId });
    expect(created.id).toBe(12);
    await client.close();
  });

  it("wipes the instance only once WIPE is typed, and then the same file imports again", async () => {
    const page = onTarget.page;
    const wipe = async (typed: string) => {
      await page.goto(`${target.origin}/app/data`);
      await page.getByLabel("Type WIPE to confirm").fill(typed);
      await Promise.all([page.waitForURL(`${target.origin}/wipe`), page.getByRole("button", { name: "Wipe everything" }).click()]);
      return page.locator("#data-result");
    };
    await expect(await wipe("wipe")).toContainText("Type WIPE to confirm the wipe. Nothing was wiped.");
    await page.goto(`${target.origin}/app`);
    await expect(page.locator(".empty")).toHaveCount(0);
    const wiped = await wipe("WIPE");
    await expect(wiped).toContainText("rows removed. This instance is empty");
    await expect(wiped).toHaveAttribute("role", "status");
    await page.goto(`${target.origin}/app`);
    await expect(page.locator(".empty")).toContainText("No goals yet");
    await expect(await upload(page, target, "export.json", exported)).toContainText("1 goals, 11 tasks, 2 pipelines, 3 breakers");
    expect((await download(page, target)).bytes.equals(exported)).toBe(true);
  });

  it("asked no host but each dashboard's own for anything", async () => {
    expect(hostsOf(onSource.requests)).toEqual([new URL(source.origin).host]);
    expect(hostsOf(onTarget.requests)).toEqual([new URL(target.origin).host]);
    // The refused imports answered 400/409/413, which Chromium logs as failed loads; nothing else.
    expect([...onSource.problems, ...onTarget.problems].filter((p) => !/status of 4(00|09|13)/.test(p))).toEqual([]);
  });
});
