/**
 * Data for the dashboard's browser tests, made the way agents make it: through MCP tool calls.
 * One goal with a task in every state, two relay pipelines (one stopped at a failed gate, one
 * complete) and breakers in all three states.
 */
import { callTool, type ToolCaller } from "../e2e/harness";

export interface Showcase {
  goalId: number;
  tasks: Record<string, number>;
  pipelineId: string;
  finishedPipelineId: string;
}

interface Task {
  id: number;
}
interface Claim {
  task: Task | null;
  lease_id?: string;
}

export async function seedShowcase(client: ToolCaller): Promise<Showcase> {
  const goal = await callTool<{ id: number }>(client, "create_goal", {
    name: "Launch the public website",
    description: "Replace the old site with the new one, content migrated, tested and documented.",
  });
  const tasks: Record<string, number> = {};
  const task = async (key: string, title: string, dependencies: string[] = [], priority = 5) => {
    const created = await callTool<Task>(client, "create_task", {
      title,
      goal_id: goal.id,
      priority,
      dependencies: dependencies.map((d) => tasks[d]),
    });
    tasks[key] = created.id;
  };
  await task("requirements", "Collect requirements");
  await task("model", "Design the data model", ["requirements"]);
  await task("sketch", "Sketch the pages", ["requirements"]);
  await task("api", "Build the API", ["model"], 9);
  await task("pages", "Build the pages", ["sketch"]);
  await task("migrate", "Migrate the old content", ["model"], 10);
  await task("e2e", "Write end-to-end tests", ["api", "pages"]);
  await task("docs", "Write the documentation", ["api"]);
  await task("load", "Load-test the API", ["api"]);
  await task("launch", "Launch", ["e2e", "docs", "load"]);
  await task("flyers", "Print flyers", ["requirements"], 2);

  for (const key of ["requirements", "model", "sketch"]) {
    await callTool(client, "update_task_status", { task_id: tasks[key], status: "completed", result: "done" });
  }
  // Highest priority first: coder-3 gets the migration and fails it, coder-1 gets the API.
  const migration = await callTool<Claim>(client, "get_next_task", { goal_id: goal.id, agent_id: "coder-3" });
  await callTool(client, "update_task_status", {
    task_id: migration.task!.id,
    status: "failed",
    error: "the old database dump is incomplete",
    lease_id: migration.lease_id,
  });
  await callTool<Claim>(client, "get_next_task", { goal_id: goal.id, agent_id: "coder-1" });
  await callTool(client, "update_task_status", { task_id: tasks.flyers, status: "cancelled" });

  const study = await callTool<{ pipeline_id: string }>(client, "create_relay_pipeline", {
    name: "Market study",
    goal: "Size the European market for self-hosted agent runtimes",
    agent_types: ["researcher", "analyzer", "validator", "formatter"],
    token_budget: 40_000,
  });
  await callTool(client, "advance_relay", {
    pipeline_id: study.pipeline_id,
    quality_score: 0.86,
    l_score: 0.72,
    tokens_used: 9_200,
    output_summary: "14 sources, three market-size estimates between 40 and 65 M EUR.",
  });
  await callTool(client, "advance_relay", {
    pipeline_id: study.pipeline_id,
    quality_score: 0.78,
    l_score: 0.64,
    tokens_used: 7_400,
    output_summary: "Estimates reconciled: 52 M EUR, growing 30 % a year.",
  });
  await callTool(client, "advance_relay", { pipeline_id: study.pipeline_id, quality_score: 0.62, l_score: 0.41, tokens_used: 3_100 });

  const digest = await callTool<{ pipeline_id: string }>(client, "create_relay_pipeline", {
    name: "Weekly digest",
    goal: "Summarise this week's merged changes",
    agent_types: ["researcher", "formatter"],
  });
  for (const quality_score of [0.9, 0.8]) {
    await callTool(client, "advance_relay", { pipeline_id: digest.pipeline_id, quality_score, l_score: 0.7, tokens_used: 2_000 });
  }

  for (let i = 0; i < 5; i++) {
    await callTool(client, "circuit_breaker_record_failure", {
      agent_id: "coder-2",
      failure_type: i % 2 ? "exception" : "timeout",
      error_message: i % 2 ? "TypeError: cannot read 'id' of undefined" : "no answer within 120 s",
    });
  }
  await callTool(client, "circuit_breaker_record_success", { agent_id: "coder-1" });
  await callTool(client, "circuit_breaker_configure", { agent_id: "coder-3", cooldown_seconds: 1 });
  await callTool(client, "circuit_breaker_trip", { agent_id: "coder-3", reason: "the migration failed twice" });

  return { goalId: goal.id, tasks, pipelineId: study.pipeline_id, finishedPipelineId: digest.pipeline_id };
}
