/**
 * The owner-password check behind the dashboard's sign-in, with the consent page's throttle: the
 * same LoginThrottle object per client IP (or IPv6 /64), so failures on either page count
 * together. The attempt is counted before the password is compared and forgiven on success, as
 * on the consent page. This is the only place the dashboard touches src/auth; swap it for a
 * shared check (with a global failure budget) when src/auth has one.
 */
import { passwordMatches } from "../auth/password";
import { throttleKey } from "../auth/throttle";
import type { Env } from "../env";

export type PasswordCheck =
  | { ok: true }
  | { ok: false; status: 403 | 429 | 503; message: string; retryAfterSeconds?: number };

export const NO_PASSWORD_MESSAGE =
  "No OWNER_PASSWORD is set, so every sign-in is refused. Locally, put OWNER_PASSWORD=… in .dev.vars " +
  "(npm start creates one); deployed, run `wrangler secret put OWNER_PASSWORD`.";

export async function checkOwnerPassword(request: Request, env: Env, password: string): Promise<PasswordCheck> {
  if (!env.OWNER_PASSWORD) return { ok: false, status: 503, message: NO_PASSWORD_MESSAGE };
  const throttle = env.LOGIN_THROTTLE.getByName(throttleKey(request.headers.get("CF-Connecting-IP")));
  const admission = await throttle.admit();
  if (!admission.admitted) {
    return {
      ok: false,
      status: 429,
      message: `Too many wrong passwords. Try again in ${admission.retryAfterSeconds} seconds.`,
      retryAfterSeconds: admission.retryAfterSeconds,
    };
  }
  if (!(await passwordMatches(password, env.OWNER_PASSWORD))) return { ok: false, status: 403, message: "Wrong password." };
  await throttle.succeeded();
  return { ok: true };
}
