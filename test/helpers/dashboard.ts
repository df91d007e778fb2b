/**
 * The owner's dashboard through the real Worker, as a browser uses it: sign in with the owner
 * password, read the CSRF token from a page, GET pages and POST forms from our own origin.
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { RuntimeApi } from "../../src/runtime/api";
import { ORIGIN, workerFetch } from "./oauth";

/** The Runtime the dashboard shows. */
export const owner = () => env.RUNTIME.getByName("owner") as unknown as RuntimeApi;

export interface Signed {
  cookie: string;
  csrf: string;
}

/** Signs in (from a client IP of its own, so that no throttle count leaks) and reads the CSRF token from a page. */
export async function signIn(): Promise<Signed> {
  const response = await workerFetch(`${ORIGIN}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN, "CF-Connecting-IP": `192.0.2.1-${crypto.randomUUID()}` },
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

/** A form POST with the session's cookie and, unless given, its CSRF token, from `origin`. */
export function post(path: string, signed: Signed | undefined, fields: Record<string, string>, origin = ORIGIN) {
  const body = new URLSearchParams({ ...(signed ? { csrf: signed.csrf } : {}), ...fields });
  return workerFetch(`${ORIGIN}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...(signed ? { Cookie: signed.cookie } : {}), Origin: origin },
    body,
  });
}
