/**
 * The goal board (SPEC §15) in a real browser, as an MCP Apps host runs it: a host page built on
 * ext-apps' own host side (`AppBridge`, ./app-host.js) against `wrangler dev`, with a real OAuth
 * token. Like a chat client, the host reads get_goal's `_meta` from tools/list, reads the `ui://`
 * resource it names, calls get_goal, shows the resource in a sandboxed frame under the extension's
 * default content policy, hands it the call's input and result, and relays the app's own tool
 * calls to the server through its MCP client — reads only: a call to anything else is refused and
 * recorded. Then: the graph shows the goal's tasks with their states, an agent's work appears in
 * it by itself, it asks no origin for anything, follows the host's theme, fits 320 px, draws a
 * goal of 500 tasks, and passes axe's checks.
 *
 * Screenshots go to test-output/screenshots/ (docs/app.png is one of them, copied by hand).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getToolUiResourceUri } from "@modelcontextprotocol/ext-apps/app-bridge";
import { build } from "esbuild";
import type { Frame, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorize, callTool, connectV2, showLogsOnFailure, startDevServer, type DevServer, type V2Client } from "../e2e/harness";
import { launchChromium, openPage, screenshot, type DashboardBrowser, type OpenedPage } from "./browser";
import { seedShowcase, type Showcase } from "./fixtures";
import "./matchers";

const HERE = dirname(fileURLToPath(import.meta.url));
const HOST_ORIGIN = "http://chat.test";
const APP_MIME = "text/html;profile=mcp-app";

let server: DevServer;
let chromium: DashboardBrowser;
/** The host's own MCP client: what it lists, reads and relays goes through it. */
let host: V2Client;
/** Another client, as the agents at work. */
let agent: V2Client;
let showcase: Showcase;
let hostScript: string;
/** tools/list as the host got it. */
let tools: { name: string; annotations?: { readOnlyHint?: boolean }; _meta?: Record<string, unknown> }[];
let board: { uri: string; html: string };

beforeAll(async () => {
  chromium = await launchChromium();
  server = await startDevServer();
  host = await connectV2(server, (await authorize(server)).accessToken);
  agent = await connectV2(server, (await authorize(server)).accessToken);
  showcase = await seedShowcase(agent);
  const bundled = await build({ entryPoints: [join(HERE, "app-host.js")], bundle: true, format: "esm", platform: "browser", write: false, logLevel: "error" });
  hostScript = bundled.outputFiles[0].text;
});

afterAll(async () => {
  await host?.close();
  await agent?.close();
  await chromium?.close();
  await server?.stop();
});

showLogsOnFailure(() => server);

const HOST_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Chat</title>
<style>
  body { margin: 0; font: 15px/1.4 system-ui, sans-serif; background: #f4f3ee; color: #1f1e1d; }
  main { max-width: 760px; margin: 0 auto; padding: 16px 12px; }
  .call { margin: 0 0 6px; font: 13px ui-monospace, monospace; color: #5f5d58; }
  iframe { display: block; width: 100%; height: 120px; border: 1px solid #d8d6cf; border-radius: 10px; background: transparent; }
  .turn { margin-bottom: 24px; }
  .turn.fullscreen { position: fixed; inset: 0; margin: 0; background: #f4f3ee; }
  .turn.fullscreen iframe { height: 100vh; border-radius: 0; }
</style></head>
<body><main id="chat"></main><script type="module" src="/host.js"></script></body></html>`;

interface HostPage extends OpenedPage {
  /** Requests made by any frame but the host's own page. */
  appRequests: string[];
  /** Every tool call the apps on this page asked their host to relay. */
  calls: { name: string; arguments: Record<string, unknown> }[];
}

/** A chat page of the test host at `width`, its tool calls relayed to the server as reads only. */
async function openHost(width = 800, height = 900): Promise<HostPage> {
  const opened = await openPage(chromium, { width, height });
  const { page } = opened;
  await page.route(`${HOST_ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === "/") return route.fulfill({ contentType: "text/html", body: HOST_PAGE });
    if (path === "/host.js") return route.fulfill({ contentType: "text/javascript", body: hostScript });
    return route.fulfill({ status: 404, body: "" });
  });
  const appRequests: string[] = [];
  const calls: HostPage["calls"] = [];
  page.on("request", (request) => {
    if (request.frame() !== page.mainFrame()) appRequests.push(request.url());
  });
  await page.exposeFunction("hostCallTool", async (params: { name: string; arguments?: Record<string, unknown> }) => {
    calls.push({ name: params.name, arguments: params.arguments ?? {} });
    // A careful host relays what the tool list says is a read; this one refuses the rest.
    if (tools.find((tool) => tool.name === params.name)?.annotations?.readOnlyHint !== true) {
      return { isError: true, content: [{ type: "text", text: `refused by the test host: ${params.name} is not a read` }] };
    }
    return host.callTool({ name: params.name, arguments: params.arguments ?? {} });
  });
  await page.goto(`${HOST_ORIGIN}/`);
  await page.waitForFunction("typeof window.showApp === 'function'");
  return { ...opened, appRequests, calls };
}

/** What the model's call to get_goal shows in the chat: the board under its result. Answers the app's frame. */
async function showBoard(page: Page, goalId: number, hostContext: Record<string, unknown> = {}, relaysTools = true): Promise<{ frame: Frame; index: number }> {
  const toolResult = await host.callTool({ name: "get_goal", arguments: { goal_id: goalId } });
  const index = await page.evaluate(
    ([html, toolInput, result, context, relays]) =>
      (globalThis as unknown as HostWindow).showApp({ html, toolName: "get_goal", toolInput, toolResult: result, hostContext: context, relaysTools: relays }),
    [
      board.html,
      { goal_id: goalId },
      toolResult,
      { theme: "light", displayMode: "inline", availableDisplayModes: ["inline", "fullscreen"], platform: "web", ...hostContext },
      relaysTools,
    ] as const,
  );
  const element = await page.locator("iframe").nth(index).elementHandle();
  const frame = await element!.contentFrame();
  return { frame: frame!, index };
}

const appOf = (page: Page, index = 0) => page.frameLocator("iframe").nth(index);

/** What ./app-host.js puts on the host page's window. */
interface HostWindow {
  showApp(options: object): Promise<number>;
  changeHostContext(index: number, change: object): Promise<void>;
}

describe("a host finds the board", () => {
  it("in get_goal's _meta (tools/list), and reads it as a ui:// resource of the MCP Apps type", async () => {
    tools = (await host.listTools()).tools as typeof tools;
    const getGoal = tools.find((tool) => tool.name === "get_goal")!;
    const uri = getToolUiResourceUri(getGoal);
    expect(uri).toBe("ui://agent-runtime/goal-board");
    const { contents } = await host.readResource({ uri: uri! });
    const content = contents[0] as { mimeType?: string; text?: string };
    expect(content.mimeType).toBe(APP_MIME);
    board = { uri: uri!, html: content.text! };
  });
});

describe("the board in the host", () => {
  let desk: HostPage;

  beforeAll(async () => {
    desk = await openHost();
  });

  afterAll(async () => {
    // A board polls while it is shown: closing the page stops it.
    await desk?.context.close();
  });

  it("draws the goal's tasks with their states in words, as the dashboard does", async () => {
    const { page } = desk;
    await showBoard(page, showcase.goalId);
    const app = appOf(page);
    await expect(app.locator("#graph .node")).toHaveCount(11);
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
      const node = app.locator(`#task-${id}`);
      await expect(node).toHaveClass(new RegExp(`st-${state}`));
      await expect(node.locator(".nstate")).toContainText(words);
      await expect(node).toHaveAttribute("aria-label", new RegExp(`^[^.]+\\. ${words} · #${id}\\.`));
    }
    await expect(app.locator(`#task-${t.api} .nmore`)).toContainText("coder-1 · until");
    await expect(app.locator("#graph .edge")).toHaveCount(13);
    await expect(app.locator(`#graph .edge[data-from="${t.api}"][data-to="${t.docs}"]`)).toHaveCount(1);
    await expect(app.locator("#goal-name")).toHaveText("Launch the public website");
    await expect(app.locator("#goal-status .badge")).toHaveText("Active");
    await expect(app.locator("#goal-counts")).toHaveText("11 tasks: 3 done, 1 in progress, 5 pending, 1 failed, 1 cancelled.");
    await expect(app.locator("#live-status")).toHaveAttribute("data-state", "live");
    // The frame grew to the board's height: the host fits it to what the app reports.
    expect((await page.locator("iframe").boundingBox())!.height).toBeGreaterThan(400);
  });

  it("shows a task's details with its texts when it is selected", async () => {
    const { page } = desk;
    const app = appOf(page);
    await app.locator(`#task-${showcase.tasks.migrate}`).click();
    await expect(app.locator("#task-detail h3")).toHaveText(`#${showcase.tasks.migrate} Migrate the old content`);
    await expect(app.locator("#task-detail dl.texts dd")).toHaveText("the old database dump is incomplete");
    await screenshot(page, "app");
  });

  it("shows an agent's work by itself: a task claimed, then completed, within a few seconds", async () => {
    const { page } = desk;
    const app = appOf(page);
    const t = showcase.tasks;
    const claim = await callTool<{ task: { id: number }; lease_id: string }>(agent, "get_next_task", { goal_id: showcase.goalId, agent_id: "coder-7" });
    expect(claim.task.id).toBe(t.pages);
    await expect(app.locator(`#task-${t.pages}`)).toHaveClass(/st-in_progress/);
    await expect(app.locator(`#task-${t.pages} .nmore`)).toContainText("coder-7 · until");
    await callTool(agent, "update_task_status", { task_id: t.pages, status: "completed", result: "all pages built", lease_id: claim.lease_id });
    await expect(app.locator(`#task-${t.pages}`)).toHaveClass(/st-completed/);
    await expect(app.locator(`#task-${t.pages} .nstate`)).toContainText("Done");
    await expect(app.locator("#goal-counts")).toHaveText("11 tasks: 4 done, 1 in progress, 4 pending, 1 failed, 1 cancelled.");
    // A task added to the goal appears too, with its edge.
    const added = await callTool<{ id: number }>(agent, "create_task", { title: "Announce the launch", goal_id: showcase.goalId, dependencies: [t.launch] });
    await expect(app.locator(`#task-${added.id}`)).toHaveClass(/st-blocked/);
    await expect(app.locator(`#graph .edge[data-from="${t.launch}"][data-to="${added.id}"]`)).toHaveCount(1);
  });

  it("refreshes on demand: an edit that moves no count shows at once on Refresh", async () => {
    const { page } = desk;
    const app = appOf(page);
    const t = showcase.tasks;
    // A title edit leaves the goal's counts as they are: the board lists the tasks again only
    // every 30 s by itself, or when asked.
    await callTool(agent, "update_task", { task_id: t.docs, title: "Write the user guide" });
    await app.getByRole("button", { name: "Refresh" }).click();
    await expect(app.locator(`#task-${t.docs} .ntitle`)).toHaveText("Write the user guide");
  });

  it("called only reads, and asked no origin for anything: every request of the page is the host's own", async () => {
    const { requests, problems, appRequests, calls } = desk;
    expect(calls.length).toBeGreaterThan(0);
    expect([...new Set(calls.map((call) => call.name))].sort()).toEqual(["get_goal", "list_tasks"]);
    expect(appRequests).toEqual([]);
    expect(new Set(requests.map((url) => new URL(url).origin))).toEqual(new Set([HOST_ORIGIN]));
    // No content-policy violation (each is a console error), no script error.
    expect(problems).toEqual([]);
  });

  it("passes axe's accessibility checks", async () => {
    const { page } = desk;
    const frame = (await (await page.locator("iframe").first().elementHandle())!.contentFrame())!;
    const axe = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
    await frame.evaluate(axe);
    // A task selected, so that its details are checked too.
    await appOf(page).locator(`#task-${showcase.tasks.api}`).click();
    await expect(appOf(page).locator("#task-detail h3")).toContainText("Build the API");
    // Left out: label-content-name-mismatch. A node's spoken label says everything it draws, in
    // sentences ("Task 7: Build the API. In progress. Claimed by …"), not its drawn lines word for
    // word; graph.js gives the dashboard the same nodes.
    const violations = await frame.evaluate<{ id: string; nodes: unknown[] }[]>(
      `axe.run(document, { resultTypes: ["violations"], rules: { "label-content-name-mismatch": { enabled: false } } })
        .then((r) => r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target) })))`,
    );
    expect(violations).toEqual([]);
  });
});

describe("fitting into the host", () => {
  it("follows the host's theme: dark with the board's own colours, the host's colours when given, a switch at once", async () => {
    const opened = await openHost();
    const { page } = opened;
    const background = (frame: Frame) => frame.evaluate<string>("getComputedStyle(document.body).backgroundColor");
    const plain = await showBoard(page, showcase.goalId, { theme: "dark" });
    await expect(appOf(page, 0).locator("#graph .node")).toHaveCount(12);
    expect(await background(plain.frame)).toBe("rgb(20, 21, 24)");
    const styled = await showBoard(page, showcase.goalId, {
      theme: "dark",
      styles: {
        variables: {
          "--color-background-primary": "light-dark(#ffffff, #262624)",
          "--color-text-primary": "light-dark(#141413, #faf9f5)",
          "--color-background-success": "light-dark(#e9f5e9, #1f3a24)",
          "--color-text-success": "light-dark(#1d6b2c, #8fd19e)",
        },
      },
    });
    await expect(appOf(page, 1).locator("#graph .node")).toHaveCount(12);
    expect(await background(styled.frame)).toBe("rgb(38, 38, 36)");
    expect(await styled.frame.evaluate<string>("getComputedStyle(document.body).color")).toBe("rgb(250, 249, 245)");
    const done = `#task-${showcase.tasks.requirements} .box`;
    expect(await styled.frame.evaluate<string>(`getComputedStyle(document.querySelector("${done}")).fill`)).toBe("rgb(31, 58, 36)");
    await screenshot(page, "app-dark");
    await page.evaluate(([index]) => (globalThis as unknown as HostWindow).changeHostContext(index, { theme: "light" }), [styled.index] as const);
    await expect.poll(() => background(styled.frame)).toBe("rgb(255, 255, 255)");
    await opened.context.close();
  });

  it("is readable 320 px wide: the page never scrolls sideways, the graph scrolls inside its box", async () => {
    const { page, problems, context } = await openHost(320, 700);
    const { frame } = await showBoard(page, showcase.goalId);
    await expect(appOf(page).locator("#graph .node")).toHaveCount(12);
    const widths = await frame.evaluate<{ page: number; view: number; graph: number; graphBox: number }>(`({
      page: document.documentElement.scrollWidth,
      view: document.documentElement.clientWidth,
      graph: document.getElementById("graph").scrollWidth,
      graphBox: document.getElementById("graph").clientWidth,
    })`);
    expect(widths.view).toBeLessThanOrEqual(320);
    expect(widths.page).toBeLessThanOrEqual(widths.view);
    expect(widths.graph).toBeGreaterThan(widths.graphBox);
    await screenshot(page, "app-320");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("in a host that relays no tool calls, shows get_goal's answer and says why the tasks are not drawn", async () => {
    const { page, problems, calls, context } = await openHost();
    await showBoard(page, showcase.goalId, {}, false);
    const app = appOf(page);
    await expect(app.locator("#goal-name")).toHaveText("Launch the public website");
    await expect(app.locator("#goal-counts")).toHaveText(/^1\d tasks: \d done, /);
    await expect(app.locator("#live-status")).toHaveAttribute("data-state", "static");
    await expect(app.locator("#graph")).toContainText("this client does not let the board read them");
    await expect(app.getByRole("button", { name: "Refresh" })).not.toBeVisible();
    expect(calls).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("goes full screen when the host offers it, and back", async () => {
    const { page, context } = await openHost();
    await showBoard(page, showcase.goalId);
    const app = appOf(page);
    await expect(app.locator("#graph .node")).toHaveCount(12);
    await app.getByRole("button", { name: "Full screen" }).click();
    await expect(page.locator(".turn.fullscreen")).toHaveCount(1);
    await expect(app.getByRole("button", { name: "Exit full screen" })).toHaveAttribute("aria-pressed", "true");
    await app.getByRole("button", { name: "Exit full screen" }).click();
    await expect(page.locator(".turn.fullscreen")).toHaveCount(0);
    await context.close();
  });
});

describe("a large goal", () => {
  it("draws all 500 tasks of a goal, walking list_tasks page by page", async () => {
    const goal = await callTool<{ id: number }>(agent, "create_goal", { name: "A goal of 500 tasks", description: "" });
    // Ten plans of 50, each a few chains: task k of a plan depends on task k-3. Descriptions of
    // 500 characters make the full list longer than one page (256 KiB of JSON, docs/lists.md).
    const description = "Check every page of the old site against the new one, note what differs and why. ".repeat(6).slice(0, 500);
    for (let plan = 0; plan < 10; plan++) {
      const tasks = Array.from({ length: 50 }, (_, k) => ({
        title: `Step ${plan * 50 + k + 1}`,
        description,
        ...(k >= 3 ? { depends_on: [k - 3] } : {}),
      }));
      await callTool(agent, "decompose_goal", { goal_id: goal.id, tasks, mode: plan === 0 ? "new" : "append" });
    }
    const { page, problems, calls, context } = await openHost(1280, 900);
    await showBoard(page, goal.id);
    const app = appOf(page);
    await expect(app.locator("#graph")).toHaveAttribute("data-rendered", "500", { timeout: 30_000 });
    await expect(app.locator("#graph .edge")).toHaveCount(470);
    await expect(app.locator("#goal-counts")).toHaveText("500 tasks: 500 pending.");
    const pages = calls.filter((call) => call.name === "list_tasks" && call.arguments.goal_id === goal.id);
    expect(pages.some((call) => typeof call.arguments.cursor === "string")).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });
});
