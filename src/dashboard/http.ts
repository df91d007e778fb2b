/**
 * Responses of the dashboard: every one carries the same strict headers. Nothing is loaded from
 * another host and nothing inline runs or styles: scripts, styles and images come from this
 * Worker's /assets/, the page talks only to its own origin, and no one may frame it.
 */
import { readBytes } from "../auth/read-body";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  // 'self' covers the same host's ws:/wss: too (CSP Level 3): the /live socket.
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

export function withSecurityHeaders(headers: Headers, cache = "no-store"): Headers {
  headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  headers.set("X-Content-Type-Options", "nosniff");
  headers.set("X-Frame-Options", "DENY");
  // Not no-referrer: that makes browsers send `Origin: null` on our own form posts.
  headers.set("Referrer-Policy", "same-origin");
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Cross-Origin-Resource-Policy", "same-origin");
  headers.set("Cache-Control", cache);
  return headers;
}

export function htmlResponse(body: string | { toString(): string }, status = 200, extra: HeadersInit = {}): Response {
  const headers = withSecurityHeaders(new Headers(extra));
  headers.set("Content-Type", "text/html; charset=utf-8");
  return new Response(String(body), { status, headers });
}

export function jsonResponse(value: unknown, status = 200, extra: HeadersInit = {}): Response {
  const headers = withSecurityHeaders(new Headers(extra));
  headers.set("Content-Type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(value), { status, headers });
}

/** 303 See Other: after a POST, the browser GETs the next page. */
export function redirect(location: string, extra: HeadersInit = {}): Response {
  const headers = withSecurityHeaders(new Headers(extra));
  headers.set("Location", location);
  return new Response(null, { status: 303, headers });
}

/** A form body (urlencoded or multipart) of at most `max` bytes; null when larger. */
export async function readForm(request: Request, max: number): Promise<FormData | null> {
  const bytes = await readBytes(request, max);
  if (!bytes) return null;
  const type = request.headers.get("Content-Type") ?? "application/x-www-form-urlencoded";
  try {
    return await new Response(bytes, { headers: { "Content-Type": type } }).formData();
  } catch {
    return new FormData();
  }
}
