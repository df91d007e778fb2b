/**
 * The dashboard's Agent keys page over HTTP (SPEC §16, docs/dashboard.md): making a key shows it
 * once with lines to paste, the list never shows it again, revoking refuses it on its next call,
 * and both forms are CSRF-safe like every dashboard action. Chromium drives the same page in
 * test/browser/agent-keys.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { OWNER_USER_ID } from "../src/auth/grant";
import type { RuntimeApi } from "../src/runtime/api";
import { get, post, signIn, type Signed } from "./helpers/dashboard";
import { ORIGIN, workerFetch } from "./helpers/oauth";
import { value } from "./helpers/runtime";

const owner = () => env.RUNTIME.getByName(OWNER_USER_ID) as unknown as RuntimeApi;
const keyCount = async () => value(await owner().listAgentKeys()).length;

function keyForm(signed: Signed, fields: Record<string, string>, csrf = signed.csrf) {
  return new URLSearchParams({ csrf, endpoint: "/mcp", expires_in_days: "", roles: "", ...fields });
}

function tools(key: string, path: string) {
  return workerFetch(`${ORIGIN}${path}`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${key}`,
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2025-11-25",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
}

const unescape = (html: string) => html.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));

describe("making a key", () => {
  it("shows the key once, with the Claude Code, Cursor and curl lines for its endpoint; the key works there", async () => {
    const signed = await signIn();
    const response = await post("/app/keys", signed, keyForm(signed, { agent_id: "coder-1", roles: "coder, reviewer", endpoint: "/mcp/core", expires_in_days: "30" }));
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const page = unescape(await response.text());
    const key = /<code id="new-key" class="secret">(ark_owner_[a-z2-7]{12}_[a-z2-7]{32})<\/code>/.exec(page)?.[1];
    expect(key).toBeTruthy();
    expect(page).toContain('data-page="key-created"');
    const url = `${ORIGIN}/mcp/core`;
    expect(page).toContain(`claude mcp add --transport http agent-runtime ${url} --header "Authorization: Bearer ${key}"`);
    expect(page).toContain(`"url": "${url}"`);
    expect(page).toContain(`"Authorization": "Bearer ${key}"`);
    expect(page).toContain(`curl -s ${url} -H "Authorization: Bearer ${key}"`);
    expect((await tools(key!, "/mcp/core")).status).toBe(200);
    expect((await tools(key!, "/mcp")).status).toBe(403);

    const listed = unescape(await (await get("/app/keys", signed)).text());
    expect(listed).not.toContain(key!);
    expect(listed).toContain(`${key!.slice(0, "ark_owner_".length + 12)}…`);
    expect(listed).toContain("coder, reviewer");
    expect(listed).toMatch(/<a href="\/app\/keys" aria-current="page">Agent keys<\/a>/);
  });

  it("refuses a form without the session's CSRF token or from another site, making nothing", async () => {
    const signed = await signIn();
    const before = await keyCount();
    expect((await post("/app/keys", signed, keyForm(signed, { agent_id: "x" }, "forged"))).status).toBe(403);
    expect((await post("/app/keys", signed, keyForm(signed, { agent_id: "x" }), "https://evil.example")).status).toBe(403);
    expect((await post("/app/keys", undefined, keyForm(signed, { agent_id: "x" }))).status).toBe(401);
    expect(await keyCount()).toBe(before);
  });

  it("shows the form again with the reason for a bad request, making nothing", async () => {
    const signed = await signIn();
    const before = await keyCount();
    const cases: [Record<string, string>, string][] = [
      [{ agent_id: "  " }, "Name the agent the key is for."],
      [{ agent_id: "x", endpoint: "/mcp/nowhere" }, "There is no endpoint /mcp/nowhere."],
      [{ agent_id: "x", expires_in_days: "3" }, "Choose an expiry from the list."],
      [{ agent_id: "x", roles: "coder, owner" }, `Not made: roles: "owner" is the owner's, never an agent's.`],
    ];
    for (const [fields, message] of cases) {
      const response = await post("/app/keys", signed, keyForm(signed, fields));
      expect(response.status, message).toBe(400);
      const page = unescape(await response.text());
      expect(page).toContain(message);
      expect(page).not.toMatch(/ark_owner_[a-z2-7]{12}_/);
    }
    expect(await keyCount()).toBe(before);
  });
});

describe("revoking a key", () => {
  it("refuses it from its next call on; a forged revoke changes nothing", async () => {
    const signed = await signIn();
    const page = unescape(await (await post("/app/keys", signed, keyForm(signed, { agent_id: "coder-9" }))).text());
    const key = /id="new-key" class="secret">([^<]+)</.exec(page)![1];
    const keyId = key.split("_")[2];
    expect((await tools(key, "/mcp")).status).toBe(200);

    const forged = new URLSearchParams({ csrf: "forged", key_id: keyId });
    expect((await post("/app/keys/revoke", signed, forged)).status).toBe(403);
    expect((await tools(key, "/mcp")).status).toBe(200);

    const revoked = await post("/app/keys/revoke", signed, new URLSearchParams({ csrf: signed.csrf, key_id: keyId }));
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get("Location")).toBe("/app/keys");
    expect((await tools(key, "/mcp")).status).toBe(401);
    const listed = await (await get("/app/keys", signed)).text();
    expect(listed).toMatch(new RegExp(`id="key-${keyId}"[\\s\\S]*?Revoked`));

    const unknown = await post("/app/keys/revoke", signed, new URLSearchParams({ csrf: signed.csrf, key_id: "aaaaaaaaaaaa" }));
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("Not revoked: agent key aaaaaaaaaaaa does not exist.");
  });
});
