/**
 * The owner's sign-in, wherever a page asks for the owner password (the consent page, the
 * dashboard): one function that admits the attempt through the throttles, compares in constant
 * time and keeps the books. Callers render the outcome; they never count anything themselves.
 *
 * Call it only for a form that your own page sent (same origin, with your page's cookie):
 * otherwise any site the owner visits could post wrong passwords from the owner's browser and
 * lock the owner out.
 */
import { passwordMatches } from "./password";
import { requesterKey, throttleName } from "./throttle";

/** Shorter passwords are refused at sign-in: a throttle slows guessing, it does not make a weak password strong. */
export const MIN_OWNER_PASSWORD_LENGTH = 16;
/** Failed passwords allowed per hour from all addresses together; beyond it every attempt waits. */
export const GLOBAL_FAILURES_PER_HOUR = 100;
const HOUR_MS = 60 * 60_000;

export type OwnerPasswordCheck =
  | { ok: true }
  | { ok: false; status: 403 | 429 | 503; message: string; retryAfterSeconds?: number };

const SET_IT =
  "Locally, put OWNER_PASSWORD=… in .dev.vars (or delete .dev.vars and npm start creates a random one); " +
  "deployed, run `wrangler secret put OWNER_PASSWORD`.";

/** Why nobody can sign in with this configuration, or null when the owner password is usable. */
export function ownerPasswordProblem(env: Pick<Cloudflare.Env, "OWNER_PASSWORD">): string | null {
  if (!env.OWNER_PASSWORD) return `No OWNER_PASSWORD is set, so every sign-in is refused. ${SET_IT}`;
  if ([...env.OWNER_PASSWORD].length < MIN_OWNER_PASSWORD_LENGTH) {
    return `OWNER_PASSWORD is shorter than ${MIN_OWNER_PASSWORD_LENGTH} characters, so every sign-in is refused. Set one of ${MIN_OWNER_PASSWORD_LENGTH} or more characters. ${SET_IT}`;
  }
  return null;
}

/**
 * Checks `password` against OWNER_PASSWORD for the address that sent `request`:
 * - 503: no usable OWNER_PASSWORD (none, or shorter than 16 characters); nothing is counted.
 * - 429: this address's failure streak, or the failure budget of all addresses together, says
 *   wait `retryAfterSeconds`; the password was not looked at.
 * - 403: wrong password; the failure counts against this address and the global budget.
 * - ok: right password; this address's streak is forgotten and the attempt does not count.
 */
export async function checkOwnerPassword(request: Request, env: Cloudflare.Env, password: string): Promise<OwnerPasswordCheck> {
  const problem = ownerPasswordProblem(env);
  if (problem) return { ok: false, status: 503, message: problem };

  const streak = env.LOGIN_THROTTLE.getByName(throttleName("password", requesterKey(request)));
  const admission = await streak.admit();
  if (!admission.admitted) {
    const wait = admission.retryAfterSeconds;
    return { ok: false, status: 429, message: `Too many wrong passwords. Try again in ${wait} seconds.`, retryAfterSeconds: wait };
  }
  const budget = env.LOGIN_THROTTLE.getByName(throttleName("password", "*"));
  const slot = await budget.take(GLOBAL_FAILURES_PER_HOUR, HOUR_MS);
  if (!slot.ok) {
    await streak.withdraw();
    const wait = slot.retryAfterSeconds;
    const message = `Too many wrong passwords have been tried on this server recently. Try again in ${wait} seconds.`;
    return { ok: false, status: 429, message, retryAfterSeconds: wait };
  }
  if (!(await passwordMatches(password, env.OWNER_PASSWORD!))) return { ok: false, status: 403, message: "Wrong password." };
  await Promise.all([streak.succeeded(), budget.giveBack(slot.at)]);
  return { ok: true };
}
