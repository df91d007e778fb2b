import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

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
          exclude: ["test/e2e/**", "test/browser/**"],
          // Some tests make a few hundred calls (3–4 s here when the machine is quiet); vitest's
          // default 5 s turned them into speed checks that fail when the machine is busy.
          testTimeout: 30_000,
        },
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
        // End to end: a real `wrangler dev` and the real MCP SDK clients over HTTP, from Node.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
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
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
