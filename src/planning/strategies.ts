/** The shapes a decomposition can take, and who can write the plan (docs/decomposition.md). */
export const STRATEGIES = ["sequential", "parallel", "hierarchical"] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const PLAN_SOURCES = ["ai", "agent", "template"] as const;
export type PlanSource = (typeof PLAN_SOURCES)[number];
