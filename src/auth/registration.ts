/**
 * What a stranger may ask us to store through dynamic client registration (RFC 7591), checked
 * before the OAuth provider parses it: the body's size, the name a consent page will show, and
 * how many redirect URIs. The provider checks everything else (URI schemes, grant types, …).
 */
export const MAX_REGISTRATION_BYTES = 8 * 1024;
export const MAX_CLIENT_NAME_CHARS = 100;
export const MAX_REDIRECT_URIS = 5;

/** Why this registration body is refused (RFC 7591 §3.2.2 `invalid_client_metadata`), or null. */
export function registrationProblem(body: Uint8Array): string | null {
  let metadata: unknown;
  try {
    metadata = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return null; // not JSON: the provider answers that itself
  }
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) return null;
  for (const [field, value] of Object.entries(metadata)) {
    // `client_name#en` and friends (RFC 7591 §2.2) are names too.
    if ((field === "client_name" || field.startsWith("client_name#")) && typeof value === "string" && [...value].length > MAX_CLIENT_NAME_CHARS) {
      return `${field} is longer than ${MAX_CLIENT_NAME_CHARS} characters.`;
    }
  }
  const uris = (metadata as { redirect_uris?: unknown }).redirect_uris;
  if (Array.isArray(uris) && uris.length > MAX_REDIRECT_URIS) return `redirect_uris has more than ${MAX_REDIRECT_URIS} entries.`;
  return null;
}
