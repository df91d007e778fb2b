/**
 * A list page's window onto a long list (kernel/window.ts): it says which part it shows — "goals
 * 101–200 of 240" — and links to the newer and older parts, so nothing is ever left out unsaid.
 */
import type { ListWindow } from "../../runtime/kernel/window";
import { html, type Html } from "../html";

/** The items a list page shows at once. */
export const PER_PAGE = 100;

/** `?before=` as the list pages take it: a key, or null for the newest window. */
export function beforeParam(url: URL): number | null {
  const value = url.searchParams.get("before");
  return value !== null && /^[1-9]\d{0,14}$/.test(value) ? Number(value) : null;
}

/** "240 goals, newest first", or "Goals 101–200 of 240, newest first" when not all are shown. */
export function windowCaption(window: ListWindow<unknown>, one: string, many: string): string {
  const shown = window.items.length;
  if (shown === window.total) return `${shown} ${shown === 1 ? one : many}, newest first`;
  const first = window.newer + 1;
  return `${many[0].toUpperCase()}${many.slice(1)} ${first}–${first + shown - 1} of ${window.total}, newest first`;
}

/** Links to the newer and the older window, when there are any. */
export function windowLinks(window: ListWindow<unknown>, path: string, many: string): Html | "" {
  const { newerBefore: newer, olderBefore: older } = window;
  if (newer === null && older === null) return "";
  const newerHref = newer === "start" ? path : `${path}?before=${newer}`;
  return html`<nav class="pager" aria-label="More ${many}">
${newer === null ? "" : html`<a href="${newerHref}" rel="prev">← Newer ${many}</a>`}
${older === null ? "" : html`<a href="${path}?before=${older}" rel="next">Older ${many} →</a>`}
</nav>`;
}
