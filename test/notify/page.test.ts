/**
 * The dashboard's notifications page (docs/dashboard.md, docs/owner.md#notifications) through the
 * real Worker: where events go (the host only), whether they are signed, and the failures the
 * owner must see. The owner's Runtime (`owner`) is this file's alone in this project.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { RuntimeApi } from "../../src/runtime/api";
import { ORIGIN, workerFetch } from "../helpers/oauth";
import { fireAlarm, value, withSql } from "../helpers/runtime";
import { useReceiver } from "./receiver";

const receiver = useReceiver();
const owner = () => env.RUNTIME.getByName("owner") as unknown as RuntimeApi;

async function signIn(): Promise<string> {
  const response = await workerFetch(`${ORIGIN}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN, "CF-Connecting-IP": `198.51.100.${Math.floor(Math.random() * 250)}` },
    body: new URLSearchParams({ password: env.OWNER_PASSWORD! }),
  });
  expect(response.status).toBe(303);
  return response.headers.get("Set-Cookie")!.split(";")[0];
}

const page = async (cookie: string, headers: Record<string, string> = {}) =>
  (await workerFetch(`${ORIGIN}/app/notifications`, { headers: { Cookie: cookie, ...headers } })).text();

describe("the notifications page", () => {
  it("names the receiver's host but never its path, says the events are signed, and is linked from every page", async () => {
    const cookie = await signIn();
    const html = await page(cookie);
    expect(html).toContain('<a href="/app/notifications" aria-current="page">Notifications</a>');
    expect(html).toContain("Sending to <strong>receiver.example</strong>, signed with NOTIFY_SECRET");
    expect(html).not.toContain(new URL(env.NOTIFY_URL!).pathname);
    expect(html).toContain("No event is failing.");
    // Every page links to it.
    expect(await (await workerFetch(`${ORIGIN}/app`, { headers: { Cookie: cookie } })).text()).toContain('href="/app/notifications"');
  });

  it("shows the events still being retried and those given up after a day, with their last error, escaped", async () => {
    const rt = owner();
    receiver.answer(() => 503);
    for (const name of ["<b>Retried</b>", "Given up"]) {
      const goal = value(await rt.createGoal({ name, description: "" }));
      const task = value(await rt.createTask({ title: "t", goal_id: goal.id }));
      value(await rt.updateTaskStatus({ task_id: task.id, status: "completed" }));
    }
    const attempted = () => withSql(rt, (sql) => sql.exec(`SELECT count(*) AS n FROM notify_outbox WHERE last_error IS NOT NULL`).one().n);
    await vi.waitFor(async () => expect(await attempted()).toBe(2));
    await withSql(rt, (sql) =>
      sql.exec(`UPDATE notify_outbox SET occurred_at = occurred_at - 86400000, next_attempt_at = ? WHERE data LIKE '%Given up%'`, Date.now() - 1),
    );
    await fireAlarm(rt);
    await vi.waitFor(async () => expect(value(await rt.notificationStatus())).toMatchObject({ pending: 1, given_up: 1 }));

    const main = await page(await signIn(), { "X-Dashboard-Fragment": "main" });
    expect(main).not.toContain("<html");
    const [failing, givenUp] = main.split("<h2>Given up</h2>");
    expect(failing).toContain("&#60;b&#62;Retried&#60;/b&#62;");
    expect(failing).toContain("the receiver answered HTTP 503");
    expect(givenUp).toContain("name: Given up");
    expect(givenUp).toContain("Not delivered within a day of occurring");
    expect(main).not.toContain("<b>Retried</b>");
  });
});
