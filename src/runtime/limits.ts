/** The input limits of SPEC §4, in one place for the schemas and the domain. */
export const LIMITS = {
  title: 200,
  text: 20_000,
  metadataBytes: 16 * 1024,
  dependencies: 100,
  listDefault: 50,
  listMax: 500,
  agentId: 200,
  planTasks: 50,
  relayAgents: 48,
  entityId: 200,
  tokenBudgetDefault: 100_000,
  /** A sane ceiling: far above any real run, small enough that sums stay exact integers. */
  tokenBudgetMax: 1_000_000_000,
} as const;
