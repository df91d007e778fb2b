/**
 * The owner's password check that every sign-in page shares (src/auth/owner-sign-in.ts): the
 * refusals of an unusable OWNER_PASSWORD, the per-address streak and the global failure budget.
 * Its own file: the global budget is one object for the whole server, and these tests fill it.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { checkOwnerPassword } from "../src/auth/owner-sign-in";
import { LoginThrottle, throttleKey, throttleName } from "../src/auth/throttle";

/** As docs/security.md states them (not read from src: raising one there must fail here). */
const MIN_OWNER_PASSWORD_LENGTH = 16;
const GLOBAL_FAILURES_PER_HOUR = 100;
const FREE_FAILURES = 5;

const ENV = env;
const PASSWORD = ENV.OWNER_PASSWORD!;
const HOUR = 60 * 60_000;

const ip = () => `203.0.113.${Math.floor(Math.random() * 250)}-${crypto.randomUUID()}`;
const from = (address: string) => new Request("http://localhost:8787/", { headers: { "CF-Connecting-IP": address } });
const budget = () => ENV.LOGIN_THROTTLE.getByName(throttleName("password", "*"));
const streakOf = (address: string) =>
  runInDurableObject(ENV.LOGIN_THROTTLE.getByName(throttleName("password", throttleKey(address))), (_o: LoginThrottle, state) =>
    state.storage.kv.get<{ failures: number }>("streak"),
  );
/** Failures of all addresses in the last hour, as the budget counts them. */
const budgetUsed = () =>
  runInDurableObject(budget(), (_o: LoginThrottle, state) => state.storage.kv.get<{ times: number[] }>("window")?.times.length ?? 0);

describe("an unusable OWNER_PASSWORD", () => {
  it("refuses every sign-in with 503 and says how to set one when none is set", async () => {
    const result = await checkOwnerPassword(from(ip()), { ...ENV, OWNER_PASSWORD: undefined }, "anything");
    expect(result).toMatchObject({ ok: false, status: 503 });
    expect(!result.ok && result.message).toContain("wrangler secret put OWNER_PASSWORD");
  });

  it(`refuses every sign-in with 503 when it is shorter than ${MIN_OWNER_PASSWORD_LENGTH} characters, even typed right`, async () => {
    const short = "fifteen-chars!!";
    expect(short).toHaveLength(MIN_OWNER_PASSWORD_LENGTH - 1);
    const address = ip();
    const result = await checkOwnerPassword(from(address), { ...ENV, OWNER_PASSWORD: short }, short);
    expect(result).toMatchObject({ ok: false, status: 503 });
    const message = !result.ok ? result.message : "";
    expect(message).toContain(`shorter than ${MIN_OWNER_PASSWORD_LENGTH} characters`);
    expect(message).toContain(".dev.vars");
    expect(message).toContain("wrangler secret put OWNER_PASSWORD");
    // Nothing was counted against the address.
    expect(await streakOf(address)).toBeUndefined();
  });
});

describe("checkOwnerPassword", () => {
  it("accepts the right password and forgets the address's earlier failures", async () => {
    const address = ip();
    expect(await checkOwnerPassword(from(address), ENV, "wrong")).toMatchObject({ ok: false, status: 403 });
    expect((await streakOf(address))?.failures).toBe(1);
    expect(await checkOwnerPassword(from(address), ENV, PASSWORD)).toEqual({ ok: true });
    expect(await streakOf(address)).toBeUndefined();
  });

  it("makes an address wait after FREE_FAILURES wrong passwords, right password or not", async () => {
    const address = ip();
    for (let i = 0; i < FREE_FAILURES; i++) expect((await checkOwnerPassword(from(address), ENV, `guess-${i}`)).ok).toBe(false);
    const blocked = await checkOwnerPassword(from(address), ENV, PASSWORD);
    expect(blocked).toMatchObject({ ok: false, status: 429, retryAfterSeconds: 30 });
  });

  it("does not count the right password against the global budget", async () => {
    const before = await budgetUsed();
    expect(await checkOwnerPassword(from(ip()), ENV, PASSWORD)).toEqual({ ok: true });
    expect(await budgetUsed()).toBe(before);
  });

  it(`makes every address wait once ${GLOBAL_FAILURES_PER_HOUR} wrong passwords were tried in an hour, without counting that against it`, async () => {
    // Many addresses, each far below its own limit, spend the budget together.
    let failures = await budgetUsed();
    while (failures < GLOBAL_FAILURES_PER_HOUR) {
      expect(await checkOwnerPassword(from(ip()), ENV, "distributed guess")).toMatchObject({ ok: false, status: 403 });
      failures++;
    }
    expect(await budgetUsed()).toBe(GLOBAL_FAILURES_PER_HOUR);

    const owner = ip();
    const refused = await checkOwnerPassword(from(owner), ENV, PASSWORD);
    expect(refused).toMatchObject({ ok: false, status: 429 });
    expect(!refused.ok && refused.message).toContain("on this server");
    expect(!refused.ok && refused.retryAfterSeconds).toBeGreaterThan(0);
    expect(!refused.ok && refused.retryAfterSeconds).toBeLessThanOrEqual(HOUR / 1000);
    // The refused attempt was never checked: it is not a failure of the owner's address.
    expect(await streakOf(owner)).toBeUndefined();
  });

  afterAll(async () => {
    // Leave the server-wide budget empty for whatever runs next.
    await runInDurableObject(budget(), (_o: LoginThrottle, state) => state.storage.kv.delete("window"));
  });
});
