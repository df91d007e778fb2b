/** The owner's dashboard over HTTP, as a browser drives it: sign in, then GET pages and POST forms. */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { ORIGIN, workerFetch } from "./oauth";

export interface Signed {
  cookie: string;
  csrf: string;
}

/** A client IP of its own per sign-in, so throttle counts never leak between tests. */
const newIp = () => `203.0.113.${Math.floor(Math.random() * 250)}-${crypto.randomUUID()}`;

/** Signs in with the owner password and reads the CSRF token from a page. */
export async function signIn(): Promise<Signed> {
  const response = await workerFetch(`${ORIGIN}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN, "CF-Connecting-IP": newIp() },
    body: new URLSearchParams({ password: env.OWNER_PASSWORD! }),
  });
  expect(response.status).toBe(303);
  const cookie = response.headers.get("Set-Cookie")!.split(";")[0];
  const page = await (await workerFetch(`${ORIGIN}/app`, { headers: { Cookie: cookie } })).text();
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page)?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, csrf: csrf! };
}

export const get = (path: string, signed?: Signed, headers: Record<string, string> = {}) =>
  workerFetch(`${ORIGIN}${path}`, { redirect: "manual", headers: { ...(signed ? { Cookie: signed.cookie } : {}), ...headers } });

/** A form POST from our own page (`origin`), with the session's cookie when signed in. */
export function post(path: string, signed: Signed | undefined, body: FormData | URLSearchParams, origin = ORIGIN) {
  return workerFetch(`${ORIGIN}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: { ...(signed ? { Cookie: signed.cookie } : {}), Origin: origin },
    body,
  });
}
