/**
 * The dashboard's browser files, served by this Worker from its own bundle (no CDN, no other
 * host). wrangler's Text module rule (wrangler.toml) imports each as a string, which works the
 * same in `wrangler dev`, `wrangler deploy` and the vitest workerd pool, with no build step.
 * (The odd "../dashboard/assets/" specifiers are on purpose: wrangler matches the rule's globs
 * against the import specifier, the vitest pool against the path, and both then contain
 * "/dashboard/assets/".)
 *
 * dagre (graph layout) ships as a minified script that defines a global; it is served as an ES
 * module (`export default dagre`) with its licence in front, without the source-map comment.
 * Assets are public (they hold no data) and revalidated by ETag on every load, so a deployment
 * never leaves a browser with a stale mix of files.
 */
import dagreLicence from "../../node_modules/@dagrejs/dagre/dist/dagre.min.js.LEGAL.txt";
import dagreScript from "../../node_modules/@dagrejs/dagre/dist/dagre.min.js";
import app from "../dashboard/assets/app.js";
import graph from "../dashboard/assets/graph.js";
import icon from "../dashboard/assets/icon.svg";
import live from "../dashboard/assets/live.js";
import style from "../dashboard/assets/style.css";
import { withSecurityHeaders } from "./http";

const JS = "text/javascript; charset=utf-8";

const FILES: Record<string, { body: string; type: string }> = {
  "app.js": { body: app, type: JS },
  "graph.js": { body: graph, type: JS },
  "live.js": { body: live, type: JS },
  "dagre.js": {
    body: `/*! @dagrejs/dagre, MIT licence: */\n${dagreLicence}\n${dagreScript.replace(/^\/\/# sourceMappingURL=.*$/m, "")}\nexport default dagre;\n`,
    type: JS,
  },
  "style.css": { body: style, type: "text/css; charset=utf-8" },
  "icon.svg": { body: icon, type: "image/svg+xml" },
};

/** A served file's text, for the goal board, which inlines them (./board.ts). */
export function assetText(name: string): string {
  const file = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (!file) throw new Error(`no asset ${name}`);
  return file.body;
}

const etags = new Map<string, string>();

async function etagOf(name: string, body: string): Promise<string> {
  let etag = etags.get(name);
  if (!etag) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
    etag = `"${[...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
    etags.set(name, etag);
  }
  return etag;
}

/** GET /assets/<name>; null when there is no such file. */
export async function serveAsset(request: Request, name: string): Promise<Response | null> {
  const file = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (!file) return null;
  const etag = await etagOf(name, file.body);
  const headers = withSecurityHeaders(new Headers({ "Content-Type": file.type, ETag: etag }), "no-cache");
  if (request.headers.get("If-None-Match") === etag) return new Response(null, { status: 304, headers });
  return new Response(request.method === "HEAD" ? null : file.body, { headers });
}
