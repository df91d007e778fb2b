/**
 * GET/POST /authorize: the owner signs in with OWNER_PASSWORD and allows or denies the client.
 * The OAuth provider's consent helpers keep the authorization request server-side and bind the
 * form to this browser; this file only adds the password, its throttle, and the pages.
 */
import { AuthorizationError, CimdFetchError, type OAuthHelpers } from "@cloudflare/workers-oauth-provider";
import { OWNER_USER_ID, type AuthProps } from "./grant";
import { consentPage, messagePage } from "./consent-page";
import { passwordMatches } from "./password";
import { throttleKey } from "./throttle";

/** What the OAuth provider hands its default handler: the bindings plus its helpers. */
export type EnvWithOAuth = Cloudflare.Env & { OAUTH_PROVIDER: OAuthHelpers };

const NO_PASSWORD =
  "No OWNER_PASSWORD is set, so every sign-in is refused. Locally, put OWNER_PASSWORD=… in .dev.vars " +
  "(npm start creates one); deployed, run `wrangler secret put OWNER_PASSWORD`.";

/** Every auth page: never cached, never framed (the page holds a password field). */
const html = (body: string, status: number, headers = new Headers()) => {
  headers.set("Content-Type", "text/html; charset=utf-8");
  headers.set("Cache-Control", "no-store");
  headers.set("X-Frame-Options", "DENY");
  headers.set("Content-Security-Policy", "frame-ancestors 'none'");
  return new Response(body, { status, headers });
};

/** The consent helpers' browser-binding cookie (the provider's default cookie prefix). */
const CONSENT_COOKIE = "__Host-oauth-consent-";

export async function handleAuthorize(request: Request, env: EnvWithOAuth): Promise<Response> {
  try {
    if (request.method === "GET") return await showConsent(request, env);
    if (request.method === "POST") return await decide(request, env);
    return new Response("Method Not Allowed", { status: 405, headers: { Allow: "GET, POST" } });
  } catch (error) {
    if (error instanceof AuthorizationError && error.redirectTo) return Response.redirect(error.redirectTo, 302);
    if (error instanceof AuthorizationError || error instanceof CimdFetchError) {
      const message = error instanceof AuthorizationError ? error.description : "This app could not be verified.";
      return html(messagePage("Cannot authorize", `${message} Start connecting again from your app.`), 400);
    }
    throw error;
  }
}

async function showConsent(request: Request, env: EnvWithOAuth): Promise<Response> {
  const oauth = env.OAUTH_PROVIDER;
  const authRequest = await oauth.parseAuthRequest(request);
  if (!env.OWNER_PASSWORD) return html(messagePage("Sign-in is not set up", NO_PASSWORD), 503);
  const details = await oauth.describeConsent(authRequest);
  const consent = await oauth.beginConsent(authRequest);
  return html(consentPage({ details, handle: consent.handle }), 200, consent.headers);
}

/** The form has a handle, a decision and a password: anything bigger is not from our page. */
const MAX_FORM_BYTES = 16 * 1024;

/** Reads a urlencoded form of at most `max` bytes, counting as it reads; null when larger. */
async function readForm(request: Request, max: number): Promise<URLSearchParams | null> {
  if (Number(request.headers.get("Content-Length") ?? 0) > max) return null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    for await (const chunk of request.body) {
      size += chunk.byteLength;
      if (size > max) return null;
      chunks.push(chunk);
    }
  }
  const bytes = new Uint8Array(size);
  chunks.reduce((offset, chunk) => (bytes.set(chunk, offset), offset + chunk.byteLength), 0);
  return new URLSearchParams(new TextDecoder().decode(bytes));
}

/**
 * Could this POST come from our own consent page in the browser that opened it? Only such an
 * attempt may count against the throttle: otherwise any site the owner visits could post wrong
 * passwords from the owner's browser and lock the owner out.
 */
function fromOurPage(request: Request): boolean {
  const origin = request.headers.get("Origin");
  if (origin !== null && origin !== new URL(request.url).origin) return false;
  if (request.headers.get("Sec-Fetch-Site") === "cross-site") return false;
  return (request.headers.get("Cookie") ?? "").includes(CONSENT_COOKIE);
}

async function decide(request: Request, env: EnvWithOAuth): Promise<Response> {
  const oauth = env.OAUTH_PROVIDER;
  const form = await readForm(request, MAX_FORM_BYTES);
  if (!form) return html(messagePage("Cannot authorize", "The form is too large."), 413);
  const handle = String(form.get("handle") ?? "");
  if (form.get("decision") !== "approve") {
    const denied = await oauth.denyConsent(request, handle);
    return new Response(null, { status: 302, headers: denied.headers });
  }
  if (!env.OWNER_PASSWORD) return html(messagePage("Sign-in is not set up", NO_PASSWORD), 503);
  if (!fromOurPage(request)) {
    return html(messagePage("Cannot authorize", "This form was not sent from the consent page. Start connecting again from your app."), 403);
  }

  const throttle = env.LOGIN_THROTTLE.getByName(throttleKey(request.headers.get("CF-Connecting-IP")));
  const admission = await throttle.admit();
  if (!admission.admitted) {
    const wait = `Too many wrong passwords. Try again in ${admission.retryAfterSeconds} seconds.`;
    return refuse(request, oauth, handle, wait, 429, { "Retry-After": String(admission.retryAfterSeconds) });
  }
  if (!(await passwordMatches(String(form.get("password") ?? ""), env.OWNER_PASSWORD))) {
    return refuse(request, oauth, handle, "Wrong password. No access was granted.", 403);
  }
  await throttle.succeeded();

  const approved = await oauth.approveConsent(request, handle);
  const props: AuthProps = { userId: OWNER_USER_ID };
  const { redirectTo } = await oauth.completeAuthorization({
    request: approved.request,
    userId: OWNER_USER_ID,
    metadata: {},
    scope: approved.request.scope,
    props,
  });
  approved.headers.set("Location", redirectTo);
  return new Response(null, { status: 302, headers: approved.headers });
}

/**
 * Shows the form again with the reason. The handle was not consumed (approveConsent was never
 * called), so the owner can simply retype the password.
 */
async function refuse(
  request: Request,
  oauth: OAuthHelpers,
  handle: string,
  notice: string,
  status: number,
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  const authRequest = await oauth.parseAuthRequest(request);
  const details = await oauth.describeConsent(authRequest);
  return html(consentPage({ details, handle, notice }), status, new Headers(extraHeaders));
}
