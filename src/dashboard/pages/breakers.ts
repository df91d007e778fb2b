/**
 * Circuit breakers: each agent's state, how close it is to tripping, the cooldown still to run
 * (counted down on the page), probes in flight, and its recent transitions and failures.
 */
import type { BreakerList, BreakerStatus } from "../../runtime/breakers/model";
import { badge, countdown, html, time } from "../html";
import type { Page } from "./layout";

export const BREAKERS_SHOWN = 500;

function stateLine(b: BreakerStatus, now: number) {
  if (b.state === "OPEN") {
    return html`Cooldown: ${countdown(b.cooldown_until, now)} left (until ${time(b.cooldown_until)}); work goes to <strong>${b.fallback_agent}</strong>.`;
  }
  if (b.state === "HALF_OPEN") {
    return html`Trying again carefully: ${b.probes_in_flight} of ${b.config.half_open_max_calls} probes in flight, ${b.success_count} of ${b.config.success_threshold} successes needed to close.`;
  }
  return html`${b.failure_count} of ${b.config.failure_threshold} failures within ${b.config.window_seconds} s trip it.`;
}

function breaker(b: BreakerStatus, now: number) {
  const transitions = b.recent_transitions.map(
    (t) => html`<li>${time(t.at)}: ${badge(t.from)} → ${badge(t.to)} <span class="reason">${t.reason}</span></li>`,
  );
  const failures = b.recent_failures.map((f) => html`<li>${time(f.at)}: <span class="type">${f.type}</span> ${f.message}</li>`);
  return html`<li class="breaker st-${b.state}" id="breaker-${b.agent_id}">
  <h2>${b.agent_id} ${badge(b.state)}</h2>
  <p>${stateLine(b, now)}</p>
  <dl>
    <div><dt>Trips</dt><dd>${b.trip_count}</dd></div>
    <div><dt>Failures / successes</dt><dd>${b.total_failures} / ${b.total_successes}</dd></div>
    <div><dt>Cooldown</dt><dd>${b.config.cooldown_seconds} s</dd></div>
    <div><dt>Fallback</dt><dd>${b.fallback_agent}</dd></div>
  </dl>
  <details id="breaker-history-${b.agent_id}"><summary>Recent transitions (${b.recent_transitions.length}) and failures (${b.recent_failures.length})</summary>
    <h3>Transitions, newest first</h3>
    ${transitions.length ? html`<ul class="history">${transitions}</ul>` : html`<p class="none">None yet.</p>`}
    <h3>Failures, newest first</h3>
    ${failures.length ? html`<ul class="history">${failures}</ul>` : html`<p class="none">None recorded.</p>`}
  </details>
</li>`;
}

export function breakersPage(list: BreakerList<BreakerStatus>, now = Date.now()): Page {
  const open = list.open_count;
  const half = list.half_open_count;
  // Open first, then half-open, then closed: what needs attention at the top.
  const rank = { OPEN: 0, HALF_OPEN: 1, CLOSED: 2 } as const;
  const breakers = [...list.items].sort((a, b) => rank[a.state] - rank[b.state] || a.agent_id.localeCompare(b.agent_id));
  const main = html`<h1>Circuit breakers</h1>
${
  list.total_breakers === 0
    ? html`<p class="empty">No breakers yet. One appears when an agent's failure or success is first recorded, or it is configured.</p>`
    : html`<p class="summary">${list.total_breakers} ${list.total_breakers === 1 ? "breaker" : "breakers"}: ${open} open, ${half} half-open, ${
        list.total_breakers - open - half
      } closed.${list.total_breakers > breakers.length ? ` Showing ${breakers.length}.` : ""}</p>
<ul class="breakers">${breakers.map((b) => breaker(b, now))}</ul>`
}`;
  return { title: "Circuit breakers", section: "breakers", kind: "breakers", main };
}
