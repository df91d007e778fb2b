/**
 * What anyone may do before signing in (SPEC §3, docs/security.md), against `wrangler dev` with
 * the product's limits (no raised TEST_LIMITS): registration refuses oversized or overlong
 * metadata, the 11th registration in an hour from one address and the 61st authorization request
 * are answered 429 with Retry-After. Every request here comes from 127.0.0.1, one address.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  discover,
  openConsent,
  registerClient,
  useDevServer,
  type Discovery,
  type RegisteredClient,
} from "./harness";

const REGISTRATIONS_PER_HOUR = 10; // the default of CLIENT_REGISTRATIONS_PER_HOUR
const AUTHORIZE_REQUESTS_PER_HOUR = 60;

const server = useDevServer({ productLimits: true });
let discovery: Discovery;
/** The first registration of this address: the /authorize test uses it, the registration test counts it. */
let first: RegisteredClient;

beforeAll(async () => {
  discovery = await discover(server);
  first = await registerClient(discovery);
});

const register = (body: string) =>
  fetch(discovery.authServer.registration_endpoint, { method: "POST", headers: { "Content-Type": "application/json" }, body });
const metadata = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ client_name: "stranger", redirect_uris: ["http://127.0.0.1:41000/callback"], token_endpoint_auth_method: "none", ...extra });

describe("client registration", () => {
  it("refuses an oversized body, a long name and six redirect URIs with 400 invalid_client_metadata (RFC 7591 §3.2.2)", async () => {
    const uris = Array.from({ length: 6 }, (_, i) => `http://127.0.0.1:41000/callback/${i}`);
    for (const [label, body] of [
      ["9 KiB body", metadata({ software_id: "x".repeat(9 * 1024) })],
      ["101-character name", metadata({ client_name: "n".repeat(101) })],
      ["6 redirect URIs", metadata({ redirect_uris: uris })],
    ]) {
      const response = await register(body);
      expect(response.status, label).toBe(400);
      expect(((await response.json()) as { error: string }).error, label).toBe("invalid_client_metadata");
    }
  });

  it(`answers the ${REGISTRATIONS_PER_HOUR + 1}th registration in an hour from one address with 429 and Retry-After`, async () => {
    // `first` was the 1st; refused registrations above did not count.
    for (let i = 2; i <= REGISTRATIONS_PER_HOUR; i++) await registerClient(discovery);
    const refused = await register(metadata());
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(((await refused.json()) as { error: string }).error).toBe("temporarily_unavailable");
  });
});

describe("authorization requests", () => {
  it(`answers the ${AUTHORIZE_REQUESTS_PER_HOUR + 1}st GET /authorize in an hour from one address with 429 and Retry-After`, async () => {
    for (let i = 1; i <= AUTHORIZE_REQUESTS_PER_HOUR; i++) await openConsent(server, discovery, first);
    const url = new URL(discovery.authServer.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: first.clientId,
      redirect_uri: first.redirectUri,
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
      resource: server.mcpUrl,
    }).toString();
    const refused = await fetch(url, { redirect: "manual" });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await refused.text()).not.toContain('type="password"');
  });
});
