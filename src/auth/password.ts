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
