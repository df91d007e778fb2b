/**
 * HTML building blocks of the dashboard's pages. Every value interpolated with the `html` tag is
 * escaped unless it is itself `Html`, so text from agents (goal names, task titles, summaries,
 * failure messages) can never become markup. No inline script or style anywhere: the CSP forbids
 * both, and the page's look and behaviour live in /assets/.
 */

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

type Part = Html | string | number | null | undefined | false | readonly Part[];

function render(part: Part): string {
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join("");
  if (part === null || part === undefined || part === false) return "";
  return escapeHtml(String(part));
}

/** html`<p>${text}</p>`: interpolations escaped, nested Html and arrays of it kept as they are. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0];
  values.forEach((value, i) => (out += render(value) + strings[i + 1]));
  return new Html(out);
}

/** JSON for a `<script type="application/json">` data block: never closes the element. */
export const jsonData = (value: unknown) =>
  new Html(JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029"));

// ─── status, told apart by icon and words, never colour alone ───

/** One icon per status (drawn with currentColor), defined once per page and used by id. */
const ICONS: Record<string, string> = {
  ready: `<circle cx="8" cy="8" r="5.5" fill="none" stroke="currentColor" stroke-width="2"/>`,
  blocked: `<rect x="3" y="7" width="10" height="7.5" rx="1.2" fill="currentColor"/><path d="M5.2 7V5a2.8 2.8 0 0 1 5.6 0v2" fill="none" stroke="currentColor" stroke-width="1.8"/>`,
  running: `<path d="M4 2.2 13.5 8 4 13.8z" fill="currentColor"/>`,
  done: `<path d="M2.2 8.6 6.2 12.4 13.8 3.8" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/>`,
  failed: `<path d="M3.5 3.5 12.5 12.5M12.5 3.5 3.5 12.5" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/>`,
  cancelled: `<circle cx="8" cy="8" r="5.6" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M4.2 11.8 11.8 4.2" stroke="currentColor" stroke-width="1.8"/>`,
  closed: `<circle cx="8" cy="8" r="6" fill="currentColor"/>`,
  open: `<path d="M8 1.5 15 14H1z" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"/><path d="M8 6v4M8 11.6v.8" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>`,
  half: `<circle cx="8" cy="8" r="5.6" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M8 2.4a5.6 5.6 0 0 1 0 11.2z" fill="currentColor"/>`,
  scheduled: `<circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M8 4.4V8l2.6 1.8" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/>`,
  owner: `<circle cx="8" cy="4.8" r="3" fill="currentColor"/><path d="M2.2 15a5.8 5.8 0 0 1 11.6 0z" fill="currentColor"/>`,
};

/** Fill patterns that tell graph nodes apart without colour: blocked, failed, cancelled, scheduled. */
const PATTERNS =
  `<pattern id="gp-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect class="gp" width="2.4" height="8"/></pattern>` +
  `<pattern id="gp-cross" width="10" height="10" patternUnits="userSpaceOnUse"><path class="gp" d="M0 0 10 10M10 0 0 10" stroke-width="1.6"/></pattern>` +
  `<pattern id="gp-dots" width="7" height="7" patternUnits="userSpaceOnUse"><circle class="gp" cx="3.5" cy="3.5" r="1.3"/></pattern>` +
  `<pattern id="gp-lines" width="10" height="10" patternUnits="userSpaceOnUse"><rect class="gp" width="1.2" height="10"/></pattern>`;

/** Icons and patterns, once per page; everything else refers to them by id. */
export const iconSprite = new Html(
  `<svg class="sprite" aria-hidden="true" focusable="false"><defs>${PATTERNS}</defs>${Object.entries(ICONS)
    .map(([id, body]) => `<symbol id="i-${id}" viewBox="0 0 16 16">${body}</symbol>`)
    .join("")}</svg>`,
);

export const icon = (name: keyof typeof ICONS | string) =>
  html`<svg class="icon" aria-hidden="true" focusable="false"><use href="#i-${name}"></use></svg>`;

/** Every status the pages show: its words and its icon. The CSS class is `st-<key>`. */
export const STATUS: Record<string, { label: string; icon: string }> = {
  ready: { label: "Ready", icon: "ready" },
  blocked: { label: "Blocked", icon: "blocked" },
  scheduled: { label: "Scheduled", icon: "scheduled" },
  /** A ready owner task: the owner's move (docs/owner.md). */
  waiting: { label: "Waiting for you", icon: "owner" },
  pending: { label: "Pending", icon: "ready" },
  in_progress: { label: "In progress", icon: "running" },
  active: { label: "Active", icon: "running" },
  completed: { label: "Done", icon: "done" },
  failed: { label: "Failed", icon: "failed" },
  cancelled: { label: "Cancelled", icon: "cancelled" },
  paused: { label: "Paused", icon: "half" },
  ended: { label: "Ended", icon: "cancelled" },
  CLOSED: { label: "Closed", icon: "closed" },
  OPEN: { label: "Open", icon: "open" },
  HALF_OPEN: { label: "Half-open", icon: "half" },
};

export function badge(status: string, label = STATUS[status]?.label ?? status): Html {
  return html`<span class="badge st-${status}">${icon(STATUS[status]?.icon ?? "ready")}${label}</span>`;
}

/** A time as UTC text in a <time> element; the page script shows it in the reader's time zone. */
export function time(iso: string | null): Html {
  if (!iso) return html`<span class="none">—</span>`;
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace("T", " ")} UTC</time>`;
}

/** Seconds until `iso` as words; the page script keeps counting down (data-countdown). */
export function countdown(iso: string | null, now = Date.now()): Html {
  if (!iso) return html`<span class="none">—</span>`;
  return html`<span data-countdown="${iso}">${durationWords(Math.max(0, Math.ceil((Date.parse(iso) - now) / 1000)))}</span>`;
}

export function durationWords(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export const percent = (fraction: number) => `${Math.round(fraction * 100)} %`;

/** A labelled progress bar: the number is in the words too, not only in the bar. */
export function progressBar(fraction: number, label: string): Html {
  const value = Math.round(fraction * 1000) / 1000;
  return html`<span class="progress"><progress max="1" value="${value}" aria-label="${label}">${percent(value)}</progress><span>${percent(value)}</span></span>`;
}
