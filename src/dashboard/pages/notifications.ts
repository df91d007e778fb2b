/**
 * Notifications: where they go (the receiver's host only: a URL's path may be a secret, such as
 * an ntfy topic), whether they are signed, how many wait, and the failures the owner must see —
 * events still being retried and events given up after a day.
 */
import type { OutboxEntry, OutboxStatus } from "../../runtime/notify/outbox";
import type { NotifyTargetView } from "../../runtime/webhooks";
import { html, time, type Html } from "../html";
import type { Page } from "./layout";

export type NotificationsView = { target: NotifyTargetView } & OutboxStatus;

const count = (n: number) => n.toLocaleString("en-US");

function target(view: NotifyTargetView): Html {
  if (view.state === "off") {
    return html`<p class="empty">Notifications are off: <code>NOTIFY_URL</code> is not set. Set it to receive an event when a goal
completes, a breaker opens, a relay pipeline ends, a task is parked or a decision waits for you (docs/owner.md).</p>`;
  }
  if (view.state === "invalid") return html`<p class="notice">Notifications are off: ${view.problem} Nothing is recorded until it is fixed.</p>`;
  return html`<p>Sending to <strong>${view.host}</strong>, ${
    view.signed
      ? "signed with NOTIFY_SECRET (Standard Webhooks)."
      : html`<strong>unsigned</strong>: <code>NOTIFY_SECRET</code> is not set, so the receiver cannot tell these events from forged ones.`
  }</p>`;
}

/** The event's data in one line: ids and names, as the receiver gets them. */
function dataLine(entry: OutboxEntry): string {
  return Object.entries(entry.data)
    .map(([key, value]) => `${key}: ${value === null ? "—" : String(value)}`)
    .join(", ");
}

function entries(list: OutboxEntry[], caption: string, last: "next" | "given_up"): Html {
  const rows = list.map(
    (e) => html`<tr>
  <th scope="row">${e.type.replace(/_/g, " ")} <span class="id">${e.message_id}</span></th>
  <td data-label="Occurred">${time(e.occurred_at)}</td>
  <td data-label="Event">${dataLine(e)}</td>
  <td data-label="Attempts">${e.attempts}</td>
  <td data-label="Last error">${e.last_error ?? html`<span class="none">—</span>`}</td>
  <td data-label="${last === "next" ? "Next attempt" : "Given up"}">${time(last === "next" ? e.next_attempt_at : e.given_up_at)}</td>
</tr>`,
  );
  return html`<div class="table-wrap"><table class="cards">
<caption>${caption}</caption>
<thead><tr><th scope="col">Event</th><th scope="col">Occurred</th><th scope="col">Data</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">${
    last === "next" ? "Next attempt" : "Given up"
  }</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

export function notificationsPage(view: NotificationsView): Page {
  const main = html`<h1>Notifications</h1>
${target(view.target)}
<section class="outbox" aria-labelledby="outbox-counts">
<h2 id="outbox-counts">Delivery</h2>
<dl>
  <div><dt>Waiting</dt><dd>${count(view.pending)}${view.pending ? html`, oldest from ${time(view.oldest_pending_at)}; next attempt ${time(view.next_attempt_at)}` : ""}</dd></div>
  <div><dt>Delivered</dt><dd>${count(view.delivered)}${view.last_delivered_at ? html`, last ${time(view.last_delivered_at)}` : ""}</dd></div>
  <div><dt>Given up after a day</dt><dd>${count(view.given_up)}</dd></div>
  <div><dt>Dropped</dt><dd>${count(view.dropped)}${view.last_dropped_at ? html`, last ${time(view.last_dropped_at)}` : ""}</dd></div>
</dl>
${
  view.dropped
    ? html`<p class="hint">Dropped events made room for newer ones (at most 1,000 wait at a time), or were waiting when notifications were turned off.</p>`
    : ""
}
</section>
<h2>Failing</h2>
${
  view.failing.length
    ? entries(view.failing, "Waiting for another attempt, newest first", "next")
    : html`<p class="none">No event is failing.</p>`
}
<h2>Given up</h2>
${
  view.given_up_recent.length
    ? entries(view.given_up_recent, "Not delivered within a day of occurring, newest first", "given_up")
    : html`<p class="none">None.</p>`
}`;
  return { title: "Notifications", section: "notifications", kind: "notifications", main };
}
