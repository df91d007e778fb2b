/**
 * The owner's dashboard through the real Worker (SPEC §11): sign-in and its throttle, the session
 * cookie, CSRF defences, the pages, export/import over HTTP and the live socket. The browser
 * itself is tested in test/browser/; these pin the HTTP contract.
 *
 * The dashboard shows the owner's Runtime (`owner`), which no other test file uses. Each test makes
 * what it needs (wiping the instance first where it needs it empty), so that any one of them runs
 * alone too (`-t`).
 */
import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import type { LiveChannel } from "../src/runtime/live";
import type { Runtime } from "../src/runtime/runtime";
import { SESSION_SECONDS } from "../src/dashboard/session";
import worker from "../src/index";
import { get, post, signIn, type Signed } from "./helpers/dashboard";
import { ORIGIN, workerFetch } from "./helpers/oauth";
import { freshRuntime, stubOf, value } from "./helpers/runtime";

const PASSWORD = env.OWNER_PASSWORD!;
/** The limits as docs/dashboard.md and docs/security.md state them, not as src/ happens to say. */
const IMPORT_LIMIT_BYTES = 16 * 1024 * 1024;
const FREE_FAILURES = 5;
const owner = () => env.RUNTIME.getByName("owner") as unknown as RuntimeApi;
/** A client IP of its own per test, so throttle counts never leak between tests. */
const newIp = () => `203.0.113.${Math.floor(Math.random() * 250)}-${crypto.randomUUID()}`;

function login(password: string, { ip = newIp(), origin = ORIGIN, url = `${ORIGIN}/login` } = {}) {
  return workerFetch(url, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: origin, "CF-Connecting-IP": ip },
    body: new URLSearchParams({ password }),
  });
}

function importForm(signed: Signed, file: string | Blob, csrf = signed.csrf): FormData {
  const form = new FormData();
  form.set("csrf", csrf);
  form.set("file", typeof file === "string" ? new File([file], "export.json", { type: "application/json" }) : file, "export.json");
  return form;
}

/** A populated instance's export: the fixture for the owner's import. */
async function someExport(): Promise<string> {
  const rt = freshRuntime("dash-export");
  const goal = value(await rt.createGoal({ name: "Imported goal", description: "" }));
  const first = value(await rt.createTask({ title: "first", goal_id: goal.id }));
  value(await rt.createTask({ title: "second", goal_id: goal.id, dependencies: [first.id] }));
  value(await rt.recordBreakerFailure("agent-x", { failure_type: "timeout", error_message: "slow" }));
  value(await rt.createRelayPipeline({ name: "p", goal: "g", agent_types: ["researcher"] }));
  return value(await rt.exportAll());
}

/** The owner's instance emptied through the Runtime itself. */
const wipeOwner = async () => void value(await owner().wipeAll());

describe("export and import over HTTP", () => {
  beforeEach(wipeOwner);

  it("refuses an import without the session's CSRF token or from another site, changing nothing", async () => {
    const signed = await signIn();
    const before = value(await owner().exportAll());
    expect((await post("/import", signed, importForm(signed, await someExport(), "forged"))).status).toBe(403);
    expect((await post("/import", signed, importForm(signed, await someExport()), "https://evil.example")).status).toBe(403);
    expect(value(await owner().exportAll())).toBe(before);
  });

  it("refuses a file larger than 16 MiB without reading past the limit, changing nothing", async () => {
    const signed = await signIn();
    const before = value(await owner().exportAll());
    const big = new Blob([new Uint8Array(IMPORT_LIMIT_BYTES + 1).fill(32)]);
    const response = await post("/import", signed, importForm(signed, big));
    expect(response.status).toBe(413);
    expect(await response.text()).toContain("larger than 16 MiB");
    expect(value(await owner().exportAll())).toBe(before);
  });

  it("refuses a file that is not JSON, and one that is not UTF-8, saying so", async () => {
    const signed = await signIn();
    const before = value(await owner().exportAll());
    const notJson = await post("/import", signed, importForm(signed, "{oops"));
    expect(notJson.status).toBe(400);
    expect(await notJson.text()).toContain("Refused, nothing was imported: the file is not JSON");
    const notText = await post("/import", signed, importForm(signed, new Blob([new Uint8Array([0xff, 0xfe, 0x00])])));
    expect(notText.status).toBe(400);
    expect(await notText.text()).toContain("not UTF-8");
    expect(value(await owner().exportAll())).toBe(before);
  });

  it("imports a file into the empty instance, and its export is the same file", async () => {
    const signed = await signIn();
    const text = await someExport();
    const response = await post("/import", signed, importForm(signed, text));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("Imported");
    const exported = await get("/export", signed);
    expect(exported.status).toBe(200);
    expect(exported.headers.get("Content-Disposition")).toMatch(/^attachment; filename="agent-runtime-export-.*\.json"$/);
    expect(await exported.text()).toBe(text);
  });

  it("refuses an import into an instance that is not empty with a clear message, changing nothing", async () => {
    const signed = await signIn();
    value(await owner().importAll(await someExport()));
    const before = value(await owner().exportAll());
    const response = await post("/import", signed, importForm(signed, await someExport()));
    expect(response.status).toBe(409);
    expect(await response.text()).toContain("this instance is not empty");
    expect(value(await owner().exportAll())).toBe(before);
  });
});

describe("wiping the instance over HTTP", () => {
  const wipe = (signed: Signed | undefined, fields: Record<string, string>, origin = ORIGIN) => post("/wipe", signed, new URLSearchParams(fields), origin);

  beforeEach(async () => {
    await wipeOwner();
    value(await owner().importAll(await someExport()));
  });

  it("refuses without the session's CSRF token, from another site, or without the typed confirmation, changing nothing", async () => {
    const signed = await signIn();
    const before = value(await owner().exportAll());
    expect((await wipe(signed, { confirm: "WIPE" })).status).toBe(403);
    expect((await wipe(signed, { csrf: "forged", confirm: "WIPE" })).status).toBe(403);
    expect((await wipe(signed, { csrf: signed.csrf, confirm: "WIPE" }, "https://evil.example")).status).toBe(403);
    for (const typed of ["", "wipe", "yes", "WIPE IT"]) {
      const response = await wipe(signed, { csrf: signed.csrf, confirm: typed });
      expect(response.status, typed).toBe(400);
      expect(await response.text()).toContain("Type WIPE to confirm the wipe. Nothing was wiped.");
    }
    // Not signed in: the session comes first.
    expect((await wipe(undefined, { csrf: signed.csrf, confirm: "WIPE" })).status).toBe(401);
    expect(value(await owner().exportAll())).toBe(before);
  });

  it("empties the instance with the typed confirmation, and the same export can be imported again", async () => {
    const signed = await signIn();
    const text = value(await owner().exportAll());
    const response = await wipe(signed, { csrf: signed.csrf, confirm: "WIPE" });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/Wiped: \d+ rows removed\. This instance is empty/);
    expect(value(await owner().exportAll())).toBe(value(await freshRuntime("dash-empty").exportAll()));
    expect((await post("/import", signed, importForm(signed, text))).status).toBe(200);
    expect(value(await owner().exportAll())).toBe(text);
  });

  it("is a form on the Export & import page, and a GET of /wipe only leads there", async () => {
    const signed = await signIn();
    const page = await (await get("/app/data", signed)).text();
    expect(page).toContain(`<form method="post" action="/wipe">`);
    expect(page).toContain(`<input type="hidden" name="csrf" value="${signed.csrf}">`);
    expect(page).toMatch(/<input id="wipe-confirm" type="text" name="confirm"[^>]* required>/);
    const response = await get("/wipe", signed);
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe("/app/data");
  });
});

describe("sign-in", () => {
  it("shows a password form at / under a strict Content-Security-Policy, and no data", async () => {
    const response = await get("/");
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain(`<input id="password" type="password" name="password"`);
    expect(page).not.toContain("Imported goal");
    const csp = response.headers.get("Content-Security-Policy")!;
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) {
      expect(csp).toContain(directive);
    }
  });

  it("answers a wrong password with 403, the form again and no cookie", async () => {
    const response = await login("wrong horse");
    expect(response.status).toBe(403);
    expect(response.headers.get("Set-Cookie")).toBeNull();
    const page = await response.text();
    expect(page).toContain("Wrong password.");
    expect(page).not.toContain("Imported goal");
  });

  it("starts a session on the right password: HttpOnly, SameSite=Strict, expiring cookie, then /app", async () => {
    const response = await login(PASSWORD);
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe("/app");
    const cookie = response.headers.get("Set-Cookie")!;
    expect(cookie).toMatch(/^ar_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(SESSION_SECONDS).toBe(43_200);
  });

  it("over https the cookie is __Host- prefixed and Secure", async () => {
    // A deployed Worker: MCP_RESOURCE unset, its endpoint derived from the https origin it serves.
    const https = "https://agent-runtime.example.workers.dev";
    const request = new Request(`${https}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: https, "CF-Connecting-IP": newIp(), Host: new URL(https).host },
      body: new URLSearchParams({ password: PASSWORD }),
    });
    const response = await worker.fetch!(request as Request<unknown, IncomingRequestCfProperties>, { ...env, MCP_RESOURCE: undefined }, createExecutionContext());
    expect(response.headers.get("Set-Cookie")).toMatch(/^__Host-ar_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/);
  });

  it("throttles wrong passwords like the consent page: after the free failures every attempt waits", async () => {
    const ip = newIp();
    for (let i = 0; i < FREE_FAILURES; i++) expect((await login("wrong", { ip })).status).toBe(403);
    const throttled = await login(PASSWORD, { ip });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(throttled.headers.get("Set-Cookie")).toBeNull();
  });

  it("refuses a sign-in form posted from another site without counting it against the owner", async () => {
    const ip = newIp();
    for (let i = 0; i < FREE_FAILURES + 2; i++) {
      expect((await login("wrong", { ip, origin: "https://evil.example" })).status).toBe(403);
    }
    expect((await login(PASSWORD, { ip })).status).toBe(303);
  });

  it("keeps everything but the sign-in form behind the session", async () => {
    expect((await get("/app")).headers.get("Location")).toBe("/");
    expect((await get("/app/breakers")).status).toBe(303);
    expect((await get("/app", undefined, { "X-Dashboard-Fragment": "main" })).status).toBe(401);
    expect((await get("/export")).status).toBe(401);
    expect((await get("/live", undefined, { Upgrade: "websocket", Origin: ORIGIN })).status).toBe(401);
    const forged = { cookie: `ar_session=${"a".repeat(43)}`, csrf: "" };
    expect((await get("/app", forged)).status).toBe(303);
  });

  it("signs out only with the session's CSRF token, from our own page, and then the cookie is worthless", async () => {
    const signed = await signIn();
    expect((await post("/logout", signed, new URLSearchParams({ csrf: "forged" }))).status).toBe(403);
    expect((await post("/logout", signed, new URLSearchParams({ csrf: signed.csrf }), "https://evil.example")).status).toBe(403);
    expect((await get("/app", signed)).status).toBe(200);
    const out = await post("/logout", signed, new URLSearchParams({ csrf: signed.csrf }));
    expect(out.status).toBe(303);
    expect(out.headers.get("Set-Cookie")).toMatch(/^ar_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/);
    expect((await get("/app", signed)).headers.get("Location")).toBe("/");
  });

  it("ends a session at its expiry even before the store forgets it", async () => {
    const signed = await signIn();
    expect((await get("/app", signed)).status).toBe(200);
    // Only hashes are stored, so expire every stored session: the time inside the record decides.
    for (const { name } of (await env.OAUTH_KV.list({ prefix: "dashboard-session:" })).keys) {
      const record = (await env.OAUTH_KV.get<{ csrf: string; expiresAt: number }>(name, "json"))!;
      await env.OAUTH_KV.put(name, JSON.stringify({ ...record, expiresAt: Date.now() - 1 }));
    }
    expect((await get("/app", signed)).headers.get("Location")).toBe("/");
  });

  it("takes a form whose Origin is null only when the browser says it came from the same origin", async () => {
    const form = (site: string) =>
      workerFetch(`${ORIGIN}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "null", "Sec-Fetch-Site": site, "CF-Connecting-IP": newIp() },
        body: new URLSearchParams({ password: PASSWORD }),
      });
    expect((await form("same-origin")).status).toBe(303);
    // A sandboxed frame on another site also sends Origin: null.
    expect((await form("cross-site")).status).toBe(403);
  });

  it("leaves the MCP endpoint and the OAuth flow as they were", async () => {
    const mcp = await workerFetch(`${ORIGIN}/mcp`, { method: "POST", body: "{}" });
    expect(mcp.status).toBe(401);
    expect(mcp.headers.get("WWW-Authenticate")).toContain("resource_metadata=");
    expect((await get("/.well-known/oauth-authorization-server")).status).toBe(200);
    expect((await get("/nothing-here")).status).toBe(404);
  });
});

describe("pages", () => {
  it("list the owner's goals, with every name escaped", async () => {
    const signed = await signIn();
    value(await owner().createGoal({ name: "A goal of the owner", description: "" }));
    value(await owner().createGoal({ name: `<script>alert("x")</script>`, description: "" }));
    const page = await (await get("/app", signed)).text();
    expect(page).toContain("A goal of the owner");
    expect(page).toContain("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;");
    expect(page).not.toContain(`<script>alert`);
    expect(page).not.toMatch(/<script(?![^>]*\b(src="\/assets\/app\.js"|type="application\/json"))/);
    expect(page).not.toMatch(/\sstyle=/);
  });

  it("a goal's page carries its graph: nodes with states and edges from dependency to dependent", async () => {
    const signed = await signIn();
    const goal = value(await owner().createGoal({ name: "graph", description: "" }));
    const a = value(await owner().createTask({ title: "a", goal_id: goal.id }));
    const b = value(await owner().createTask({ title: "b </script><b>", goal_id: goal.id, dependencies: [a.id] }));
    const page = await (await get(`/app/goals/${goal.id}`, signed)).text();
    const json = /<script type="application\/json" id="graph-data">(.*?)<\/script>/s.exec(page)?.[1];
    const data = JSON.parse(json!) as { nodes: { id: number; state: string; title: string }[]; edges: [number, number][] };
    expect(data.nodes.map((n) => [n.id, n.state])).toEqual([
      [a.id, "ready"],
      [b.id, "blocked"],
    ]);
    expect(data.nodes[1].title).toBe("b </script><b>");
    expect(data.edges).toEqual([[a.id, b.id]]);
  });

  it("answers only the inside of <main> to the page script's refresh, and 404 for an unknown goal", async () => {
    const signed = await signIn();
    value(await owner().recordBreakerFailure("agent-x", { failure_type: "timeout", error_message: "slow" }));
    const fragment = await get("/app/breakers", signed, { "X-Dashboard-Fragment": "main" });
    const text = await fragment.text();
    expect(text).toContain("<h1>Circuit breakers</h1>");
    expect(text).not.toContain("<html");
    expect(text).toContain("agent-x");
    expect((await get("/app/goals/99999", signed)).status).toBe(404);
  });

  it("serve their scripts, style and the layout library from the Worker itself", async () => {
    for (const [name, type] of [
      ["app.js", "text/javascript"],
      ["graph.js", "text/javascript"],
      ["live.js", "text/javascript"],
      ["dagre.js", "text/javascript"],
      ["style.css", "text/css"],
      ["icon.svg", "image/svg+xml"],
    ]) {
      const response = await get(`/assets/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.headers.get("Content-Type")).toContain(type);
      const body = await response.text();
      // Nothing fetched from anywhere else: no absolute URL outside the XML namespace of SVG.
      expect(body.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, ""), name).not.toMatch(/https?:\/\//);
      const again = await get(`/assets/${name}`, undefined, { "If-None-Match": response.headers.get("ETag")! });
      expect(again.status).toBe(304);
    }
    expect(await (await get("/assets/dagre.js")).text()).toMatch(/export default dagre;\n$/);
    expect((await get("/assets/../index.ts")).status).toBe(404);
  });
});

describe("list pages never hide what does not fit", () => {
  beforeEach(wipeOwner);

  /** Every page of a list from its first, following "Older …" links: the ids shown and each page's caption. */
  async function walk(signed: Signed, path: string, rowId: RegExp) {
    const captions: string[] = [];
    const ids: string[] = [];
    for (let next: string | undefined = path; next !== undefined; ) {
      const page = await (await get(next, signed)).text();
      captions.push(/<caption>([^<]*)<\/caption>/.exec(page)![1]);
      ids.push(...[...page.matchAll(rowId)].map((m) => m[1]));
      next = /<a href="([^"]+)" rel="next">/.exec(page)?.[1]?.replace(/&#38;/g, "&");
    }
    return { captions, ids };
  }

  it("the goals page shows a hundred at a time, says which of how many, and links the rest; never the long texts", async () => {
    const signed = await signIn();
    const long = "d".repeat(20_000);
    const ids: string[] = [];
    for (let i = 0; i < 230; i++) ids.push(String(value(await owner().createGoal({ name: `goal ${i}`, description: long, metadata: { pad: "m".repeat(8_000) } })).id));
    const { captions, ids: shown } = await walk(signed, "/app", /<tr id="goal-(\d+)">/g);
    expect(captions).toEqual(["Goals 1–100 of 230, newest first", "Goals 101–200 of 230, newest first", "Goals 201–230 of 230, newest first"]);
    expect(shown).toEqual([...ids].reverse());
    const first = await (await get("/app", signed)).text();
    expect(first).not.toContain(long.slice(0, 100));
    expect(first).not.toContain("mmmmmmmmmm");
    // The second page links both ways; the newer link leads back to the first page.
    const second = await (await get(`/app?before=${ids[130]}`, signed)).text();
    expect(second).toContain(`<a href="/app" rel="prev">← Newer goals</a>`);
    expect(second).toContain(`<a href="/app?before=${ids[30]}" rel="next">Older goals →</a>`);
  });

  it("a list that fits says how many, with no links", async () => {
    const signed = await signIn();
    for (let i = 0; i < 3; i++) value(await owner().createGoal({ name: `goal ${i}`, description: "" }));
    const page = await (await get("/app", signed)).text();
    expect(page).toContain("<caption>3 goals, newest first</caption>");
    expect(page).not.toContain(`class="pager"`);
  });

  it("the relays page pages through every pipeline the same way, without their goals or summaries", async () => {
    const signed = await signIn();
    const goal = "g".repeat(20_000);
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) {
      const p = value(await owner().createRelayPipeline({ name: `relay ${i}`, goal, agent_types: ["researcher", "validator"] }));
      if (i % 2 === 0) value(await owner().advanceRelay({ pipeline_id: p.pipeline_id, quality_score: 0.9, l_score: 0.9, tokens_used: 5, output_summary: "s".repeat(20_000) }));
      ids.push(p.pipeline_id);
    }
    const { captions, ids: shown } = await walk(signed, "/app/relays", /<tr id="pipeline-(rp_[a-z2-7]+)">/g);
    expect(captions).toEqual(["Pipelines 1–100 of 120, newest first", "Pipelines 101–120 of 120, newest first"]);
    expect(shown).toEqual([...ids].reverse());
    const first = await (await get("/app/relays", signed)).text();
    expect(first).not.toContain("gggggggggg");
    expect(first).not.toContain("ssssssssss");
    // What a row says is read all the same: the passed step's quality.
    expect(first).toContain("step 2 of 2, 1 passed");
    expect(first).toContain("average 0.90");
  });
});

describe("live updates", () => {
  async function openLive(signed: Signed): Promise<{ socket: WebSocket; messages: string[]; next(): Promise<string> }> {
    const response = await get("/live", signed, { Upgrade: "websocket", Origin: ORIGIN });
    expect(response.status).toBe(101);
    const socket = response.webSocket!;
    socket.accept();
    const messages: string[] = [];
    const waiting: ((m: string) => void)[] = [];
    socket.addEventListener("message", (event) => {
      const text = String(event.data);
      messages.push(text);
      waiting.shift()?.(text);
    });
    return { socket, messages, next: () => new Promise((resolve) => waiting.push(resolve)) };
  }

  it("tells a connected page that something changed, in a tiny message with no data", async () => {
    const live = await openLive(await signIn());
    const message = live.next();
    value(await owner().createGoal({ name: "secret plan", description: "" }));
    const received = JSON.parse(await message) as Record<string, unknown>;
    expect(Object.keys(received).sort()).toEqual(["at", "changed"]);
    expect(received.changed).toBe(true);
    live.socket.close();
  });

  it("announces the last write of a burst, however many came before it", async () => {
    const live = await openLive(await signIn());
    let beforeLast = 0;
    for (let i = 0; i < 20; i++) {
      if (i === 19) beforeLast = Date.now();
      value(await owner().createTask({ title: `burst ${i}` }));
    }
    // Whatever was coalesced, one announcement comes after the last write.
    await expect.poll(() => live.messages.some((m) => Date.parse(JSON.parse(m).at) >= beforeLast), { timeout: 10_000 }).toBe(true);
    live.socket.close();
  });

  it("coalesces a burst: many changes at one moment make one announcement at once and one for the rest", async () => {
    // A fresh object (nothing announced yet), its socket opened as the /live route hands it over.
    const rt = freshRuntime("dash-live");
    const response = await stubOf(rt).fetch("https://runtime.internal/live", { headers: { Upgrade: "websocket" } });
    const socket = response.webSocket!;
    socket.accept();
    const messages: string[] = [];
    socket.addEventListener("message", (event) => messages.push(String(event.data)));
    // Inside the object, one synchronous run: the clock does not move, so this is one moment.
    await runInDurableObject(stubOf(rt) as DurableObjectStub<Runtime>, (instance: Runtime) => {
      const channel = (instance as unknown as { live: LiveChannel }).live;
      for (let i = 0; i < 20; i++) channel.announce();
    });
    await expect.poll(() => messages.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(messages).toHaveLength(2);
    socket.close();
  });

  it("answers ping with pong", async () => {
    const live = await openLive(await signIn());
    const answer = live.next();
    live.socket.send("ping");
    expect(await answer).toBe("pong");
    live.socket.close();
  });

  it("refuses a socket opened by another site's page", async () => {
    const signed = await signIn();
    const response = await get("/live", signed, { Upgrade: "websocket", Origin: "https://evil.example" });
    expect(response.status).toBe(403);
  });
});

describe("schedules page", () => {
  const scheduleOf = async (id: string) => value(await owner().getSchedule(id));
  const action = (signed: Signed, status: string, csrf = signed.csrf) => new URLSearchParams({ csrf, status });

  it("shows each schedule's rule, next run, counts and newest runs, with names escaped, and is in the navigation", async () => {
    const signed = await signIn();
    const made = value(await owner().createSchedule({ title: `<b>nightly</b>`, cron: "0 3 * * *", timezone: "Europe/Berlin" }));
    const page = await (await get("/app/schedules", signed)).text();
    expect(page).toContain(`<a href="/app/schedules" aria-current="page">Schedules</a>`);
    expect(page).toContain("&#60;b&#62;nightly&#60;/b&#62;");
    expect(page).not.toContain("<b>nightly");
    expect(page).toContain(`<code>0 3 * * *</code> in Europe/Berlin`);
    expect(page).toContain(`<time datetime="${made.next_run_at}">`);
    expect(page).toMatch(new RegExp(`action="/app/schedules/${made.schedule_id}"[\\s\\S]*?name="csrf" value="${signed.csrf}"[\\s\\S]*?name="status" value="paused"`));
  });

  it("pauses and resumes a schedule only with the session's CSRF token, from our own page", async () => {
    const signed = await signIn();
    const { schedule_id } = value(await owner().createSchedule({ title: "pausable", every_seconds: 3600 }));
    const path = `/app/schedules/${schedule_id}`;
    expect((await post(path, signed, action(signed, "paused", "wrong"))).status).toBe(403);
    expect((await post(path, signed, action(signed, "paused"), "https://evil.example")).status).toBe(403);
    expect((await post(path, undefined, action(signed, "paused"))).status).toBe(401);
    expect((await scheduleOf(schedule_id)).status).toBe("active");

    const paused = await post(path, signed, action(signed, "paused"));
    expect(paused.status).toBe(303);
    expect(paused.headers.get("Location")).toBe(`/app/schedules#schedule-${schedule_id}`);
    expect(await scheduleOf(schedule_id)).toMatchObject({ status: "paused", next_run_at: null });
    expect(await (await get("/app/schedules", signed)).text()).toMatch(new RegExp(`/app/schedules/${schedule_id}"[\\s\\S]*?name="status" value="active"[\\s\\S]*?>Resume<`));

    expect((await post(path, signed, action(signed, "active"))).status).toBe(303);
    expect((await scheduleOf(schedule_id)).status).toBe("active");
  });

  it("offers nothing but pause and resume, and shows why an action was refused, changing nothing", async () => {
    const signed = await signIn();
    const { schedule_id } = value(await owner().createSchedule({ title: "ends", every_seconds: 3600 }));
    const path = `/app/schedules/${schedule_id}`;
    expect((await post(path, signed, action(signed, "ended"))).status).toBe(400);
    value(await owner().updateSchedule({ schedule_id, status: "ended" }));
    const refused = await post(path, signed, action(signed, "active"));
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain(`Refused, nothing changed: schedule ${schedule_id} has ended and cannot become active.`);
    expect((await scheduleOf(schedule_id)).status).toBe("ended");
    expect((await post("/app/schedules/sc_aaaaaaaaaaaa", signed, action(signed, "paused"))).status).toBe(404);
  });
});
