/**
 * The agent catalog: the built-in agent types with their quality thresholds and what each is asked
 * to do. Any other type name is allowed and gets a generic profile.
 */
export const DEFAULT_QUALITY_THRESHOLD = 0.6;

export interface AgentProfile {
  quality_threshold: number;
  task: string;
  expected_output: string;
}

/** The built-in agent types (docs/relay.md). Any other name is allowed and gets `customAgent`. */
export const BUILT_IN_AGENTS: Readonly<Record<string, AgentProfile>> = {
  researcher: {
    quality_threshold: 0.6,
    task: "Research the goal: gather the facts, sources, constraints and prior work it depends on.",
    expected_output: "The findings with their sources, and the open questions that remain.",
  },
  analyzer: {
    quality_threshold: 0.7,
    task: "Analyze the material you were handed: find the patterns, trade-offs, risks and gaps that matter for the goal.",
    expected_output: "The key insights, each supported by the material, and the options they point to.",
  },
  synthesizer: {
    quality_threshold: 0.7,
    task: "Synthesize the analysis into one coherent answer or solution for the goal.",
    expected_output: "A complete draft that answers the goal, with the reasoning that links it to the analysis.",
  },
  validator: {
    quality_threshold: 0.8,
    task: "Validate the draft against the goal: check correctness, completeness and consistency; fix what you can and flag the rest.",
    expected_output: "The validated draft and a list of the issues found, each marked fixed or open.",
  },
  formatter: {
    quality_threshold: 0.6,
    task: "Format the validated result into its final, well-structured form for delivery.",
    expected_output: "The final deliverable, ready to hand to the person who set the goal.",
  },
};

function customAgent(agentType: string): AgentProfile {
  return {
    quality_threshold: DEFAULT_QUALITY_THRESHOLD,
    task: `Do the ${agentType} step of the pipeline toward the goal, building on what the previous agent handed over.`,
    expected_output: `The result of the ${agentType} step, and a summary of it that the next agent can work from.`,
  };
}

/** Built-in types match case-insensitively ("Validator" is the validator). */
export function agentProfile(agentType: string): AgentProfile {
  const key = agentType.trim().toLowerCase();
  // Own keys only: a type named "constructor" or "__proto__" is a custom agent, not Object.prototype.
  return Object.hasOwn(BUILT_IN_AGENTS, key) ? BUILT_IN_AGENTS[key] : customAgent(agentType);
}
