/**
 * Export, import and wipe: one JSON file with everything, putting such a file into an empty
 * instance, and emptying the instance so that an import can be made again.
 */
import { MAX_TRANSFER_BYTES } from "../../runtime/transfer/tables";
import { html } from "../html";
import type { Page } from "./layout";

/** What the last action on the page (an import or a wipe) came to. */
export interface DataResult {
  ok: boolean;
  message: string;
}

/** What the owner types to confirm a wipe. */
export const WIPE_CONFIRMATION = "WIPE";

export function dataPage(csrf: string, result?: DataResult): Page {
  const limit = `${MAX_TRANSFER_BYTES / 2 ** 20} MiB`;
  const main = html`<h1>Export &amp; import</h1>
${
  result
    ? html`<p class="${result.ok ? "success" : "notice"}" role="${result.ok ? "status" : "alert"}" id="data-result">${result.message}</p>`
    : ""
}
<section aria-labelledby="export-heading">
<h2 id="export-heading">Export</h2>
<p>Everything this instance holds as one JSON file: goals, tasks with their history and leases,
relay pipelines with their steps and batons, circuit breakers with their settings and history.
Two exports of the same data are the same file, byte for byte.</p>
<p><a class="button" id="export-link" href="/export" download>Download the export</a></p>
</section>
<section aria-labelledby="import-heading">
<h2 id="import-heading">Import</h2>
<p>Puts an export into <strong>this instance, if it is empty</strong> (no goals, tasks, pipelines
or breakers), with the same ids. Files of up to ${limit}, from an instance on the same schema
version, holding only what the runtime could have written: every status, time, text, lease,
cooldown, dependency and relay step is checked. A file that does not fit is refused with the
reason — its table, row and rule — and nothing changes.</p>
<form method="post" action="/import" enctype="multipart/form-data">
  <input type="hidden" name="csrf" value="${csrf}">
  <p><label for="import-file">Export file (.json)</label>
  <input id="import-file" type="file" name="file" accept="application/json,.json" required></p>
  <p><button type="submit">Import</button></p>
</form>
</section>
<section aria-labelledby="wipe-heading">
<h2 id="wipe-heading">Wipe this instance</h2>
<p>Removes <strong>everything</strong> this instance holds — goals, tasks and their history,
relay pipelines, circuit breakers — so that an import can go in again. It cannot be undone:
download the export first if you may want any of it back. Agents keep their access.</p>
<form method="post" action="/wipe">
  <input type="hidden" name="csrf" value="${csrf}">
  <p><label for="wipe-confirm">Type <strong>${WIPE_CONFIRMATION}</strong> to confirm</label>
  <input id="wipe-confirm" type="text" name="confirm" autocomplete="off" spellcheck="false" required></p>
  <p><button type="submit" class="danger">Wipe everything</button></p>
</form>
</section>`;
  return { title: "Export & import", section: "data", kind: "data", main };
}
