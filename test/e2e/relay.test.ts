/**
 * Relay pipelines end to end (SPEC §6, §8): `wrangler dev` as `npm start` runs it, real MCP SDK
 * clients over HTTP with an OAuth token, a run to completion including a quality-gate retry, and a
 * run that survives a restart of the dev server halfway through.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  authorize,
  callTool,
  callToolError,
  connectV1,
  connectV2,
  useDevServer,
  type ToolCaller,
} from "./harness";

interface Baton {
  baton_id: string;
  step_index: number;
  agent_type: string;
  retry_count: number;
  remaining_budget: number;
  input: { summary: string | null; output_entity_id: string | null; from_step: number | null };
}
interface BatonAnswer {
  baton: Baton | null;
  prompt: string | null;
  pipeline_status: string;
}
interface Advance {
  status: "advanced" | "completed" | "quality_gate_failed" | "failed";
  baton?: Baton;
  reasons?: string[];
  pipeline_status: string;
}
interface Status {
  status: string;
  current_step: number;
  progress_percent: number;
  quality_scores: number[];
  tokens_used: number;
  source_chain: string[];
  steps: { status: string; retry_count: number; tokens_used: number }[];
}

const server = useDevServer();
let accessToken: string;

beforeAll(async () => {
  accessToken = (await authorize(server)).accessToken;
});

/** One agent's turn: pick up the live baton, check it is the expected step, report. */
async function runStep(client: ToolCaller, pipelineId: string, step: number, report: { quality_score: number; tokens_used: number }): Promise<Advance> {
  const { baton, prompt } = await callTool<BatonAnswer>(client, "get_relay_baton", { pipeline_id: pipelineId });
  expect(baton?.step_index).toBe(step);
  expect(prompt).toMatch(/^You are the /);
  return callTool<Advance>(client, "advance_relay", {
    pipeline_id: pipelineId,
    baton_id: baton!.baton_id,
    l_score: 0.8,
    output_summary: `summary of step ${step}`,
    output_entity_id: `doc-${step}`,
    ...report,
  });
}

describe("a relay through a real MCP client", () => {
  it("runs to completion, with a quality gate failure and a retry on the way (SDK v1 validates every answer's schema)", async () => {
    // The v1 client checks structuredContent against each tool's output schema: every variant of
    // advance_relay's answer must validate.
    const client = await connectV1(server, accessToken);
    try {
      const created = await callTool<{ pipeline_id: string; status: string; baton: Baton }>(client, "create_relay_pipeline", {
        name: "e2e relay",
        goal: "Write a short report",
        agent_types: ["researcher", "analyzer", "formatter"],
        token_budget: 10_000,
      });
      expect(created.status).toBe("in_progress");
      const id = created.pipeline_id;

      expect(await runStep(client, id, 0, { quality_score: 0.9, tokens_used: 1000 })).toMatchObject({ status: "advanced" });
      const failed = await runStep(client, id, 1, { quality_score: 0.5, tokens_used: 1000 });
      expect(failed).toMatchObject({ status: "quality_gate_failed", pipeline_status: "in_progress" });
      expect(failed.reasons?.[0]).toMatch(/analyzer threshold 0\.7/);
      expect(await callTool<BatonAnswer>(client, "get_relay_baton", { pipeline_id: id })).toMatchObject({ baton: null, prompt: null });

      const retried = await callTool<BatonAnswer>(client, "retry_relay_step", { pipeline_id: id, step_index: 1 });
      expect(retried.baton).toMatchObject({ step_index: 1, retry_count: 1, input: { summary: "summary of step 0", from_step: 0 } });
      expect(await runStep(client, id, 1, { quality_score: 0.8, tokens_used: 1000 })).toMatchObject({ status: "advanced" });
      expect(await runStep(client, id, 2, { quality_score: 0.7, tokens_used: 1000 })).toMatchObject({ status: "completed", pipeline_status: "completed" });

      const status = await callTool<Status>(client, "get_relay_status", { pipeline_id: id });
      expect(status).toMatchObject({
        status: "completed",
        progress_percent: 100,
        quality_scores: [0.9, 0.8, 0.7],
        tokens_used: 4000,
        source_chain: ["doc-0", "doc-1", "doc-2"],
      });
      expect(status.steps[1]).toMatchObject({ status: "completed", retry_count: 1, tokens_used: 2000 });
      expect(await callToolError(client, "advance_relay", { pipeline_id: id, quality_score: 1, l_score: 1, tokens_used: 0 })).toMatch(/^conflict: /);
    } finally {
      await client.close();
    }
  });

  it("answers a budget failure as a normal result that validates, then resource_exhausted", async () => {
    const client = await connectV1(server, accessToken);
    try {
      const { pipeline_id } = await callTool<{ pipeline_id: string }>(client, "create_relay_pipeline", {
        name: "tight budget",
        goal: "Spend too much",
        agent_types: ["researcher", "formatter"],
        token_budget: 100,
      });
      expect(await runStep(client, pipeline_id, 0, { quality_score: 0.9, tokens_used: 101 })).toMatchObject({
        status: "failed",
        reason: "budget_exhausted",
        pipeline_status: "failed",
      });
      expect(await callToolError(client, "advance_relay", { pipeline_id, quality_score: 1, l_score: 1, tokens_used: 0 })).toMatch(/^resource_exhausted: /);
    } finally {
      await client.close();
    }
  });

  it("finishes a run after the dev server restarts mid-pipeline, with the baton handed out before the restart", async () => {
    const before = await connectV2(server, accessToken);
    let id = "";
    let liveBaton = "";
    try {
      const created = await callTool<{ pipeline_id: string }>(before, "create_relay_pipeline", {
        name: "survives a restart",
        goal: "Keep going",
        agent_types: ["researcher", "analyzer", "synthesizer", "validator", "formatter"],
      });
      id = created.pipeline_id;
      await runStep(before, id, 0, { quality_score: 0.9, tokens_used: 500 });
      const second = await runStep(before, id, 1, { quality_score: 0.9, tokens_used: 500 });
      liveBaton = second.baton!.baton_id;
    } finally {
      await before.close();
    }

    await server.restart();

    const after = await connectV2(server, accessToken);
    try {
      const { baton } = await callTool<BatonAnswer>(after, "get_relay_baton", { pipeline_id: id });
      // The same live baton, with the hand-off from before the restart.
      expect(baton).toMatchObject({ baton_id: liveBaton, step_index: 2, agent_type: "synthesizer", remaining_budget: 99_000 });
      expect(baton!.input).toMatchObject({ summary: "summary of step 1", output_entity_id: "doc-1", from_step: 1 });
      for (const step of [2, 3]) await runStep(after, id, step, { quality_score: 0.9, tokens_used: 500 });
      expect(await runStep(after, id, 4, { quality_score: 0.9, tokens_used: 500 })).toMatchObject({ status: "completed" });
      const status = await callTool<Status>(after, "get_relay_status", { pipeline_id: id });
      expect(status).toMatchObject({ status: "completed", current_step: 5, tokens_used: 2500, source_chain: ["doc-0", "doc-1", "doc-2", "doc-3", "doc-4"] });
      const listed = await callTool<{ pipelines: { pipeline_id: string }[] }>(after, "list_relay_pipelines", { status: "completed" });
      expect(listed.pipelines.map((p) => p.pipeline_id)).toContain(id);
    } finally {
      await after.close();
    }
  });
});
