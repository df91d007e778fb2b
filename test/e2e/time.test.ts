/**
 * Time on the alarm, end to end (SPEC §13; docs/tasks.md "Not before", "Retries with back-off"):
 * against `wrangler dev`, agents waiting with `wait_seconds` are answered when a task's
 * `not_before` comes, or when a failed task's back-off ends, by the Durable Object's alarm alone:
 * after the last call nobody writes, so nothing else could answer them.
 *
 * The one timed assertion here is a correctness bound, not a benchmark: the alarm answers a
 * waiter within 1 s of the time the data says (SPEC §13, issue 21), never before it. Each bound is
 * measured against the time the object itself stored (`not_before` in its answers), so the
 * latency of the calls that set it up does not count.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { authorize, callTool, connectV1, connectV2, useDevServer, type ToolCaller } from "./harness";

interface TaskEvent {
  kind: string;
  agent_id: string | null;
  attempt: number;
  status: string;
  detail: string;
}
interface Task {
  id: number;
  title: string;
  status: string;
  role: string | null;
  not_before: string | null;
  error: string | null;
  assigned_to: string | null;
  attempt: number;
  max_attempts: number;
  events?: TaskEvent[];
}
interface Claim {
  task: Task | null;
  reason?: string;
  lease_id?: string;
  next_ready_at?: string;
}

/** How late the alarm may answer a waiter after the time the data says (SPEC §13). */
const ALARM_BOUND_MS = 1_000;
/** The spread of a back-off (docs/tasks.md: ±10 %). */
const JITTER = 0.1;

const server = useDevServer();
let accessToken: string;

beforeAll(async () => {
  accessToken = (await authorize(server)).accessToken;
});

async function newGoal(client: ToolCaller, name: string): Promise<number> {
  return (await callTool<{ id: number }>(client, "create_goal", { name, description: "time e2e" })).id;
}

/** A call's answer and when it arrived (ms, this process's clock, which is the server's). */
async function timed<T>(call: Promise<T>): Promise<{ answer: T; at: number }> {
  const answer = await call;
  return { answer, at: Date.now() };
}

describe("not_before", () => {
  it("agents waiting by role are each handed their task by the alarm within 1 s of its not_before, never before", async () => {
    const writer = await connectV2(server, accessToken);
    const waiters = await Promise.all([connectV1(server, accessToken), connectV2(server, accessToken), connectV1(server, accessToken)]);
    try {
      const goal = await newGoal(writer, "deferred start");
      const start = Date.now();
      // Three starting times a second apart, each for one of the waiters only.
      const deferred = [
        { role: "coder", after: 3_000 },
        { role: "tester", after: 4_000 },
        { role: null, after: 5_000 },
      ];
      const tasks: Task[] = [];
      for (const { role, after } of deferred) {
        tasks.push(
          await callTool<Task>(writer, "create_task", {
            goal_id: goal,
            title: `starts ${after / 1000} s in${role ? ` (${role})` : ""}`,
            ...(role ? { role } : {}),
            not_before: new Date(start + after).toISOString(),
          }),
        );
      }
      expect(tasks.map((task) => Date.parse(task.not_before!))).toEqual(deferred.map(({ after }) => start + after));
      // Nothing is ready yet, and each caller is told when its own work will be.
      expect(await callTool<Claim>(writer, "get_next_task", { goal_id: goal, roles: ["coder"] })).toEqual({
        task: null,
        reason: "all_pending_tasks_blocked",
        next_ready_at: tasks[0].not_before,
      });
      expect(await callTool<Claim>(writer, "get_next_task", { goal_id: goal })).toMatchObject({ task: null, next_ready_at: tasks[2].not_before });

      // The last calls: from here until each not_before, nobody writes.
      expect(Date.now()).toBeLessThan(Date.parse(tasks[0].not_before!));
      const answers = await Promise.all(
        deferred.map(({ role }, i) =>
          timed(
            callTool<Claim>(waiters[i], "get_next_task", {
              agent_id: `${role ?? "anyone"}-agent`,
              goal_id: goal,
              ...(role ? { roles: [role] } : {}),
              wait_seconds: 30,
            }),
          ),
        ),
      );
      const delays = answers.map(({ at }, i) => at - Date.parse(tasks[i].not_before!));
      console.info(`not_before e2e: waiters answered ${delays.map((ms) => `${ms} ms`).join(", ")} after their tasks' not_before`);
      answers.forEach(({ answer }, i) => {
        expect(answer.task).toMatchObject({ id: tasks[i].id, status: "in_progress", assigned_to: `${deferred[i].role ?? "anyone"}-agent` });
      });
      for (const delay of delays) {
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ALARM_BOUND_MS);
      }
    } finally {
      await Promise.all([writer, ...waiters].map((client) => client.close()));
    }
  });
});

describe("retries with back-off", () => {
  it("a task its holder fails comes back to a waiting agent after its back-off (2 s ± 10 %), its error kept; failed not retryable, it stays failed", async () => {
    const first = await connectV1(server, accessToken);
    const second = await connectV2(server, accessToken);
    try {
      const goal = await newGoal(first, "retry with back-off");
      const task = await callTool<Task>(first, "create_task", { goal_id: goal, title: "call the flaky API", retry_backoff_seconds: 2, max_attempts: 3 });
      const claim = await callTool<Claim>(first, "get_next_task", { agent_id: "first", goal_id: goal });
      expect(claim.task).toMatchObject({ id: task.id, attempt: 1 });

      const sentAt = Date.now();
      const { answer: failed, at: failedAt } = await timed(
        callTool<Task>(first, "update_task_status", { task_id: task.id, status: "failed", error: "the API answered 503", lease_id: claim.lease_id }),
      );
      // Back in the queue, not before now + 2 s ± 10 %, "now" being when the object took the call.
      expect(failed).toMatchObject({ status: "pending", error: "the API answered 503", assigned_to: null, attempt: 1 });
      const notBefore = Date.parse(failed.not_before!);
      expect(notBefore - sentAt).toBeGreaterThanOrEqual(2_000 * (1 - JITTER));
      expect(notBefore - failedAt).toBeLessThanOrEqual(2_000 * (1 + JITTER));

      expect(await callTool<Claim>(second, "get_next_task", { goal_id: goal })).toEqual({
        task: null,
        reason: "all_pending_tasks_blocked",
        next_ready_at: failed.not_before,
      });

      // The last call until then: a waiting agent, answered by the alarm when the back-off ends.
      const retried = await timed(callTool<Claim>(second, "get_next_task", { agent_id: "second", goal_id: goal, wait_seconds: 30 }));
      const delay = retried.at - notBefore;
      console.info(`retry e2e: back-off ${notBefore - failedAt}..${notBefore - sentAt} ms; the waiter was answered ${delay} ms after it ended`);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(ALARM_BOUND_MS);
      // The next attempt reads why the last one failed.
      expect(retried.answer.task).toMatchObject({ id: task.id, status: "in_progress", assigned_to: "second", attempt: 2, error: "the API answered 503" });
      const history = await callTool<Task>(second, "get_task", { task_id: task.id });
      expect(history.events!.map((e) => [e.kind, e.agent_id, e.attempt])).toEqual([
        ["claimed", "second", 2],
        ["retry_scheduled", "first", 1],
        ["claimed", "first", 1],
      ]);
      expect(history.events![1].detail).toMatch(/^reported failed on attempt 1 of 3; retried not before /);

      // Failed as not retryable, with an attempt left: parked at once, and nothing will bring it back.
      const parked = await callTool<Task>(second, "update_task_status", {
        task_id: task.id,
        status: "failed",
        error: "the API key was revoked",
        retryable: false,
        lease_id: retried.answer.lease_id,
      });
      expect(parked).toMatchObject({ status: "failed", error: "the API key was revoked", attempt: 2 });
      const after = await callTool<Task>(second, "get_task", { task_id: task.id });
      expect(after.events![0]).toMatchObject({ kind: "parked", status: "failed", detail: "parked: the failure was reported as not retryable" });
      // Not pending, and no time set to make it so: no agent is ever handed it, waiting or not.
      expect(await callTool<Claim>(first, "get_next_task", { agent_id: "first", goal_id: goal })).toEqual({ task: null, reason: "no_pending_tasks" });
    } finally {
      await Promise.all([first, second].map((client) => client.close()));
    }
  });
});
