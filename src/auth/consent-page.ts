/**
 * The consent page's HTML. Everything that came from the client (its name, its redirect host) is
 * attacker-chosen through dynamic registration and is escaped before it is shown.
 */
import type { ConsentDescription } from "@cloudflare/workers-oauth-provider";

const escape = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

const STYLE = `body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
.notice{padding:.75rem 1rem;border-radius:.5rem;background:#fdecea;color:#611a15}
.hint{color:#555;font-size:.9rem}.to{margin-bottom:0}.host{font-size:1.5rem;margin-top:0;word-break:break-all}
h1{font-size:1.25rem}input[type=password]{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{padding:.5rem 1.25rem;font-size:1rem;margin-right:.5rem}`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>`;
}

/** Every auth page: never cached, never framed (the consent page holds a password field). */
export function pageResponse(body: string, status: number, headers = new Headers()): Response {
  headers.set("Content-Type", "text/html; charset=utf-8");
  headers.set("Cache-Control", "no-store");
  headers.set("X-Frame-Options", "DENY");
  headers.set("Content-Security-Policy", "frame-ancestors 'none'");
  return new Response(body, { status, headers });
}

/** Longer client names are cut: a name cannot push where the token goes out of sight. */
export const SHOWN_NAME_CHARS = 40;

/**
 * A client's self-chosen name as the page shows it: invisible and direction-changing characters
 * removed (they can make a name read as something else), runs of spaces collapsed, and cut to
 * SHOWN_NAME_CHARS characters with an ellipsis.
 */
export function shownName(name: string): string {
  const visible = name.replace(/\s+/gu, " ").replace(/[\p{Cc}\p{Cf}]/gu, "").trim() || "Unnamed app";
  const chars = [...visible];
  return chars.length <= SHOWN_NAME_CHARS ? visible : `${chars.slice(0, SHOWN_NAME_CHARS - 1).join("").trimEnd()}…`;
}

export interface ConsentView {
  details: ConsentDescription;
  handle: string;
  /** Shown above the form after a refused attempt. */
  notice?: string;
}

export function consentPage({ details, handle, notice }: ConsentView): string {
  const name = escape(shownName(details.clientName));
  const origin = details.clientDomain
    ? `Published by <strong>${escape(details.clientDomain)}</strong>.`
    : "This app registered itself; its name is not verified.";
  const loopback = details.redirectIsLoopback
    ? `<p class="hint"><strong>This sends access to an app on your computer.</strong> Continue only if you just started connecting from it.</p>`
    : "";
  // Where the token goes comes first: it is the one fact a client cannot choose freely (its
  // redirect URI was checked at registration), unlike its name.
  return layout(
    "Allow access to Agent Runtime?",
    `<p class="to">The access token will be sent to</p>
<p class="host"><strong>${escape(details.redirectHost)}</strong></p>
${loopback}
<h1>Allow ${name} to use Agent Runtime?</h1>
<p>${origin}</p>
${notice ? `<p class="notice" role="alert">${escape(notice)}</p>` : ""}
<form method="post">
  <input type="hidden" name="handle" value="${escape(handle)}">
  <p><label for="password">Owner password</label><br>
  <input id="password" type="password" name="password" autocomplete="current-password" autofocus></p>
  <p><button type="submit" name="decision" value="approve">Allow</button>
  <button type="submit" name="decision" value="deny" formnovalidate>Deny</button></p>
</form>
<p class="hint">It will be able to read and change your goals, tasks, relay pipelines and circuit breakers.</p>`,
  );
}

export function messagePage(title: string, message: string): string {
  return layout(title, `<h1>${escape(title)}</h1><p class="notice">${escape(message)}</p>`);
}
