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
} as const;
