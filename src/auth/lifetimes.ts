/**
 * How long what the OAuth provider stores lives (docs/security.md).
 */

/**
 * A dynamically registered client is stored for 30 days. The provider renews it on a successful
 * token request (code exchange or refresh) once less than half of that is left, so a client
 * that has made no token request for 30 days is gone; one idle for 15 to 30 days may be too.
 */
export const CLIENT_REGISTRATION_TTL_SECONDS = 30 * 24 * 60 * 60;

/** The provider's default, one hour. */
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 60 * 60;
/** The shortest the provider allows (KV's shortest expiry). */
export const MIN_ACCESS_TOKEN_TTL_SECONDS = 60;

/**
 * ACCESS_TOKEN_TTL_SECONDS, a testing aid: a lifetime of 60 s up to the default, for a test that
 * waits for a token to expire. It can only shorten tokens; anything else means the default.
 */
export function accessTokenTtlSeconds(value: string | number | undefined): number {
  const parsed = Number(value);
  const valid = value !== undefined && value !== "" && Number.isInteger(parsed);
  return valid && parsed >= MIN_ACCESS_TOKEN_TTL_SECONDS && parsed <= DEFAULT_ACCESS_TOKEN_TTL_SECONDS ? parsed : DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
}
