/**
 * The layering of src/ (docs/architecture.md), checked by `npm test`:
 *   entry (src/index.ts) → auth / mcp / planning → runtime (runtime.ts, dispatch.ts) → domains → kernel
 * Type-only imports count too: a cycle of types is still two modules that cannot be read apart.
 */
const DOMAINS = "src/runtime/(tasks|goals|relay|breakers|plans|schedules|transfer|notify|keys)/";

module.exports = {
  forbidden: [
    { name: "no-cycles", severity: "error", from: {}, to: { circular: true } },
    {
      name: "nothing-imports-the-entry",
      comment: "src/index.ts is the wiring at the top; nothing below it may reach back up.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/index\\.ts$" },
      to: { path: "^src/index\\.ts$" },
    },
    {
      name: "runtime-knows-no-protocol",
      comment: "The Durable Object and its domains know nothing of MCP, HTTP, OAuth or the model provider.",
      severity: "error",
      from: { path: "^src/runtime/" },
      to: { path: "^src/(mcp|auth|planning|dashboard)/" },
    },
    {
      name: "kernel-is-the-floor",
      comment: "Schema, rows, errors, limits and timed work import no domain.",
      severity: "error",
      from: { path: "^src/runtime/kernel/" },
      to: { path: "^src/runtime/", pathNot: "^src/runtime/kernel/" },
    },
    {
      name: "domains-stay-below-the-object",
      comment: "A domain is plain functions over SQLite: it never reaches the Durable Object, dispatch or the RPC types.",
      severity: "error",
      from: { path: DOMAINS },
      to: { path: "^src/runtime/[^/]+\\.ts$" },
    },
    {
      name: "tasks-and-breakers-apart",
      comment: "What crosses leases and breakers lives in dispatch.ts (docs/architecture.md).",
      severity: "error",
      from: { path: "^src/runtime/(tasks|goals)/" },
      to: { path: "^src/runtime/(breakers|relay|plans)/" },
    },
    {
      name: "schedules-make-tasks-through-the-queue",
      comment: "A schedule's run is a task made by the task domain's own creation functions; schedules know goals and kernel besides.",
      severity: "error",
      from: { path: "^src/runtime/schedules/" },
      to: { path: "^src/runtime/(breakers|relay|plans|transfer)/|^src/runtime/tasks/(?!(queue|model)\\.ts$)" },
    },
    {
      name: "nothing-below-knows-schedules",
      comment:
        "Tasks and goals know nothing of what makes them; only the Runtime, dispatch and the catalog reach schedules, " +
        "and transfer its integrity rules (as every domain's).",
      severity: "error",
      from: { path: DOMAINS, pathNot: "^src/runtime/schedules/" },
      to: { path: "^src/runtime/schedules/", pathNot: "^src/runtime/schedules/integrity\\.ts$" },
    },
    {
      name: "breakers-stand-alone",
      severity: "error",
      from: { path: "^src/runtime/breakers/" },
      to: { path: "^src/runtime/(tasks|goals|relay|plans)/" },
    },
    {
      name: "relay-sees-only-breaker-types",
      comment: "The relay is handed a breaker lookup; it may name the Gate type, nothing more.",
      severity: "error",
      from: { path: "^src/runtime/relay/" },
      to: { path: "^src/runtime/(tasks|goals|plans)/|^src/runtime/breakers/(?!model\\.ts$)" },
    },
    {
      name: "notify-knows-only-the-kernel",
      comment: "The outbox stores events; it knows nothing of the domains that raise them.",
      severity: "error",
      from: { path: "^src/runtime/notify/" },
      to: { path: "^src/runtime/", pathNot: "^src/runtime/(kernel|notify)/" },
    },
    {
      name: "events-enter-through-enqueue",
      comment:
        "The domains whose changes raise events (goals, breakers, relay, tasks) write them in the same transaction " +
        "through notify/enqueue.ts, and see nothing else of the outbox; delivery is the Runtime's (webhooks.ts).",
      severity: "error",
      from: { path: "^src/runtime/(tasks|goals|relay|breakers)/" },
      to: { path: "^src/runtime/notify/", pathNot: "^src/runtime/notify/enqueue\\.ts$" },
    },
    {
      name: "only-event-sources-enqueue",
      comment: "Plans and transfer raise no events of their own (a plan's goal completes through goals/).",
      severity: "error",
      from: { path: "^src/runtime/(plans|transfer)/" },
      to: { path: "^src/runtime/notify/" },
    },
    {
      name: "keys-stand-alone",
      comment: "Agent keys are records of credentials: they know no other domain, and none knows them (the tools enforce what a key allows).",
      severity: "error",
      from: { path: "^src/runtime/keys/" },
      to: { path: "^src/runtime/(tasks|goals|relay|breakers|plans|transfer)/" },
    },
    {
      name: "no-domain-reads-keys",
      severity: "error",
      from: { path: "^src/runtime/(tasks|goals|relay|breakers|plans|transfer)/" },
      to: { path: "^src/runtime/keys/" },
    },
    {
      name: "planning-is-below-mcp",
      severity: "error",
      from: { path: "^src/planning/" },
      to: { path: "^src/(mcp|auth|dashboard)/" },
    },
    {
      name: "mcp-takes-only-the-grant-from-auth-and-the-board-from-the-dashboard",
      comment:
        "The goal board (an MCP App) is the dashboard's drawing as one document; the MCP layer serves it and nothing else of the web side. " +
        "Of auth it takes the grant, and the one byte-limited body reader, so that every body from outside is read the same way.",
      severity: "error",
      from: { path: "^src/mcp/" },
      to: { path: "^src/(auth/(?!(grant|read-body)\\.ts$)|dashboard/(?!board\\.ts$))" },
    },
    {
      name: "auth-knows-no-tools",
      severity: "error",
      from: { path: "^src/auth/" },
      to: { path: "^src/(mcp|planning|runtime)/" },
    },
    {
      name: "dashboard-is-a-web-side",
      comment: "The owner's pages read the Runtime over RPC and sign in through auth; they know no MCP but the endpoints' paths (plain data).",
      severity: "error",
      from: { path: "^src/dashboard/" },
      to: { path: "^src/(mcp/(?!endpoints\\.ts$)|planning/)" },
    },
    {
      name: "transfer-reads-tables-not-domains",
      comment:
        "Export and import move rows of every table and need no domain logic. What they take from a domain is its " +
        "integrity.ts: the declaration of what its rows must satisfy (and the function that recomputes its derived " +
        "columns), so that the domain, not the import, says what the runtime could have written.",
      severity: "error",
      from: { path: "^src/runtime/transfer/" },
      to: { path: "^src/runtime/(tasks|goals|relay|breakers|plans|schedules|keys)/", pathNot: "^src/runtime/[^/]+/integrity\\.ts$" },
    },
    {
      name: "shared-is-a-leaf",
      severity: "error",
      from: { path: "^src/shared/" },
      to: { path: "^src/(?!shared/)" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^src/",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
  },
};
