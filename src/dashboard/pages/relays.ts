/**
 * Relay pipelines: the list, and one pipeline step by step — which agent, its status, its
 * quality and L-scores against the gates, and the tokens spent against the budget.
 */
import type { ListWindow } from "../../runtime/kernel/window";
import type { PipelineSummary, RelayStatus, RelayStep } from "../../runtime/relay/model";
import type { PipelineLine } from "../../runtime/relay/views";
import { badge, html, time, type Html } from "../html";
import type { Page } from "./layout";
import { windowCaption, windowLinks } from "./window";
/** The L-score gate of every step (docs/relay.md). */
const L_SCORE_GATE = 0.3;

const PIPELINE_LABEL: Record<string, string> = { pending: "Waiting", in_progress: "Running", completed: "Completed", failed: "Failed" };
const STEP_LABEL: Record<string, string> = { pending: "Waiting", in_progress: "Working", completed: "Passed", failed: "Failed" };
const STEP_STATUS: Record<string, string> = { pending: "pending", in_progress: "in_progress", completed: "completed", failed: "failed" };

const number = (n: number) => n.toLocaleString("en-US");

export function tokens(p: Pick<PipelineSummary, "tokens_used" | "token_budget">, name: string): Html {
  const share = p.token_budget > 0 ? Math.min(1, p.tokens_used / p.token_budget) : 1;
  return html`<span class="tokens"><meter min="0" max="${p.token_budget}" low="${Math.round(p.token_budget * 0.75)}" high="${Math.round(
    p.token_budget * 0.9,
  )}" optimum="0" value="${Math.min(p.tokens_used, p.token_budget)}" aria-label="Tokens of ${name}">${Math.round(share * 100)} %</meter><span>${number(
    p.tokens_used,
  )} of ${number(p.token_budget)} tokens</span></span>`;
}

function pipelineBadge(p: Pick<PipelineSummary, "status">) {
  return badge(p.status, PIPELINE_LABEL[p.status] ?? p.status);
}

function stepsText(p: Pick<PipelineSummary, "status" | "current_step" | "total_steps">, passed: number) {
  return p.status === "completed" ? `all ${p.total_steps} steps passed` : `step ${Math.min(p.current_step + 1, p.total_steps)} of ${p.total_steps}, ${passed} passed`;
}

export function relaysPage(window: ListWindow<PipelineLine>): Page {
  const rows = window.items.map(
    (p) => html`<tr id="pipeline-${p.pipeline_id}">
  <th scope="row"><a href="/app/relays/${p.pipeline_id}">${p.name}</a> <span class="id">${p.pipeline_id}</span></th>
  <td data-label="Status">${pipelineBadge(p)}${p.failure_reason ? html` <span class="reason">${p.failure_reason.replace(/_/g, " ")}</span>` : ""}</td>
  <td data-label="Steps">${stepsText(p, p.passed_steps)}</td>
  <td data-label="Quality">${p.average_quality === null ? html`<span class="none">—</span>` : `average ${p.average_quality.toFixed(2)}`}</td>
  <td data-label="Tokens">${tokens(p, p.name)}</td>
  <td data-label="Updated">${time(p.updated_at)}</td>
</tr>`,
  );
  const main = html`<h1>Relay pipelines</h1>
${
  window.total === 0
    ? html`<p class="empty">No relay pipelines yet. Agents start one with <code>create_relay_pipeline</code>.</p>`
    : html`<div class="table-wrap"><table class="cards">
<caption>${windowCaption(window, "pipeline", "pipelines")}</caption>
<thead><tr><th scope="col">Pipeline</th><th scope="col">Status</th><th scope="col">Steps</th><th scope="col">Quality</th><th scope="col">Tokens</th><th scope="col">Updated</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>
${windowLinks(window, "/app/relays", "pipelines")}`
}`;
  return { title: "Relay pipelines", section: "relays", kind: "relays", main };
}

/** A score against its gate, in words and with a mark: "0.82 ✓ needs 0.70". */
function score(value: number | null, gate: number, what: string) {
  if (value === null) return html`<span class="none">—</span>`;
  const passes = value >= gate;
  return html`<span class="score ${passes ? "pass" : "fail"}">${value.toFixed(2)} <span class="verdict">${passes ? "meets" : "below"}</span> the ${what} gate of ${gate.toFixed(2)}</span>`;
}

function step(s: RelayStep, p: RelayStatus) {
  const live = p.status === "in_progress" && s.index === p.current_step;
  return html`<li class="step st-${STEP_STATUS[s.status] ?? s.status}${live ? " live-step" : ""}" id="step-${s.index}">
  <h3><span class="step-no">Step ${s.index + 1}</span> ${s.agent_type} ${badge(STEP_STATUS[s.status] ?? s.status, STEP_LABEL[s.status] ?? s.status)}${
    live ? html` <span class="baton">${s.status === "failed" ? "waits for a retry" : p.baton_id ? "holds the baton" : "next"}</span>` : ""
  }</h3>
  <dl>
    <div><dt>Quality</dt><dd>${score(s.quality_score, s.quality_threshold, "quality")}</dd></div>
    <div><dt>L-score</dt><dd>${score(s.l_score, L_SCORE_GATE, "L-score")}</dd></div>
    <div><dt>Tokens</dt><dd>${number(s.tokens_used)}</dd></div>
    <div><dt>Retries</dt><dd>${s.retry_count}</dd></div>
    ${s.started_at ? html`<div><dt>Started</dt><dd>${time(s.started_at)}</dd></div>` : ""}
    ${s.finished_at ? html`<div><dt>Finished</dt><dd>${time(s.finished_at)}</dd></div>` : ""}
  </dl>
  ${s.output_summary ? html`<p class="summary-text"><span class="label">Handed on:</span> ${s.output_summary}</p>` : ""}
</li>`;
}

export function relayPage(p: RelayStatus): Page {
  const main = html`<p class="crumbs"><a href="/app/relays">Relay pipelines</a> › ${p.pipeline_id}</p>
<h1>${p.name}</h1>
<section class="summary" aria-label="Summary">
  <p>${pipelineBadge(p)}${p.failure_reason ? html` <span class="reason">${p.failure_reason.replace(/_/g, " ")}</span>` : ""} · ${stepsText(p, p.quality_scores.length)}${
    p.average_quality === null ? "" : ` · average quality ${p.average_quality.toFixed(2)}`
  }</p>
  <p>${tokens(p, p.name)}</p>
  <p class="description"><span class="label">Goal:</span> ${p.goal}</p>
  ${p.description ? html`<p class="description">${p.description}</p>` : ""}
  <p>Started ${time(p.created_at)}${p.finished_at ? html`, finished ${time(p.finished_at)}` : ""}.</p>
</section>
<h2>Steps</h2>
<ol class="steps">${p.steps.map((s) => step(s, p))}</ol>`;
  return { title: p.name, section: "relays", kind: "relay", main };
}
