/**
 * A local webhook receiver for the end-to-end tests and benchmarks (Node, never inside workerd):
 * an http server on 127.0.0.1 that checks every request's Standard Webhooks signature with the
 * `standardwebhooks` library, as a real receiver would, and records what came. `hang` makes it a
 * receiver that takes requests and never answers.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed body when the signature verified; the verification error's message otherwise. */
  verified: { ok: true; event: { type: string; occurred_at: string; data: Record<string, unknown> } } | { ok: false; error: string };
}

export interface WebhookReceiver {
  /** NOTIFY_URL for the dev server. */
  url: string;
  /** NOTIFY_SECRET for the dev server (a fresh random key). */
  secret: string;
  deliveries: Delivery[];
  close(): Promise<void>;
}

/** A fresh Standard Webhooks key: `whsec_` + base64 of 32 random bytes. */
export const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

export async function startReceiver(options: { hang?: boolean } = {}): Promise<WebhookReceiver> {
  const secret = newSecret();
  const webhook = new Webhook(secret);
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let verified: Delivery["verified"];
      try {
        verified = { ok: true, event: webhook.verify(body, req.headers as Record<string, string>) as never };
      } catch (error) {
        verified = { ok: false, error: (error as Error).message };
      }
      deliveries.push({ headers: req.headers, body, verified });
      if (options.hang) return;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/agent-runtime`,
    secret,
    deliveries,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
