/** The sign-in page at `/`: one password field, and after a refusal the reason — nothing else. */
import { html } from "../html";
import { plainLayout } from "./layout";

export function signInPage(notice?: string) {
  return plainLayout(
    "Sign in",
    html`<div class="signin">
<h1>Agent Runtime</h1>
<p>The owner's dashboard: goals, task graphs, relay pipelines and circuit breakers, live.</p>
${notice ? html`<p class="notice" role="alert" id="signin-error">${notice}</p>` : ""}
<form method="post" action="/login">
  <p><label for="password">Owner password</label>
  <input id="password" type="password" name="password" autocomplete="current-password" required autofocus${
    notice ? html` aria-describedby="signin-error" aria-invalid="true"` : ""
  }></p>
  <p><button type="submit">Sign in</button></p>
</form>
<p class="hint">The same password as on the consent page (OWNER_PASSWORD). Repeated wrong passwords make you wait.</p>
</div>`,
  );
}

export function messagePage(title: string, message: string) {
  return plainLayout(title, html`<h1>${title}</h1><p class="notice" role="alert">${message}</p><p><a href="/">Sign in</a></p>`);
}
