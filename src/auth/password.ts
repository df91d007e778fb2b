/** The owner's password check, in constant time whatever the lengths. */
const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

export async function passwordMatches(candidate: string, expected: string): Promise<boolean> {
  // Hashing first makes both inputs 32 bytes, so timingSafeEqual never leaks the length.
  const [a, b] = await Promise.all([digest(candidate), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/**
 * A stamp of the owner password for one purpose: HMAC-SHA256 keyed by the password. What was
 * granted under a password (a dashboard session, an OAuth grant) keeps its stamp, and stops
 * counting once the password's stamp differs — so changing OWNER_PASSWORD ends all of it, without
 * the password or a plain hash of it being stored anywhere. Null without a password.
 */
export async function passwordStamp(password: string | undefined, purpose: string): Promise<string | null> {
  if (!password) return null;
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`agent-runtime ${purpose}`)));
  return btoa(String.fromCharCode(...mac.subarray(0, 16))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
