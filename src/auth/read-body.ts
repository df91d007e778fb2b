/**
 * Request bodies from strangers, read with a byte limit: counted as they arrive, so neither a
 * false Content-Length nor a chunked body without one can make us buffer more than `max` bytes.
 */

/** The body's bytes, or null as soon as it is larger than `max`. */
export async function readBytes(request: Request, max: number): Promise<Uint8Array | null> {
  if (Number(request.headers.get("Content-Length") ?? 0) > max) return null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    for await (const chunk of request.body) {
      size += chunk.byteLength;
      if (size > max) return null;
      chunks.push(chunk);
    }
  }
  const bytes = new Uint8Array(size);
  chunks.reduce((offset, chunk) => (bytes.set(chunk, offset), offset + chunk.byteLength), 0);
  return bytes;
}

/** A urlencoded form of at most `max` bytes; null when larger. */
export async function readForm(request: Request, max: number): Promise<URLSearchParams | null> {
  const bytes = await readBytes(request, max);
  return bytes && new URLSearchParams(new TextDecoder().decode(bytes));
}
