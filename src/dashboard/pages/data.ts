/** Export and import: one JSON file with everything, and putting such a file into an empty instance. */
import { MAX_TRANSFER_BYTES } from "../../runtime/transfer/tables";
import { html } from "../html";
import type { Page } from "./layout";

export interface ImportResult {
  ok: boolean;
  message: string;
}

export function dataPage(csrf: string, result?: ImportResult): Page {
  const limit = `${MAX_TRANSFER_BYTES / 2 ** 20} MiB`;
  const main = html`<h1>Export &amp; import</h1>
${
  result
    ? html`<p class="${result.ok ? "success" : "notice"}" role="${result.ok ? "status" : "alert"}" id="import-result">${result.message}</p>`
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
version. A file that does not fit is refused with the reason and nothing changes.</p>
<form method="post" action="/import" enctype="multipart/form-data">
  <input type="hidden" name="csrf" value="${csrf}">
  <p><label for="import-file">Export file (.json)</label>
  <input id="import-file" type="file" name="file" accept="application/json,.json" required></p>
  <p><button type="submit">Import</button></p>
</form>
</section>`;
  return { title: "Export & import", section: "data", kind: "data", main };
}
