/**
 * Agent keys (SPEC §16, docs/security.md): their records in the user's Runtime object, the key
 * string, and the check the Worker makes on every keyed request through the OAuth provider's hook
 * — accepted where tokens are, refused with the provider's 401 when wrong, revoked or expired,
 * and only on the key's endpoint set.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { mintAgentKey, parseAgentKey, secretHash } from "../src/auth/agent-keys";
import { issueAgentKey, type KeyRequest } from "../src/dashboard/agent-keys";
import type { RuntimeApi } from "../src/runtime/api";
import type { Outcome } from "../src/runtime/kernel/errors";
import { KEY_LIMITS } from "../src/runtime/keys/model";
import { connectWith } from "./helpers/mcp";
import { MCP_URL, ORIGIN, tokenFor, workerFetch } from "./helpers/oauth";
import { snapshot, value, withSql } from "./helpers/runtime";

const LEGACY = { "Content-Type": "application/json", Accept: "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25" };

/** A fresh user, its Runtime as the tools see it, and a way to issue it keys as the dashboard does. */
function user(name: string) {
  const userId = `keys-${name}-${crypto.randomUUID()}`;
  const rt = env.RUNTIME.getByName(userId) as unknown as RuntimeApi;
  const issue = async (request: KeyRequest) => value(await issueAgentKey(env, userId, request));
  return { userId, rt, issue };
}

async function refused<T>(outcome: Promise<Outcome<T>> | Outcome<T>): Promise<string> {
  const result = await outcome;
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  return `${result.error.code}: ${result.error.message}`;
}

/** One JSON-RPC request to `path` with `bearer`, as a script would send it. */
function rpc(bearer: string, method = "tools/list", params: object = {}, path = "/mcp") {
  return workerFetch(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${bearer}`, ...LEGACY },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
}

const newKey = (agent_id = "coder-1"): Omit<Parameters<RuntimeApi["createAgentKey"]>[0], "key_id" | "secret_hash"> => ({ agent_id });

async function stored(rt: RuntimeApi, request = newKey()) {
  const minted = await mintAgentKey("someone");
  return value(await rt.createAgentKey({ ...request, key_id: minted.keyId, secret_hash: minted.secretHash }));
}

describe("the key string", () => {
  it("names its user, its record and a 160-bit secret, and has no colon (the provider never takes it for its own token)", async () => {
    const minted = await mintAgentKey("owner");
    expect(minted.key).toMatch(/^ark_owner_[a-z2-7]{12}_[a-z2-7]{32}$/);
    expect(minted.key).not.toContain(":");
    const parsed = parseAgentKey(minted.key)!;
    expect(parsed).toMatchObject({ userId: "owner", keyId: minted.keyId });
    expect(await secretHash(parsed.secret)).toBe(minted.secretHash);
    expect(minted.secretHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("spells any user id so that it pastes into a shell line, and reads it back", async () => {
    for (const userId of ["enterprise-a%40b.c", "user with spaces", "it's (weird)!*", "under_score_user"]) {
      const minted = await mintAgentKey(userId);
      expect(minted.key).toMatch(/^ark_[A-Za-z0-9%._~-]+_[a-z2-7]{12}_[a-z2-7]{32}$/);
      expect(parseAgentKey(minted.key)?.userId).toBe(userId);
    }
  });

  it("is not read from anything else: tokens, truncated or padded keys, other prefixes", async () => {
    const { key } = await mintAgentKey("owner");
    for (const token of ["owner:abc:def", key.slice(0, -1), `${key}a`, key.replace("ark_", "ark-"), `ark__${key.slice(-45)}`, "ark_%E0%A4%A_abcdefghijkl_" + "a".repeat(32)]) {
      expect(parseAgentKey(token), token).toBeNull();
    }
  });
});

describe("the records", () => {
  it("keep only the secret's hash: the key itself is nowhere in the object's storage", async () => {
    const { rt, issue } = user("hash");
    const { key, record } = await issue({ agent_id: "coder-1", roles: ["coder", "reviewer"], endpoint: "/mcp/core" });
    expect(record).toMatchObject({ agent_id: "coder-1", roles: ["coder", "reviewer"], endpoint: "/mcp/core", status: "active", expires_at: null, last_used_at: null });
    const everything = JSON.stringify(await snapshot(rt));
    expect(everything).not.toContain(parseAgentKey(key)!.secret);
    expect(everything).toContain(await secretHash(parseAgentKey(key)!.secret));
  });

  it("check a key: its grant for the right secret, unknown for a wrong one, revoked and expired said as such", async () => {
    const { rt, issue } = user("check");
    const { key, record } = await issue({ agent_id: "coder-1" });
    const { keyId, secret } = parseAgentKey(key)!;
    expect(await rt.checkAgentKey(keyId, await secretHash(secret))).toEqual({
      ok: true,
      grant: { key_id: keyId, agent_id: "coder-1", roles: null, endpoint: "/mcp" },
      expires_at: null,
    });
    expect(await rt.checkAgentKey(keyId, await secretHash(`${secret.slice(1)}a`))).toEqual({ ok: false, reason: "unknown" });
    expect(await rt.checkAgentKey("aaaaaaaaaaaa", await secretHash(secret))).toEqual({ ok: false, reason: "unknown" });
    expect(await rt.checkAgentKey(keyId, "not a hash")).toEqual({ ok: false, reason: "unknown" });
    value(await rt.revokeAgentKey(record.key_id));
    expect(await rt.checkAgentKey(keyId, await secretHash(secret))).toEqual({ ok: false, reason: "revoked" });

    const later = await issue({ agent_id: "coder-2", expires_at: Date.now() + 60_000 });
    await withSql(rt, (sql) => sql.exec(`UPDATE agent_keys SET expires_at = ? WHERE id = ?`, Date.now() - 1, later.record.key_id));
    const parsed = parseAgentKey(later.key)!;
    expect(await rt.checkAgentKey(parsed.keyId, await secretHash(parsed.secret))).toEqual({ ok: false, reason: "expired" });
    expect(value(await rt.listAgentKeys()).map((k) => [k.agent_id, k.status])).toEqual([
      ["coder-2", "expired"],
      ["coder-1", "revoked"],
    ]);
  });

  it("run a keyed call only after checking its key, in the same call, and never the object's own handlers or the owner's key and transfer methods", async () => {
    const { rt, issue } = user("call-as-agent");
    const { key, record } = await issue({ agent_id: "coder-1" });
    const { keyId, secret } = parseAgentKey(key)!;
    const hash = await secretHash(secret);
    const made = await rt.callAsAgent(keyId, hash, "createTask", [{ title: "through the key" }]);
    expect(made).toMatchObject({ value: { ok: true, value: { title: "through the key" } } });
    for (const method of ["importAll", "exportAll", "revokeAgentKey", "alarm", "write", "toString", "nope"]) {
      expect(await rt.callAsAgent(keyId, hash, method, []), method).toEqual({
        value: { ok: false, error: { code: "failed_precondition", message: `${method} is not a call made with an agent key` } },
      });
    }
    expect(await rt.callAsAgent(keyId, await secretHash(`${secret.slice(1)}a`), "createTask", [{ title: "x" }])).toEqual({ refused: "unknown" });
    value(await rt.revokeAgentKey(record.key_id));
    const before = await snapshot(rt);
    expect(await rt.callAsAgent(keyId, hash, "createTask", [{ title: "after revoking" }])).toEqual({ refused: "revoked" });
    expect(await snapshot(rt)).toEqual(before);
  });

  it("write a key's last use at most once a minute: a check within it changes nothing", async () => {
    const { rt, issue } = user("last-use");
    const { key } = await issue({ agent_id: "coder-1" });
    const { keyId, secret } = parseAgentKey(key)!;
    const hash = await secretHash(secret);
    const before = Date.now();
    await rt.checkAgentKey(keyId, hash);
    const first = value(await rt.listAgentKeys())[0].last_used_at!;
    expect(Date.parse(first)).toBeGreaterThanOrEqual(before);
    const unchanged = await snapshot(rt);
    await rt.checkAgentKey(keyId, hash);
    expect(await snapshot(rt)).toEqual(unchanged);
    // A minute later (the stored time moved back instead of the clock forward), the next check writes it.
    await withSql(rt, (sql) => sql.exec(`UPDATE agent_keys SET last_used_at = last_used_at - ?`, KEY_LIMITS.lastUseEveryMs));
    await rt.checkAgentKey(keyId, hash);
    expect(Date.parse(value(await rt.listAgentKeys())[0].last_used_at!)).toBeGreaterThanOrEqual(Date.parse(first));
  });

  it("refuse a bad key request, naming the field, and change nothing", async () => {
    const { rt } = user("refuse");
    await stored(rt);
    const before = await snapshot(rt);
    const cases: [object, string][] = [
      [{ agent_id: "" }, "invalid_argument: agent_id: 1 to 200 characters"],
      [{ agent_id: "   " }, "invalid_argument: agent_id: a name, not blank"],
      [{ agent_id: "two\nlines" }, "invalid_argument: agent_id: a name on one line, without control characters"],
      [{ agent_id: "a".repeat(201) }, "invalid_argument: agent_id: 1 to 200 characters"],
      [{ agent_id: "a", roles: [] }, "invalid_argument: roles: 1 to 16 roles, or none for any"],
      [{ agent_id: "a", roles: Array.from({ length: 17 }, (_, i) => `r${i}`) }, "invalid_argument: roles: 1 to 16 roles, or none for any"],
      [{ agent_id: "a", roles: ["coder", "owner"] }, 'invalid_argument: roles: "owner" is the owner\'s, never an agent\'s'],
      [{ agent_id: "a", roles: ["x".repeat(65)] }, "invalid_argument: roles[0]: 1 to 64 characters"],
      [{ agent_id: "a", endpoint: "/other" }, "invalid_argument: endpoint: the path of an endpoint, e.g. /mcp or /mcp/core"],
      [{ agent_id: "a", expires_at: Date.now() - 1 }, "invalid_argument: expires_at: a time in the future"],
    ];
    for (const [request, error] of cases) {
      const minted = await mintAgentKey("someone");
      expect(await refused(rt.createAgentKey({ ...request, key_id: minted.keyId, secret_hash: minted.secretHash } as never)), JSON.stringify(request)).toBe(error);
    }
    expect(await refused(rt.revokeAgentKey("aaaaaaaaaaaa"))).toBe("not_found: agent key aaaaaaaaaaaa does not exist");
    expect(await snapshot(rt)).toEqual(before);
  });

  it(`keep at most ${KEY_LIMITS.keys}: the oldest revoked or expired makes room, and with every key live a new one is refused`, async () => {
    const { rt } = user("limit");
    const made = [];
    for (let i = 0; i < KEY_LIMITS.keys; i++) made.push(await stored(rt, newKey(`agent-${i}`)));
    const full = await snapshot(rt);
    const minted = await mintAgentKey("someone");
    expect(await refused(rt.createAgentKey({ agent_id: "one-more", key_id: minted.keyId, secret_hash: minted.secretHash }))).toBe(
      "resource_exhausted: at most 100 agent keys: revoke one first",
    );
    expect(await snapshot(rt)).toEqual(full);
    value(await rt.revokeAgentKey(made[7].key_id));
    value(await rt.revokeAgentKey(made[3].key_id));
    await stored(rt, newKey("one-more"));
    const kept = value(await rt.listAgentKeys());
    expect(kept).toHaveLength(KEY_LIMITS.keys);
    // agent-7 was revoked first, so it made room; agent-3 is still listed as revoked.
    expect(kept.map((k) => k.agent_id)).not.toContain("agent-7");
    expect(kept.find((k) => k.agent_id === "agent-3")?.status).toBe("revoked");
  });

  it("are credentials of this instance: an export leaves them out and an import does not count them", async () => {
    const { rt, issue } = user("export");
    await issue({ agent_id: "coder-1" });
    value(await rt.createGoal({ name: "g", description: "" }));
    const text = value(await rt.exportAll());
    expect(Object.keys(JSON.parse(text).tables)).not.toContain("agent_keys");
    expect(text).not.toContain("coder-1");
    const other = user("import");
    await other.issue({ agent_id: "coder-9" });
    value(await other.rt.importAll(text));
    expect(value(await other.rt.listAgentKeys()).map((k) => k.agent_id)).toEqual(["coder-9"]);
  });
});

describe("a key where tokens are", () => {
  it("signs in on /mcp and lands in its user's own object", async () => {
    const { rt, issue } = user("lands");
    const { key } = await issue({ agent_id: "planner" });
    const mcp = await connectWith(key);
    const goal = await mcp.call("create_goal", { name: "from a key", description: "" });
    expect(value(await rt.getGoal(goal.id)).name).toBe("from a key");
    await mcp.close();
  });

  it("refuses a wrong, revoked or expired key, and a key of a user that never had one, with the provider's 401 and challenge", async () => {
    const { rt, issue } = user("refused");
    const { key, record } = await issue({ agent_id: "coder-1" });
    expect((await rpc(key)).status).toBe(200);
    const { keyId, secret } = parseAgentKey(key)!;
    const wrong = key.replace(secret, secret.split("").reverse().join(""));
    const stranger = (await mintAgentKey(`never-${crypto.randomUUID()}`)).key;
    const expiring = await issue({ agent_id: "coder-2", expires_at: Date.now() + 60_000 });
    await withSql(rt, (sql) => sql.exec(`UPDATE agent_keys SET expires_at = ? WHERE id = ?`, Date.now() - 1, expiring.record.key_id));
    value(await rt.revokeAgentKey(record.key_id));
    for (const [bearer, description] of [
      [wrong, "Invalid access token"],
      [stranger, "Invalid access token"],
      [key, "This agent key was revoked."],
      [expiring.key, "This agent key has expired."],
    ]) {
      const response = await rpc(bearer);
      expect(response.status, description).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toContain(`resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp"`);
      expect(response.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
      const body = await response.text();
      expect(JSON.parse(body)).toMatchObject({ error: "invalid_token", error_description: description });
      expect(body).not.toContain(bearer);
    }
    expect(keyId).toBe(record.key_id);
  });

  it("is refused on its very next call once revoked — doing nothing — while another key of the same user goes on", async () => {
    const { rt, issue } = user("next-call");
    const first = await issue({ agent_id: "coder-1" });
    const second = await issue({ agent_id: "coder-2" });
    const one = await connectWith(first.key);
    const two = await connectWith(second.key);
    // The Worker now knows the key: what follows is let through by the provider and refused by the Runtime.
    await one.call("create_task", { title: "before" });
    value(await rt.revokeAgentKey(first.record.key_id));
    await expect(one.raw("create_task", { title: "after" })).rejects.toThrow(/This agent key was revoked/);
    await two.call("create_task", { title: "still" });
    expect(value(await rt.listTasks({ limit: 50 })).items.map((t) => t.title)).toEqual(["before", "still"]);
    await two.close();
  });

  it("is refused once revoked even by calls that read no data (ping, tools/list), with the provider's 401", async () => {
    const { rt, issue } = user("no-data");
    const { key, record } = await issue({ agent_id: "coder-1" });
    expect((await rpc(key, "ping")).status).toBe(200);
    value(await rt.revokeAgentKey(record.key_id));
    for (const method of ["ping", "tools/list", "tools/call"]) {
      const response = await rpc(key, method, method === "tools/call" ? { name: "create_task", arguments: { title: "x" } } : {});
      expect(response.status, method).toBe(401);
      expect(response.headers.get("WWW-Authenticate"), method).toContain('error="invalid_token"');
      expect(await response.json(), method).toMatchObject({ error: "invalid_token", error_description: "This agent key was revoked." });
    }
    // Every other lane asks before serving: a GET (the 2026-era lane), a path that is no endpoint.
    for (const [path, method] of [["/mcp", "GET"], ["/mcp/no-such-endpoint", "POST"]]) {
      const response = await workerFetch(`${ORIGIN}${path}`, { method, headers: { Authorization: `Bearer ${key}` } });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
    expect(value(await rt.listTasks({ limit: 50 })).items).toEqual([]);
  });

  it("works on its endpoint set only: a /mcp/core key on /mcp/core, 403 elsewhere; a /mcp key everywhere", async () => {
    const { issue } = user("endpoints");
    const core = await issue({ agent_id: "coder-1", endpoint: "/mcp/core" });
    const all = await issue({ agent_id: "planner" });
    expect((await rpc(core.key, "tools/list", {}, "/mcp/core")).status).toBe(200);
    for (const path of ["/mcp", "/mcp/plan", "/mcp/core-not"]) {
      const response = await rpc(core.key, "tools/list", {}, path);
      expect(response.status, path).toBe(403);
      expect(response.headers.get("WWW-Authenticate")).toContain('error="insufficient_scope"');
      expect(await response.json()).toMatchObject({ error: "insufficient_scope", error_description: "This agent key works on /mcp/core only." });
    }
    for (const path of ["/mcp", "/mcp/core", "/mcp/plan", "/mcp/breakers"]) expect((await rpc(all.key, "tools/list", {}, path)).status, path).toBe(200);
  });

  it("leaves OAuth tokens as they were: the provider's own tokens never reach the key check", async () => {
    const token = await tokenFor(`keys-oauth-${crypto.randomUUID()}`);
    expect((await rpc(token)).status).toBe(200);
    const [userId, grantId] = token.split(":");
    const forged = await rpc(`${userId}:${grantId}:${"x".repeat(32)}`);
    expect(forged.status).toBe(401);
    expect(MCP_URL).toBe(`${ORIGIN}/mcp`);
  });
});
