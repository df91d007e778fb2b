/**
 * How tools describe themselves in tools/list (docs/tools.md, "Output schemas"; SPEC §9): lean
 * JSON Schemas derived once from the zod schemas, and one source per result shape.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BREAKER_STATES } from "../src/runtime/breakers/model";
import type { Goal } from "../src/runtime/goals/goals";
import { TASK_STATUSES } from "../src/runtime/tasks/model";
import type { JsonSchema } from "../src/mcp/json-schema";
import * as s from "../src/mcp/schemas";
import { INSTRUCTIONS, TOOLS } from "../src/mcp/server";
import { shape } from "../src/mcp/shapes";
import { advertisedSchemas } from "../src/mcp/tool";

const byName = new Map(TOOLS.map((tool) => [tool.name, advertisedSchemas(tool)]));
const output = (name: string) => byName.get(name)!.output as { properties: Record<string, JsonSchema> };
const input = (name: string) => byName.get(name)!.input as { properties: Record<string, JsonSchema> };

/** Every keyword of a schema and of the schemas inside it (not the names of its properties). */
function keywords(schema: unknown, found = new Set<string>()): Set<string> {
  if (typeof schema !== "object" || schema === null) return found;
  for (const [key, value] of Object.entries(schema)) {
    found.add(key);
    if (key === "properties") for (const sub of Object.values(value as object)) keywords(sub, found);
    else if (key === "items" || key === "additionalProperties") keywords(value, found);
    else if (key === "anyOf" || key === "oneOf" || key === "allOf") for (const sub of value as unknown[]) keywords(sub, found);
  }
  return found;
}

describe("output schemas", () => {
  it("keep every field of a result with its type, and carry no prose and no required list", () => {
    for (const [name, { output: schema }] of byName) {
      const used = keywords(schema);
      for (const prose of ["description", "title", "examples", "required", "$schema"]) expect(used.has(prose), `${name}: ${prose}`).toBe(false);
    }
    expect(output("get_task").properties).toMatchObject({
      id: { type: "number" },
      status: { enum: [...TASK_STATUSES] },
      lease_expires_at: { type: ["string", "null"] },
      events: { type: "array", items: { type: "object" } },
    });
    // The task's 27 fields, and what get_task adds: its history, its goal and its inputs.
    expect(Object.keys(output("get_task").properties)).toHaveLength(30);
  });

  it("declare a shared shape nested in another tool's result as an object; its owner describes its fields", () => {
    // get_task describes a task; get_next_task and list_tasks only say "an object".
    expect(output("get_next_task").properties.task).toEqual({ type: ["object", "null"] });
    expect(output("list_tasks").properties.tasks).toEqual({ type: "array", items: { type: "object" } });
    // A result that is a shape owned by another tool is declared as an object as a whole.
    expect(byName.get("create_task")!.output).toEqual({ type: "object" });
    // The breaker status is described once, by circuit_breaker_status, not in every breaker write.
    expect(output("circuit_breaker_trip").properties.breaker).toEqual({ type: "object" });
    expect(output("circuit_breaker_status").properties.state).toEqual({ enum: [...BREAKER_STATES] });
    // The baton's owner describes it inside its answer.
    expect(output("get_relay_baton").properties.baton).toMatchObject({ type: ["object", "null"], properties: { baton_id: { type: "string" } } });
    expect(output("advance_relay").properties.baton).toEqual({ type: "object" });
  });

  it("write T | null as a type list, enums included", () => {
    expect(output("get_relay_status").properties.failure_reason).toEqual({ enum: ["budget_exhausted", "retries_exhausted", null] });
    expect(output("get_goal").properties.completed_at).toEqual({ type: ["string", "null"] });
  });
});

describe("input schemas", () => {
  it("keep the constraints an agent needs, and leave the standard limits and the refusal of unknown arguments to the instructions", () => {
    expect(input("create_task").properties.priority).toMatchObject({ type: "integer", minimum: 1, maximum: 10, default: 5 });
    expect(input("create_task").properties.title).toEqual({ type: "string" });
    expect(input("create_task").properties.goal_id).toEqual({ type: "integer", minimum: 1 });
    expect(input("heartbeat_task").properties.progress).toEqual({ type: "string", maxLength: 2000 });
    for (const [name, { input: schema }] of byName) expect(keywords(schema).has("additionalProperties"), name).toBe(false);
    // …which the tools still enforce: they are zod's strict objects with the limits.
    const create = TOOLS.find((tool) => tool.name === "create_task")!.input;
    expect(create.safeParse({ title: "x".repeat(201) }).success).toBe(false);
    expect(create.safeParse({ title: "t", titel: "typo" }).success).toBe(false);
  });

  it("the instructions state once what the schemas leave out: limits, unknown arguments, statuses, error codes, the work loop", () => {
    for (const said of ["200", "20,000", "16 KiB", "refused", "get_next_task", "heartbeat_task", "lease_id", "ISO 8601", ...TASK_STATUSES, ...BREAKER_STATES]) {
      expect(INSTRUCTIONS, said).toContain(said);
    }
    for (const code of ["invalid_argument", "not_found", "conflict", "failed_precondition", "resource_exhausted", "unavailable"]) expect(INSTRUCTIONS).toContain(code);
  });
});

describe("one source per shape", () => {
  it("refuses, at compile time, a schema that drifts from its runtime type (npm run typecheck checks this file)", () => {
    // @ts-expect-error a field the runtime's Goal does not have
    shape<Goal>()(s.goal.extend({ extra: z.number() }));
    // @ts-expect-error a field of Goal left out
    shape<Goal>()(s.goal.omit({ progress: true }));
    // @ts-expect-error a field of another type
    shape<Goal>()(s.goal.extend({ progress: z.string() }));
    // The same schema as it is compiles.
    expect(shape<Goal>()(s.goal)).toBe(s.goal);
  });
});
