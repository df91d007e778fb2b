/**
 * Notifications without a receiver (SPEC §2, §14): this project's Worker has no NOTIFY_URL, so
 * nothing is recorded — an instance nobody listens to stores no events and wakes no alarm for
 * them. And how NOTIFY_URL and NOTIFY_SECRET are read. With a receiver: test/notify/.
 */
import { describe, expect, it } from "vitest";
import { notificationsPage, type NotificationsView } from "../src/dashboard/pages/notifications";
import { notifyTarget, targetView } from "../src/runtime/webhooks";
import { alarmAt, freshRuntime, value, withSql } from "./helpers/runtime";

const KEY_24 = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

describe("without NOTIFY_URL", () => {
  it("records no event: a goal completes and a breaker opens, and the outbox stays empty with no alarm for it", async () => {
    const rt = freshRuntime("notify-off");
    const goal = value(await rt.createGoal({ name: "quiet", description: "" }));
    const task = value(await rt.createTask({ title: "t", goal_id: goal.id }));
    value(await rt.updateTaskStatus({ task_id: task.id, status: "completed" }));
    const tripped = value(await rt.tripBreaker("agent", "test"));
    expect(await withSql(rt, (sql) => sql.exec(`SELECT count(*) AS n FROM notify_outbox`).one().n)).toBe(0);
    // The only thing due is the breaker's cooldown.
    expect(await alarmAt(rt)).toBe(Date.parse(tripped.breaker.cooldown_until!));
    expect(value(await rt.notificationStatus())).toMatchObject({ target: { state: "off" }, recording: false, pending: 0, dropped: 0 });
  });

  it("says on the dashboard that notifications are off, and how to turn them on", () => {
    const view: NotificationsView = {
      target: { state: "off" },
      recording: false,
      pending: 0,
      oldest_pending_at: null,
      next_attempt_at: null,
      delivered: 0,
      last_delivered_at: null,
      dropped: 0,
      last_dropped_at: null,
      given_up: 0,
      failing: [],
      given_up_recent: [],
    };
    expect(notificationsPage(view).main.text).toContain("Notifications are off: <code>NOTIFY_URL</code> is not set.");
    const invalid = notificationsPage({ ...view, target: targetView(notifyTarget("http://hooks.example/x", undefined)) }).main.text;
    expect(invalid).toContain("Notifications are off: NOTIFY_URL must be an https URL");
  });
});

describe("reading NOTIFY_URL and NOTIFY_SECRET", () => {
  it("takes an https URL, and plain http only for a receiver on this machine", () => {
    expect(targetView(notifyTarget("https://ntfy.sh/my-secret-topic", undefined))).toEqual({ state: "on", host: "ntfy.sh", signed: false });
    for (const local of ["http://localhost:9000/hook", "http://127.0.0.1:9000/hook", "http://[::1]:9000/hook"]) {
      expect(notifyTarget(local, undefined).state).toBe("on");
    }
    for (const url of ["http://hooks.example/x", "http://127.0.0.1.nip.io/x", "ftp://hooks.example/x", "not a url"]) {
      expect(notifyTarget(url, undefined).state).toBe("invalid");
    }
    expect(notifyTarget("https://user:pass@hooks.example/x", undefined)).toEqual({
      state: "invalid",
      problem: "NOTIFY_URL must not carry a user name or password.",
    });
    expect(notifyTarget(undefined, KEY_24)).toEqual({ state: "off" });
    expect(notifyTarget("  ", KEY_24)).toEqual({ state: "off" });
  });

  it("signs with a whsec_ key of 24 to 64 bytes, and refuses to send with any other secret rather than send unsigned", () => {
    expect(targetView(notifyTarget("https://hooks.example/x", KEY_24))).toEqual({ state: "on", host: "hooks.example", signed: true });
    const key64 = `whsec_${btoa(String.fromCharCode(...new Uint8Array(64).fill(7)))}`;
    expect(notifyTarget("https://hooks.example/x", key64).state).toBe("on");
    const tooShort = `whsec_${btoa("sixteen bytes!!!")}`;
    const tooLong = `whsec_${btoa(String.fromCharCode(...new Uint8Array(65).fill(7)))}`;
    for (const secret of ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", tooShort, tooLong, "whsec_not base64!"]) {
      expect(notifyTarget("https://hooks.example/x", secret)).toEqual({
        state: "invalid",
        problem: "NOTIFY_SECRET must be whsec_ followed by the base64 of 24 to 64 random bytes.",
      });
    }
  });
});
