/**
 * The owner's decisions and task details on the dashboard (SPEC §14, §13; docs/owner.md,
 * docs/dashboard.md) through the real Worker: "Waiting for you" and its count in every page's
 * navigation, Approve / Reject with a note, each task's page, Retry of a failed task and of a
 * goal's failed tasks, and the tasks without a goal. Every action is refused without a session,
 * with a wrong CSRF token or from another origin, and when it is no longer possible — and a
 * refused action changes nothing (a snapshot of every table before and after).
 *
 * The dashboard shows the owner's Runtime (`owner`); storage is this file's own.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RuntimeApi } from "../src/runtime/api";
import { LOOSE_TASKS_ON_GOALS, LOOSE_TASKS_PER_PAGE } from "../src/dashboard/pages/tasks";
import { LIMITS } from "../src/runtime/kernel/limits";
import { get, post, signIn, type Signed } from "./helpers/dashboard";
import { freshRuntime, snapshot, value, withSql } from "./helpers/runtime";

/** The Runtime the dashboard shows. */
const owner = () => env.RUNTIME.getByName("owner") as unknown as RuntimeApi;

/** A form of the dashboard's own: the session's CSRF token unless `fields` says otherwise, from `origin`. */
const send = (path: string, signed: Signed | undefined, fields: Record<string, string> = {}, origin?: string) =>
  post(path, signed, new URLSearchParams({ ...(signed ? { csrf: signed.csrf } : {}), ...fields }), origin);

let goalCount = 0;

/** Build → "Approve the deploy" (owner) → Deploy, and "Tell the team" when the decision fails. */
async function gatedDeploy({ build = true } = {}) {
  const rt = owner();
  const goal = value(await rt.createGoal({ name: `Release ${++goalCount} <b>bold</b>`, description: "Ship 2.0 to production." }));
  const builder = value(await rt.createTask({ title: "Build", goal_id: goal.id }));
  const approve = value(
    await rt.createTask({ title: "Approve the deploy <i>now</i>", description: "Check the artifact first.", goal_id: goal.id, role: "owner", dependencies: [builder.id] }),
  );
  const deploy = value(await rt.createTask({ title: "Deploy", goal_id: goal.id, dependencies: [approve.id] }));
  const recover = value(await rt.createTask({ title: "Tell the team", goal_id: goal.id, dependencies: [approve.id], run_when: "any_failed" }));
  if (build) {
    const claim = value(await rt.nextTask({ agent_id: "builder", goal_id: goal.id }));
    expect(claim.task!.id).toBe(builder.id);
    value(await rt.updateTaskStatus({ task_id: builder.id, status: "completed", result: "artifact 2.0.0 <script>x</script>", lease_id: claim.lease_id }));
  }
  return { goal, builder, approve, deploy, recover };
}

const waitingCount = (page: string) => Number(/id="waiting-count" data-count="(\d+)">(\d+)</.exec(page)?.[2]);

const decide = (signed: Signed | undefined, taskId: number, decision: string, note = "", extra: Record<string, string> = {}, origin?: string) =>
  send(`/app/tasks/${taskId}/decide`, signed, { decision, note, ...extra }, origin);

/** Every row of the owner's tables; the list cursor's key is made first, so that a read that issues a cursor changes nothing. */
async function ownerSnapshot() {
  value(await owner().listTasks({ limit: 1 }));
  return snapshot(owner());
}

describe("Waiting for you", () => {
  it("counts the decisions waiting in the navigation of every page and in every refresh's header", async () => {
    const signed = await signIn();
    const before = waitingCount(await (await get("/app/breakers", signed)).text());
    await gatedDeploy();
    for (const path of ["/app", "/app/breakers", "/app/relays", "/app/data", "/app/notifications", "/app/waiting"]) {
      const page = await (await get(path, signed)).text();
      expect(page, path).toContain(`<a href="/app/waiting"${path === "/app/waiting" ? ' aria-current="page"' : ""}>Waiting for you`);
      expect(waitingCount(page), path).toBe(before + 1);
    }
    const fragment = await get("/app/relays", signed, { "X-Dashboard-Fragment": "main" });
    expect(fragment.headers.get("X-Dashboard-Waiting")).toBe(String(before + 1));
    // An owner task still waiting for its inputs is not counted.
    await gatedDeploy({ build: false });
    expect((await get("/app", signed, { "X-Dashboard-Fragment": "main" })).headers.get("X-Dashboard-Waiting")).toBe(String(before + 1));
  });

  it("lists each ready owner task with its goal, description and inputs, escaped, with Approve / Reject and a note", async () => {
    const signed = await signIn();
    const { goal, builder, approve } = await gatedDeploy();
    const page = await (await get("/app/waiting", signed)).text();
    const card = page.slice(page.indexOf(`id="decision-${approve.id}"`));
    expect(card).toContain(`<a href="/app/tasks/${approve.id}">Approve the deploy &#60;i&#62;now&#60;/i&#62;</a>`);
    expect(card).toContain(`<a href="/app/goals/${goal.id}">Release ${goalCount} &#60;b&#62;bold&#60;/b&#62;</a>`);
    expect(card).toContain("Check the artifact first.");
    expect(card).toContain(`<a href="/app/tasks/${builder.id}">Build</a>`);
    expect(card).toContain("artifact 2.0.0 &#60;script&#62;x&#60;/script&#62;");
    expect(card).toContain(`<form class="decide" method="post" action="/app/tasks/${approve.id}/decide">`);
    expect(card).toContain(`<input type="hidden" name="csrf" value="${signed.csrf}">`);
    expect(card).toContain(`<label for="note-${approve.id}">`);
    expect(card).toContain(`<textarea id="note-${approve.id}" name="note"`);
    expect(card).toMatch(/name="decision" value="approve"[^>]*>.*Approve<\/button>/);
    expect(card).toMatch(/name="decision" value="reject"[^>]*>.*Reject<\/button>/);
    expect(page).not.toMatch(/<script(?![^>]*\b(src="\/assets\/app\.js"|type="application\/json"))/);
    expect(page).not.toMatch(/\sstyle=/);
  });

  it("Approve completes the task with the note as its result, says so, and the dependent goes to the next agent with the note among its inputs", async () => {
    const signed = await signIn();
    const { goal, approve, deploy, recover } = await gatedDeploy();
    const answer = await decide(signed, approve.id, "approve", "Go: window 14:00–15:00\r\nnot later");
    expect(answer.status).toBe(303);
    expect(answer.headers.get("Location")).toBe(`/app/waiting?decided=${approve.id}`);
    const page = await (await get(answer.headers.get("Location")!, signed)).text();
    expect(page).toMatch(/<p class="success" role="status" id="action-result">You approved “<a href="\/app\/tasks\/\d+">Approve the deploy &#60;i&#62;now&#60;\/i&#62;<\/a>” \(#\d+\)\./);
    expect(page).not.toContain(`id="decision-${approve.id}"`);
    expect(value(await owner().getTask(approve.id))).toMatchObject({ status: "completed", result: "Go: window 14:00–15:00\nnot later" });
    expect(value(await owner().getTask(approve.id)).events[0]).toMatchObject({ kind: "approved", detail: 'approved by owner: "Go: window 14:00–15:00\\nnot later"' });
    const claim = value(await owner().nextTask({ agent_id: "deployer", goal_id: goal.id }));
    expect(claim.task!.id).toBe(deploy.id);
    expect(claim.inputs).toEqual([{ task_id: approve.id, title: "Approve the deploy <i>now</i>", status: "completed", result: "Go: window 14:00–15:00\nnot later" }]);
    expect(value(await owner().getTask(recover.id)).status).toBe("cancelled");
  });

  it("Reject fails the task with the note as its error and readies the any_failed recovery; from the task's page the answer is there", async () => {
    const signed = await signIn();
    const { goal, approve, deploy, recover } = await gatedDeploy();
    const answer = await decide(signed, approve.id, "reject", "Not on a Friday", { from: "task" });
    expect(answer.headers.get("Location")).toBe(`/app/tasks/${approve.id}?decided=1`);
    const page = await (await get(answer.headers.get("Location")!, signed)).text();
    expect(page).toContain("You rejected “");
    expect(page).toContain(`<span class="badge st-failed">`);
    expect(page).toContain("Rejected</span>");
    expect(value(await owner().getTask(approve.id))).toMatchObject({ status: "failed", error: "Not on a Friday" });
    const claim = value(await owner().nextTask({ agent_id: "notifier", goal_id: goal.id }));
    expect(claim.task!.id).toBe(recover.id);
    expect(claim.inputs).toEqual([{ task_id: approve.id, title: "Approve the deploy <i>now</i>", status: "failed", error: "Not on a Friday" }]);
    expect(value(await owner().getTask(deploy.id))).toMatchObject({ status: "pending", blocked_by: [approve.id] });
  });

  it("keeps the page script's answer to a refresh to the inside of <main>", async () => {
    const signed = await signIn();
    const text = await (await get("/app/waiting", signed, { "X-Dashboard-Fragment": "main" })).text();
    expect(text).toContain("<h1>Waiting for you</h1>");
    expect(text).not.toContain("<html");
  });
});

describe("a decision is refused, changing nothing", () => {
  it("without a session, with a wrong CSRF token, or from another site", async () => {
    const signed = await signIn();
    const { approve } = await gatedDeploy();
    const before = await ownerSnapshot();
    expect((await decide(undefined, approve.id, "approve")).status).toBe(401);
    const forged = await decide({ ...signed, csrf: "forged" }, approve.id, "approve");
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("The form is out of date. Reload the page and try again. Nothing changed.");
    const noToken = await send(`/app/tasks/${approve.id}/decide`, { cookie: signed.cookie, csrf: "" }, { decision: "approve" });
    expect(noToken.status).toBe(403);
    const crossSite = await decide(signed, approve.id, "approve", "", {}, "https://evil.example");
    expect(crossSite.status).toBe(403);
    expect(await crossSite.text()).toContain("This form was not sent from the dashboard.");
    expect(await ownerSnapshot()).toEqual(before);
  });

  it("when it was decided already (in another tab), saying so", async () => {
    const signed = await signIn();
    const { approve } = await gatedDeploy();
    expect((await decide(signed, approve.id, "approve", "yes")).status).toBe(303);
    const before = await ownerSnapshot();
    const late = await decide(signed, approve.id, "reject", "no");
    expect(late.status).toBe(409);
    const page = await late.text();
    expect(page).toContain(`role="alert" id="action-result">“<a href="/app/tasks/${approve.id}">`);
    expect(page).toContain("was approved already, perhaps in another tab: your decision was not recorded. Nothing changed.");
    expect(await ownerSnapshot()).toEqual(before);
    expect(value(await owner().getTask(approve.id))).toMatchObject({ status: "completed", result: "yes" });
  });

  it("when it is not ready, is no owner task, or the form is not a decision", async () => {
    const signed = await signIn();
    const { builder, approve } = await gatedDeploy({ build: false });
    const before = await ownerSnapshot();
    const early = await decide(signed, approve.id, "approve");
    expect(early.status).toBe(409);
    expect(await early.text()).toContain(`is not ready for a decision yet: it waits for #${builder.id}. Nothing changed.`);
    expect((await decide(signed, builder.id, "approve")).status).toBe(404);
    expect((await decide(signed, 99_999_999, "approve")).status).toBe(404);
    expect((await decide(signed, approve.id, "maybe")).status).toBe(400);
    const long = await decide(signed, approve.id, "approve", "x".repeat(LIMITS.text + 1));
    expect(long.status).toBe(413);
    expect(await long.text()).toContain("The note is longer than 20,000 characters.");
    expect(await ownerSnapshot()).toEqual(before);
  });

  it("a GET of an action's address lands on its page, and other methods are not allowed", async () => {
    const signed = await signIn();
    const { approve, goal } = await gatedDeploy();
    expect((await get(`/app/tasks/${approve.id}/decide`, signed)).headers.get("Location")).toBe("/app/waiting");
    expect((await get(`/app/tasks/${approve.id}/retry`, signed)).headers.get("Location")).toBe(`/app/tasks/${approve.id}`);
    expect((await get(`/app/goals/${goal.id}/retry`, signed)).headers.get("Location")).toBe(`/app/goals/${goal.id}`);
  });
});

describe("a task's page", () => {
  it("shows what a person deciding needs: description, result, error, progress, role, rule, schedule, attempts, retry policy, inputs, history", async () => {
    const signed = await signIn();
    const rt = owner();
    const goal = value(await rt.createGoal({ name: "Details", description: "" }));
    const first = value(await rt.createTask({ title: "Fetch the data", goal_id: goal.id }));
    const second = value(
      await rt.createTask({
        title: "Clean <em>it</em>",
        description: "Drop duplicates.\nKeep the newest.",
        goal_id: goal.id,
        role: "cleaner",
        dependencies: [first.id],
        run_when: "all_finished",
        max_attempts: 4,
        retry_backoff_seconds: 30,
        retry_backoff_max_seconds: 600,
        metadata: { ticket: "OPS-7" },
      }),
    );
    const claimFirst = value(await rt.nextTask({ agent_id: "fetcher", goal_id: goal.id }));
    value(await rt.updateTaskStatus({ task_id: first.id, status: "completed", result: "1,204 rows", lease_id: claimFirst.lease_id }));
    const claim = value(await rt.nextTask({ agent_id: "cleaner-1", goal_id: goal.id, roles: ["cleaner"] }));
    expect(claim.task!.id).toBe(second.id);
    value(await rt.heartbeatTask({ task_id: second.id, lease_id: claim.lease_id!, progress: "halfway <b>there</b>" }));
    value(await rt.updateTaskStatus({ task_id: second.id, status: "failed", error: "disk full <x>", lease_id: claim.lease_id, retryable: false }));

    const page = await (await get(`/app/tasks/${second.id}`, signed)).text();
    expect(page).toContain(`<h1>Clean &#60;em&#62;it&#60;/em&#62; <span class="id">#${second.id}</span></h1>`);
    expect(page).toContain(`<a href="/app/goals/${goal.id}">Details</a>`);
    expect(page).toContain('<div class="agent-text">Drop duplicates.\nKeep the newest.</div>');
    expect(page).toContain('<div class="agent-text error">disk full &#60;x&#62;</div>');
    expect(page).toContain('<div class="agent-text">halfway &#60;b&#62;there&#60;/b&#62;</div>');
    expect(page).toContain('<span class="role">cleaner</span>');
    expect(page).toContain("when every dependency is finished, whatever the outcome");
    expect(page).toContain("<dt>Attempt</dt><dd>1 of 4</dd>");
    expect(page).toContain("again in 30 s, doubling up to 10 min, while attempts are left");
    expect(page).toContain('<div class="agent-text">1,204 rows</div>');
    expect(page).toContain("OPS-7");
    // The history, newest first: parked, the failure, the heartbeat, the claim.
    const history = page.slice(page.indexOf('id="history-heading"'));
    const kinds = [...history.matchAll(/<th scope="row">([^<]+)<\/th>/g)].map((m) => m[1]);
    expect(kinds.slice(0, 4)).toEqual(["Parked", "Status changed", "Heartbeat", "Claimed"]);
    expect(page).toContain(`<form class="retry" method="post" action="/app/tasks/${second.id}/retry">`);
    expect(page).toContain("Sets it back to pending for one more attempt (attempt 2).");
  });

  it("answers 404 for a task that does not exist", async () => {
    const signed = await signIn();
    expect((await get("/app/tasks/99999999", signed)).status).toBe(404);
  });

  it("is linked from the goal's table, which shows each task's role, the owner's mark, and a scheduled task's start", async () => {
    const signed = await signIn();
    const { goal, approve } = await gatedDeploy();
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = value(await owner().createTask({ title: "Tomorrow's report", goal_id: goal.id, role: "reporter", not_before: Date.parse(later) }));
    const page = await (await get(`/app/goals/${goal.id}`, signed)).text();
    expect(page).toContain(`<th scope="row"><a href="/app/tasks/${approve.id}">Approve the deploy &#60;i&#62;now&#60;/i&#62;</a></th>`);
    expect(page).toMatch(new RegExp(`/app/tasks/${approve.id}">[^]*?<span class="badge st-waiting">[^]*?Waiting for you</span>[^]*?Owner's decision</span>`));
    expect(page).toMatch(new RegExp(`/app/tasks/${scheduled.id}">[^]*?<span class="badge st-scheduled">[^]*?Scheduled</span> <span class="starts">starts <time datetime="${later.slice(0, 19)}`));
    expect(page).toContain('<span class="role">reporter</span>');
    // The legend names the new look, and the graph's data carries what the drawing needs.
    expect(page).toContain("pending, may not start before the time it names");
    expect(page).toContain("Owner's decision</span><span class=\"meaning\">double outline");
    const json = /<script type="application\/json" id="graph-data">(.*?)<\/script>/s.exec(page)?.[1];
    const nodes = (JSON.parse(json!) as { nodes: { id: number; state: string; role: string | null; not_before: string | null }[] }).nodes;
    expect(nodes.find((n) => n.id === approve.id)).toMatchObject({ state: "ready", role: "owner" });
    expect(nodes.find((n) => n.id === scheduled.id)).toMatchObject({ state: "scheduled", role: "reporter", not_before: expect.any(String) });
  });
});

describe("Retry", () => {
  async function failedTask(goalId: number, title: string) {
    const task = value(await owner().createTask({ title, goal_id: goalId, max_attempts: 2 }));
    const claim = value(await owner().nextTask({ agent_id: "worker", goal_id: goalId }));
    expect(claim.task!.id).toBe(task.id);
    value(await owner().updateTaskStatus({ task_id: task.id, status: "failed", error: "boom", lease_id: claim.lease_id }));
    return task;
  }

  it("sets a failed task back to pending for one more attempt, and its page says so", async () => {
    const signed = await signIn();
    const goal = value(await owner().createGoal({ name: "Retries", description: "" }));
    const task = await failedTask(goal.id, "Flaky");
    const answer = await send(`/app/tasks/${task.id}/retry`, signed, {});
    expect(answer.status).toBe(303);
    expect(answer.headers.get("Location")).toBe(`/app/tasks/${task.id}?retried=1`);
    expect(await (await get(answer.headers.get("Location")!, signed)).text()).toContain("Retried: the task is back in the queue for attempt 2 (2 planned).");
    expect(value(await owner().getTask(task.id))).toMatchObject({ status: "pending", error: "boom" });
  });

  it("refuses to retry a task that is not failed, or without a session, token or our origin, changing nothing", async () => {
    const signed = await signIn();
    const goal = value(await owner().createGoal({ name: "Not failed", description: "" }));
    const running = value(await owner().createTask({ title: "Running", goal_id: goal.id }));
    const claim = value(await owner().nextTask({ agent_id: "holder", goal_id: goal.id }));
    expect(claim.task!.id).toBe(running.id);
    const done = value(await owner().createTask({ title: "Done", goal_id: goal.id }));
    value(await owner().updateTaskStatus({ task_id: done.id, status: "completed" }));
    const failed = await failedTask(goal.id, "Failed");
    const before = await ownerSnapshot();
    const refusal = await send(`/app/tasks/${running.id}/retry`, signed, {});
    expect(refusal.status).toBe(409);
    expect(await refusal.text()).toContain(`task ${running.id} is in_progress, not failed: there is nothing to retry. Nothing changed.`);
    expect((await send(`/app/tasks/${done.id}/retry`, signed, {})).status).toBe(409);
    expect((await send(`/app/tasks/99999999/retry`, signed, {})).status).toBe(404);
    expect((await send(`/app/tasks/${failed.id}/retry`, undefined, {})).status).toBe(401);
    expect((await send(`/app/tasks/${failed.id}/retry`, signed, { csrf: "forged" })).status).toBe(403);
    expect((await send(`/app/tasks/${failed.id}/retry`, signed, {}, "https://evil.example")).status).toBe(403);
    expect((await send(`/app/goals/${goal.id}/retry`, signed, { csrf: "forged" })).status).toBe(403);
    expect((await send(`/app/goals/${goal.id}/retry`, signed, {}, "https://evil.example")).status).toBe(403);
    expect((await send(`/app/goals/99999999/retry`, signed, {})).status).toBe(404);
    expect(await ownerSnapshot()).toEqual(before);
    expect(value(await owner().getTask(running.id))).toMatchObject({ status: "in_progress", assigned_to: "holder" });
  });

  it("Retry all failed sets every failed task of the goal back to pending; with none it says nothing was retried", async () => {
    const signed = await signIn();
    const goal = value(await owner().createGoal({ name: "Many failures", description: "" }));
    const a = await failedTask(goal.id, "a");
    const b = await failedTask(goal.id, "b");
    const page = await (await get(`/app/goals/${goal.id}`, signed)).text();
    expect(page).toContain(`<form class="retry" method="post" action="/app/goals/${goal.id}/retry">`);
    expect(page).toContain("Sets the 2 failed tasks back to pending");
    const answer = await send(`/app/goals/${goal.id}/retry`, signed, {});
    expect(answer.headers.get("Location")).toBe(`/app/goals/${goal.id}?retried=2`);
    expect(await (await get(answer.headers.get("Location")!, signed)).text()).toContain("2 failed tasks are back in the queue, one more attempt each.");
    for (const task of [a, b]) expect(value(await owner().getTask(task.id)).status).toBe("pending");
    const again = await send(`/app/goals/${goal.id}/retry`, signed, {});
    expect(again.headers.get("Location")).toBe(`/app/goals/${goal.id}?retried=0`);
    const after = await (await get(again.headers.get("Location")!, signed)).text();
    expect(after).toContain("No task of this goal was failed: nothing was retried.");
    expect(after).not.toContain('action="/app/goals');
  });

  it("a rejected decision is asked again: Ask again puts it back on Waiting for you", async () => {
    const signed = await signIn();
    const { approve } = await gatedDeploy();
    await decide(signed, approve.id, "reject", "not yet");
    const page = await (await get(`/app/tasks/${approve.id}`, signed)).text();
    expect(page).toContain(">Ask again</button>");
    expect((await send(`/app/tasks/${approve.id}/retry`, signed, {})).status).toBe(303);
    expect(await (await get(`/app/tasks/${approve.id}?retried=1`, signed)).text()).toContain("Asked again: the decision waits for you");
    expect(await (await get("/app/waiting", signed)).text()).toContain(`id="decision-${approve.id}"`);
  });
});

describe("tasks without a goal", () => {
  it("are listed on the goals page (the oldest) and on their own page, a page at a time", async () => {
    const signed = await signIn();
    const rt = owner();
    const created: number[] = [];
    for (let i = 0; i < 63; i++) created.push(value(await rt.createTask({ title: `Loose ${i} <u>` })).id);
    // Other files' tests may have made tasks without a goal in this Runtime too: the page shows the oldest ten.
    const oldest = value(await rt.listTasks({ goal_id: null, limit: LOOSE_TASKS_ON_GOALS + 1 })).items.map((t) => t.id);
    const goals = await (await get("/app", signed)).text();
    expect(goals).toContain('<h2 id="loose-heading">Tasks without a goal</h2>');
    expect(goals).toContain('<a href="/app/tasks">All tasks without a goal</a>');
    expect(goals).toContain(`<a href="/app/tasks/${oldest[LOOSE_TASKS_ON_GOALS - 1]}">`);
    expect(goals).not.toContain(`<a href="/app/tasks/${oldest[LOOSE_TASKS_ON_GOALS]}">`);
    if (oldest.includes(created[9])) expect(goals).toContain(`<a href="/app/tasks/${created[9]}">Loose 9 &#60;u&#62;</a>`);

    const ids = (page: string) => [...page.matchAll(/<tr id="task-row-(\d+)">/g)].map((m) => Number(m[1]));
    const nextOf = (page: string) => /<a href="(\/app\/tasks\?cursor=[^"]+)" rel="next">Next page<\/a>/.exec(page)?.[1]?.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)));
    const { approve } = await gatedDeploy();
    const listed: number[] = [];
    let pages = 0;
    for (let at: string | undefined = "/app/tasks"; at; pages++) {
      const page = await (await get(at, signed)).text();
      expect(ids(page).length).toBeLessThanOrEqual(LOOSE_TASKS_PER_PAGE);
      listed.push(...ids(page));
      at = nextOf(page);
    }
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(listed).toEqual([...listed].sort((a, b) => a - b));
    expect(listed.filter((id) => created.includes(id))).toEqual(created);
    // No task of a goal among them.
    expect(listed).not.toContain(approve.id);
    expect((await get("/app/tasks?cursor=not-a-cursor", signed)).status).toBe(400);
  });

  it("are read through an index, in id order, without a sort", async () => {
    const rt = freshRuntime("loose");
    const goal = value(await rt.createGoal({ name: "g", description: "" }));
    value(await rt.createTask({ title: "in a goal", goal_id: goal.id }));
    const loose = [value(await rt.createTask({ title: "a" })).id, value(await rt.createTask({ title: "b" })).id];
    const page = value(await rt.listTasks({ goal_id: null, limit: 1 }));
    expect(page.items.map((t) => t.id)).toEqual([loose[0]]);
    expect(value(await rt.listTasks({ goal_id: null, limit: 5, cursor: page.next_cursor! })).items.map((t) => t.id)).toEqual([loose[1]]);
    const plan = await withSql(rt, (sql) =>
      sql
        .exec<{ detail: string }>(`EXPLAIN QUERY PLAN SELECT * FROM tasks WHERE goal_id IS NULL AND id > ? ORDER BY id ASC LIMIT ?`, 0, 10)
        .toArray()
        .map((r) => r.detail),
    );
    expect(plan.join("; ")).toMatch(/USING INDEX tasks_in_goal \(goal_id=\? AND rowid>\?\)/);
    expect(plan.join("; ")).not.toContain("TEMP B-TREE");
  });
});
