/**
 * Agent keys: the form that makes one, the list (with last use) and revoke; and the page that
 * shows a new key once, with lines to paste into Claude Code, Cursor and curl.
 */
import { keyPrefix } from "../../auth/agent-keys";
import { KEY_LIMITS, type AgentKey, type KeyStatus } from "../../runtime/keys/model";
import { ENDPOINT_PATHS, EXPIRY_DAYS, type IssuedKey } from "../agent-keys";
import { badge, html, time } from "../html";
import type { Page } from "./layout";

/** What the form held when it is shown again with a problem. */
export interface KeyForm {
  agent_id?: string;
  roles?: string;
  endpoint?: string;
  expires_in_days?: string;
  message?: string;
}

const STATUS_LOOK: Record<KeyStatus, [status: string, label: string]> = {
  active: ["completed", "Active"],
  expired: ["blocked", "Expired"],
  revoked: ["cancelled", "Revoked"],
};

function keyRow(key: AgentKey, userId: string, csrf: string) {
  const [look, label] = STATUS_LOOK[key.status];
  return html`<tr id="key-${key.key_id}">
  <th scope="row"><code>${keyPrefix(userId, key.key_id)}…</code></th>
  <td data-label="Agent">${key.agent_id}</td>
  <td data-label="Roles">${key.roles ? key.roles.join(", ") : html`<span class="none">any</span>`}</td>
  <td data-label="Endpoint"><code class="nowrap">${key.endpoint}</code></td>
  <td data-label="Status">${badge(look, label)}</td>
  <td data-label="Created">${time(key.created_at)}</td>
  <td data-label="Expires">${key.expires_at ? time(key.expires_at) : html`<span class="none">never</span>`}</td>
  <td data-label="Last use">${key.last_used_at ? time(key.last_used_at) : html`<span class="none">never</span>`}</td>
  <td>${
    key.status === "active"
      ? html`<form method="post" action="/app/keys/revoke" class="inline">
    <input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="key_id" value="${key.key_id}">
    <button type="submit" aria-label="Revoke the key of ${key.agent_id} (${key.key_id})">Revoke</button>
  </form>`
      : key.revoked_at
        ? html`<span class="none">revoked ${time(key.revoked_at)}</span>`
        : ""
  }</td>
</tr>`;
}

function createForm(csrf: string, form: KeyForm) {
  const endpoint = form.endpoint ?? "/mcp";
  const expiry = form.expires_in_days ?? "";
  return html`<form method="post" action="/app/keys" class="key-form" id="key-form">
  <input type="hidden" name="csrf" value="${csrf}">
  ${form.message ? html`<p class="notice" role="alert" id="key-problem">${form.message}</p>` : ""}
  <p><label for="key-agent">Agent id</label>
  <input id="key-agent" name="agent_id" required maxlength="${KEY_LIMITS.agentId}" value="${form.agent_id ?? ""}" autocomplete="off" spellcheck="false">
  <span class="hint field-hint">The agent_id it acts as, as in the tools.</span></p>
  <p><label for="key-roles">Roles <span class="none">(optional)</span></label>
  <input id="key-roles" name="roles" value="${form.roles ?? ""}" autocomplete="off" spellcheck="false">
  <span class="hint field-hint">Up to ${KEY_LIMITS.roles}, separated by commas. Empty: any role.</span></p>
  <p><label for="key-endpoint">Endpoint</label>
  <select id="key-endpoint" name="endpoint">${ENDPOINT_PATHS.map(
    (path) => html`<option value="${path}"${path === endpoint ? html` selected` : ""}>${path}${path === "/mcp" ? " (every tool)" : ""}</option>`,
  )}</select></p>
  <p><label for="key-expiry">Expires</label>
  <select id="key-expiry" name="expires_in_days">
    <option value=""${expiry === "" ? html` selected` : ""}>never</option>
    ${EXPIRY_DAYS.map((d) => html`<option value="${d}"${String(d) === expiry ? html` selected` : ""}>in ${d} ${d === 1 ? "day" : "days"}</option>`)}
  </select></p>
  <p><button type="submit">Create key</button></p>
</form>`;
}

export function keysPage(keys: AgentKey[], userId: string, csrf: string, form: KeyForm = {}): Page {
  const active = keys.filter((k) => k.status === "active").length;
  const main = html`<h1>Agent keys</h1>
<p>A key lets a headless agent or a script connect without the browser sign-in, as one
<code>agent_id</code>: it claims, finishes and reports only as that agent, optionally only for some
roles, on one endpoint and until a date. The agent sends it in the header
<code>Authorization: Bearer &lt;key&gt;</code>. It is shown once; revoking it takes effect on its next call.</p>
<section aria-labelledby="new-key-heading">
<h2 id="new-key-heading">New key</h2>
${createForm(csrf, form)}
</section>
<section aria-labelledby="keys-heading">
<h2 id="keys-heading">Keys</h2>
${
  keys.length === 0
    ? html`<p class="empty">No keys yet.</p>`
    : html`<div class="table-wrap">
<table class="cards keys">
<caption>${active} active of ${keys.length} kept (at most ${KEY_LIMITS.keys}; the oldest revoked or expired make room), newest first</caption>
<thead><tr><th scope="col">Key</th><th scope="col">Agent</th><th scope="col">Roles</th><th scope="col">Endpoint</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last use</th><th scope="col">Revoke</th></tr></thead>
<tbody>${keys.map((key) => keyRow(key, userId, csrf))}</tbody>
</table>
</div>`
}
</section>`;
  return { title: "Agent keys", section: "keys", kind: "keys", main };
}

/** The lines to paste, for a key that works at `url` (the endpoint's full URL). */
export function keySnippets(key: string, url: string): { claude: string; cursor: string; curl: string } {
  const bearer = `Bearer ${key}`;
  return {
    claude: `claude mcp add --transport http agent-runtime ${url} --header "Authorization: ${bearer}"`,
    cursor: JSON.stringify({ mcpServers: { "agent-runtime": { url, headers: { Authorization: bearer } } } }, null, 2),
    curl:
      `curl -s ${url} -H "Authorization: ${bearer}" -H "Content-Type: application/json" ` +
      `-H "Accept: application/json, text/event-stream" -H "MCP-Protocol-Version: 2025-11-25" ` +
      `-d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'`,
  };
}

function copyable(id: string, label: string, text: string, block: boolean) {
  const shown = block ? html`<pre><code id="${id}">${text}</code></pre>` : html`<p><code id="${id}" class="secret">${text}</code></p>`;
  // The visible word starts the button's name (WCAG 2.5.3); what happened is said beside it.
  return html`<div class="copyable">${shown}<button type="button" data-copy="${id}">Copy<span class="unseen"> ${label}</span></button><span class="copy-note" role="status"></span></div>`;
}

/** The new key, shown this once. The page script never refreshes it away (kind "key-created"). */
export function keyCreatedPage(issued: IssuedKey, endpointUrl: string): Page {
  const { key, record } = issued;
  const snippets = keySnippets(key, endpointUrl);
  const main = html`<h1>Key for ${record.agent_id}</h1>
<p class="success" role="status">The key is made. <strong>Copy it now: it is shown only this once</strong>; only its hash is kept.</p>
${copyable("new-key", "the key", key, false)}
<p class="hint">Acts as <code>${record.agent_id}</code>${record.roles ? html`, for the roles ${record.roles.join(", ")}` : ""}, on
<code>${endpointUrl}</code>${record.expires_at ? html`, until ${time(record.expires_at)}` : ", until revoked"}.</p>
<h2>Claude Code</h2>
${copyable("snippet-claude", "the Claude Code command", snippets.claude, true)}
<h2>Cursor <span class="hint">(<code>~/.cursor/mcp.json</code>)</span></h2>
${copyable("snippet-cursor", "the Cursor configuration", snippets.cursor, true)}
<h2>curl</h2>
${copyable("snippet-curl", "the curl command", snippets.curl, true)}
<p><a class="button" href="/app/keys">Back to agent keys</a></p>`;
  return { title: `Key for ${record.agent_id}`, section: "keys", kind: "key-created", main };
}
