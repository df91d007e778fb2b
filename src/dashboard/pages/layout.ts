/**
 * The frame of every dashboard page: head (our own stylesheet and script only), a skip link, the
 * navigation, the live-connection status, sign-out, and `<main>`. When the page script refreshes
 * after a change it asks for the same URL with `X-Dashboard-Fragment: main` and gets only the
 * inside of `<main>` back (routes.ts), so a page has exactly one renderer: this server.
 */
import { html, iconSprite, type Html } from "../html";

export type Section = "goals" | "waiting" | "schedules" | "relays" | "breakers" | "data" | "notifications" | "keys";

const NAV: [Section, string, string][] = [
  ["goals", "/app", "Goals"],
  ["waiting", "/app/waiting", "Waiting for you"],
  ["schedules", "/app/schedules", "Schedules"],
  ["relays", "/app/relays", "Relays"],
  ["breakers", "/app/breakers", "Breakers"],
  ["data", "/app/data", "Export & import"],
  ["notifications", "/app/notifications", "Notifications"],
  ["keys", "/app/keys", "Agent keys"],
];

export interface Page {
  title: string;
  section: Section;
  /** What the page script does on this page (data-page on <body>). */
  kind: string;
  main: Html;
}

function head(title: string, csrf?: string, kind?: string): Html {
  return html`<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Agent Runtime</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/style.css">
${csrf ? html`<meta name="csrf-token" content="${csrf}">` : ""}
${csrf ? html`<script type="module" src="/assets/app.js"></script>` : ""}
${kind === "goal" ? html`<link rel="modulepreload" href="/assets/graph.js"><link rel="modulepreload" href="/assets/dagre.js">` : ""}
</head>`;
}

/**
 * How many decisions wait for the owner, next to "Waiting for you" on every page; the page script
 * keeps it current from the X-Dashboard-Waiting header of each refresh (app.js).
 */
export const waitingCount = (count: number) => html` <span class="count" id="waiting-count" data-count="${count}">${count}</span>`;

/** A signed-in page; `waiting`: how many owner tasks wait for a decision. */
export function layout(page: Page, csrf: string, waiting: number): Html {
  const nav = NAV.map(
    ([section, href, label]) =>
      html`<li><a href="${href}"${section === page.section ? html` aria-current="page"` : ""}>${label}${section === "waiting" ? waitingCount(waiting) : ""}</a></li>`,
  );
  return html`<!doctype html>
<html lang="en">
${head(page.title, csrf, page.kind)}
<body data-page="${page.kind}">
<a class="skip" href="#main">Skip to content</a>
${iconSprite}
<header class="top">
  <a class="brand" href="/app">Agent Runtime</a>
  <nav aria-label="Dashboard"><ul>${nav}</ul></nav>
  <p class="live" id="live-status" role="status" data-state="connecting"><span class="dot" aria-hidden="true"></span><span class="live-text">Connecting…</span></p>
  <form class="signout" method="post" action="/logout">
    <input type="hidden" name="csrf" value="${csrf}">
    <button type="submit">Sign out</button>
  </form>
</header>
<main id="main" tabindex="-1">
${page.main}
</main>
</body>
</html>`;
}

/** A page for someone not signed in (sign-in, errors before sign-in): no script at all. */
export function plainLayout(title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
${head(title)}
<body class="plain">
<main id="main">
${body}
</main>
</body>
</html>`;
}
