/** The input limits (docs/tools.md), in one place for the schemas and the domain. */
export const LIMITS = {
  title: 200,
  text: 20_000,
  metadataBytes: 16 * 1024,
  /** Objects and arrays nested inside metadata, the metadata object itself being level 1. */
  metadataDepth: 16,
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
  /** Leases (docs/tasks.md): length in seconds at a claim and per heartbeat. */
  leaseDefaultSeconds: 1800,
  leaseMinSeconds: 60,
  leaseMaxSeconds: 86_400,
  leaseId: 64,
  /** The latest progress note an agent leaves on its task with a heartbeat. */
  progress: 2_000,
  /** A task's priority: 1..10, higher first. */
  priorityMin: 1,
  priorityMax: 10,
  priorityDefault: 5,
  maxAttemptsDefault: 3,
  maxAttempts: 100,
  /** Events kept per task; older ones are pruned as new ones arrive. */
  taskEvents: 50,
  /** Expired leases, due breakers, tasks whose not_before came and tasks to skip, handled per alarm run; the rest stay due and the next run takes them. */
  expiriesPerRun: 500,
  /** Waiting instead of polling (docs/tasks.md): the longest wait of one call, and calls waiting per object. */
  waitSecondsMax: 30,
  waitersPerObject: 4_096,
  /** Roles (docs/tasks.md): a role name, and how many roles one caller may name. */
  role: 64,
  rolesPerCaller: 16,
  /** What a claim carries of its inputs (docs/tasks.md): per text, all texts together, the goal's description. */
  inputText: 2_000,
  inputsTotal: 8_000,
  goalDescriptionInClaim: 1_000,
  /** Retries with back-off (docs/tasks.md): the first delay and the cap, in seconds. */
  retryBackoffMaxSeconds: 86_400,
  retryBackoffCapDefault: 3_600,
  /** The back-off's random spread, as a share of the delay (±10 %). */
  retryJitter: 0.1,
  /** Skips a write makes itself; the alarm takes the rest, expiriesPerRun at a time. */
  skipsPerWrite: 100,
} as const;
