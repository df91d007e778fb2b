/**
 * Schedules: each one's rule, its next run (counted down on the page), its counts and newest
 * runs, and Pause or Resume: a form posted to /app/schedules/:id with the session's CSRF token
 * (routes.ts). Ending and editing are left to the tools: a button should not be able to do
 * something final by a slip.
 */
import type { ScheduleDetail } from "../../runtime/schedules/schedules";
import { badge, countdown, durationWords, html, time } from "../html";
import type { Page } from "./layout";

export const SCHEDULES_SHOWN = 500;
/** Runs listed under each schedule. */
export const RUNS_SHOWN = 5;

/** What an owner's action on the page said, shown above the list. */
export interface ScheduleNotice {
  ok: boolean;
  message: string;
}

function rule(s: ScheduleDetail) {
  const cadence = s.every_seconds !== null ? html`Every ${durationWords(s.every_seconds)}` : html`<code>${s.cron}</code> in ${s.timezone}`;
  const window = [s.starts_at ? html` from ${time(s.starts_at)}` : "", s.ends_at ? html` until ${time(s.ends_at)}` : ""];
  return html`${cadence}${window}`;
}

function next(s: ScheduleDetail, now: number) {
  if (s.status === "paused") return html`Paused: no runs until resumed.`;
  if (s.status === "ended") return html`Ended: no more runs.`;
  return html`Next run ${time(s.next_run_at)}, in ${countdown(s.next_run_at, now)}.`;
}

function action(s: ScheduleDetail, csrf: string) {
  if (s.status === "ended") return "";
  const [status, label] = s.status === "active" ? ["paused", "Pause"] : ["active", "Resume"];
  return html`<form method="post" action="/app/schedules/${s.schedule_id}" class="schedule-action">
    <input type="hidden" name="csrf" value="${csrf}">
    <input type="hidden" name="status" value="${status}">
    <button type="submit" id="schedule-${s.schedule_id}-${status}" aria-label="${label} ${s.title}">${label}</button>
  </form>`;
}

function schedule(s: ScheduleDetail, csrf: string, now: number) {
  const runs = s.recent_runs.map(
    (r) => html`<li>${badge(r.status)} task ${r.task_id}, made ${time(r.created_at)}${r.completed_at ? html`, done ${time(r.completed_at)}` : ""}</li>`,
  );
  return html`<li class="schedule st-${s.status}" id="schedule-${s.schedule_id}">
  <h2>${s.title} ${badge(s.status)}</h2>
  <p>${rule(s)}. ${next(s, now)}</p>
  ${action(s, csrf)}
  <dl>
    <div><dt>Runs</dt><dd>${s.runs}</dd></div>
    <div><dt>Skipped (last run unfinished)</dt><dd>${s.skipped_runs}</dd></div>
    <div><dt>Last run</dt><dd>${time(s.last_run_at)}</dd></div>
    <div><dt>Goal</dt><dd>${s.goal_id === null ? html`<span class="none">—</span>` : html`<a href="/app/goals/${s.goal_id}">goal ${s.goal_id}</a>`}</dd></div>
    <div><dt>Role</dt><dd>${s.role ?? html`<span class="none">—</span>`}</dd></div>
    <div><dt>Keeps</dt><dd>the last ${s.keep_runs} finished runs</dd></div>
  </dl>
  <details id="schedule-runs-${s.schedule_id}"><summary>Newest runs (${runs.length})</summary>
    ${runs.length ? html`<ul class="history">${runs}</ul>` : html`<p class="none">None yet.</p>`}
  </details>
</li>`;
}

export function schedulesPage(schedules: ScheduleDetail[], csrf: string, notice?: ScheduleNotice, now = Date.now()): Page {
  // Active first, then paused, then ended; newest first within each.
  const rank = { active: 0, paused: 1, ended: 2 } as const;
  const sorted = [...schedules].sort((a, b) => rank[a.status] - rank[b.status]);
  const counts = { active: 0, paused: 0, ended: 0 };
  for (const s of schedules) counts[s.status]++;
  const main = html`<h1>Schedules</h1>
${notice ? html`<p class="${notice.ok ? "success" : "notice"}" role="${notice.ok ? "status" : "alert"}" id="schedule-result">${notice.message}</p>` : ""}
${
  schedules.length === 0
    ? html`<p class="empty">No schedules yet. An agent makes one with <code>create_schedule</code>: a task at each due time, every N seconds or on a cron rule.</p>`
    : html`<p class="summary">${counts.active} active, ${counts.paused} paused, ${counts.ended} ended.${
        schedules.length === SCHEDULES_SHOWN ? ` Showing the newest ${SCHEDULES_SHOWN}.` : ""
      }</p>
<ul class="schedules">${sorted.map((s) => schedule(s, csrf, now))}</ul>`
}`;
  return { title: "Schedules", section: "schedules", kind: "schedules", main };
}
