/**
 * GET/POST /authorize: the owner signs in with OWNER_PASSWORD and allows or denies the client.
 * The OAuth provider's consent helpers keep the authorization request server-side and bind the
 * form to this browser; this file adds the owner password (checked by owner-sign-in.ts, with its
 * throttles) and the pages.
 */
import { AuthorizationError, authorizationErrorRedirect, CimdFetchError, type OAuthHelpers } from "@cloudflare/workers-oauth-provider";
import { consentPage, messagePage, pageResponse as html } from "./consent-page";
import { OWNER_USER_ID, ownerGrantProps } from "./grant";
import { checkOwnerPassword, ownerPasswordProblem } from "./owner-sign-in";
import { readForm } from "./read-body";

/** What the OAuth provider hands its default handler: the bindings plus its helpers. */
export type EnvWithOAuth = Cloudflare.Env & { OAUTH_PROVIDER: OAuthHelpers };

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
  // The provider lets a client with a secret skip PKCE; OAuth 2.1 and docs/security.md want S256 from every
  // client (plain is refused by the provider). The redirect URI was validated by parseAuthRequest.
  if (!authRequest.codeChallenge) {
    return Response.redirect(authorizationErrorRedirect(authRequest, "invalid_request", "PKCE with S256 is required."), 302);
  }
  const problem = ownerPasswordProblem(env);
  if (problem) return html(messagePage("Sign-in is not set up", problem), 503);
  const details = await oauth.describeConsent(authRequest);
  const consent = await oauth.beginConsent(authRequest);
  return html(consentPage({ details, handle: consent.handle }), 200, consent.headers);
}

/** The form has a handle, a decision and a password: anything bigger is not from our page. */
const MAX_FORM_BYTES = 16 * 1024;

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
  const problem = ownerPasswordProblem(env);
  if (problem) return html(messagePage("Sign-in is not set up", problem), 503);
  if (!fromOurPage(request)) {
    return html(messagePage("Cannot authorize", "This form was not sent from the consent page. Start connecting again from your app."), 403);
  }

  const check = await checkOwnerPassword(request, env, String(form.get("password") ?? ""));
  if (!check.ok) {
    const notice = check.status === 403 ? `${check.message} No access was granted.` : check.message;
    const headers: Record<string, string> = check.retryAfterSeconds ? { "Retry-After": String(check.retryAfterSeconds) } : {};
    return refuse(request, oauth, handle, notice, check.status, headers);
  }

  const approved = await oauth.approveConsent(request, handle);
  const props = await ownerGrantProps(env);
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
