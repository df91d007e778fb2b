import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * The end-to-end and browser files run after the workerd tests, as one group, two files at a time:
 * vitest runs projects of the same `groupOrder` together and needs them to agree on `maxWorkers`.
 */
const SIDE_BY_SIDE = { maxWorkers: 2, sequence: { groupOrder: 1 } };

export default defineConfig({
  test: {
    projects: [
      {
        // Unit and integration tests inside workerd: the real Worker, real Durable Objects with
        // SQLite, real alarms (runDurableObjectAlarm).
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                OWNER_PASSWORD: "correct horse battery staple",
                MCP_RESOURCE: "http://localhost:8787/mcp",
                // Tests register clients and open consent pages by the hundred; the tests of these
                // limits pass the product's defaults explicitly (test/strangers.test.ts).
                CLIENT_REGISTRATIONS_PER_HOUR: "1000",
                AUTHORIZE_REQUESTS_PER_HOUR: "1000",
              },
            },
          }),
        ],
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/e2e/**", "test/browser/**", "test/notify/**"],
          // Two workerd runners, each taking file after file with its modules loaded once: the
          // module graph (the MCP SDK, zod, the OAuth provider…) took half of the project's time
          // when every file loaded it again. Files share a runner's storage, which the tests
          // allow: each uses Durable Objects of its own (fresh user ids) and random addresses.
          isolate: false,
          maxWorkers: 2,
          // Some tests make hundreds of calls into an object; on a loaded 2-core machine that can
          // take longer than vitest's default 5 s (a time limit, not an assertion).
          testTimeout: 30_000,
        },
      },
      {
        // The same, with notifications on (NOTIFY_URL, NOTIFY_SECRET): a Runtime reads them when it
        // starts, so these tests need a Worker of their own. The receiver is a fake inside the test
        // isolate (test/notify/receiver.ts); nothing leaves the machine.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                OWNER_PASSWORD: "correct horse battery staple",
                MCP_RESOURCE: "http://localhost:8787/mcp",
                NOTIFY_URL: "https://receiver.example/hooks/agent-runtime",
                NOTIFY_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
              },
            },
          }),
        ],
        // Run beside the unit project (vitest needs the two to agree on maxWorkers), each file isolated.
        test: { name: "notify", include: ["test/notify/**/*.test.ts"], maxWorkers: 2, testTimeout: 30_000 },
      },
      {
        // Benchmarks (`npm run bench`): same workerd setup, never part of `npm test`.
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: { name: "bench", include: ["bench/**/*.bench.ts"], exclude: ["bench/e2e/**"] },
      },
      {
        // End-to-end benchmarks (`npm run bench:e2e`): wrangler dev and real clients, from Node; never
        // part of `npm test`. Every scenario file in bench/e2e/ runs, one after the other.
        test: {
          name: "bench-e2e",
          include: ["bench/e2e/**/*.bench.ts"],
          environment: "node",
          testTimeout: 900_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // End to end: a real `wrangler dev` and the real MCP SDK clients over HTTP, from Node. Each
        // file starts its own server (own port, state and dev registry), so files run side by
        // side with the browser's; most of their time is waiting for servers and clocks.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          // Above the dev server's bounded start (test/e2e/harness.ts), so its own error, with the log, is what shows.
          hookTimeout: 180_000,
          ...SIDE_BY_SIDE,
        },
      },
      {
        // The dashboard's render benchmark (`npm run bench:dashboard`): Chromium against `wrangler dev`.
        test: { name: "bench-dashboard", include: ["bench/**/*.browser.ts"], environment: "node", fileParallelism: false },
      },
      {
        // The owner's dashboard in a real browser: Chromium (playwright-core) against `wrangler dev`.
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          // Above the dev server's bounded start (test/e2e/harness.ts), so its own error, with the log, is what shows.
          hookTimeout: 180_000,
          ...SIDE_BY_SIDE,
        },
      },
    ],
  },
});
