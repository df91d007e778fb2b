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
      lease_expires_at: { anyOf: [{ type: "string" }, { type: "null" }] },
      events: { type: "array", items: { type: "object" } },
    });
    // The task's 27 fields, and what get_task adds: its history, its goal and its inputs.
    expect(Object.keys(output("get_task").properties)).toHaveLength(30);
  });

  it("declare a shared shape nested in another tool's result as an object; its owner describes its fields", () => {
    // get_task describes a task; get_next_task and list_tasks only say "an object".
    expect(output("get_next_task").properties.task).toEqual({ anyOf: [{ type: "object" }, { type: "null" }] });
    expect(output("list_tasks").properties.tasks).toEqual({ type: "array", items: { type: "object" } });
    // A result that is a shape owned by another tool is declared as an object as a whole.
    expect(byName.get("create_task")!.output).toEqual({ type: "object" });
    // The breaker status is described once, by circuit_breaker_status, not in every breaker write.
    expect(output("circuit_breaker_trip").properties.breaker).toEqual({ type: "object" });
    expect(output("circuit_breaker_status").properties.state).toEqual({ enum: [...BREAKER_STATES] });
    // The baton's owner describes it inside its answer.
    expect(output("get_relay_baton").properties.baton).toMatchObject({ anyOf: [{ type: "object", properties: { baton_id: { type: "string" } } }, { type: "null" }] });
    expect(output("advance_relay").properties.baton).toEqual({ type: "object" });
  });

  it("write T | null as branches of one type each, and a nullable enum as its values and null", () => {
    expect(output("get_relay_status").properties.failure_reason).toEqual({ enum: ["budget_exhausted", "retries_exhausted", null] });
    expect(output("get_goal").properties.completed_at).toEqual({ anyOf: [{ type: "string" }, { type: "null" }] });
  });

});

describe("every schema, input and output", () => {
  // A `type` list (`["string", "null"]`) is legal JSON Schema, but clients that map tool schemas
  // onto a one-type dialect (Gemini's OpenAPI subset) refuse the tool or drop the constraint, and
  // the MCP Inspector's schema lint warns about each one. Nor may a schema accept anything at all.
  it("gives every value one type or a list of values: no type lists, no schema without a constraint", () => {
    const found: string[] = [];
    const visit = (node: unknown, path: string) => {
      if (typeof node !== "object" || node === null || Array.isArray(node)) {
        if (typeof node === "boolean") found.push(`${path}: the schema ${String(node)}`);
        return;
      }
      const schema = node as Record<string, unknown>;
      if (Array.isArray(schema.type)) found.push(`${path}: type ${JSON.stringify(schema.type)}`);
      if (!["type", "enum", "const", "anyOf", "oneOf", "allOf", "properties", "items"].some((key) => key in schema)) found.push(`${path}: no constraint`);
      for (const [name, sub] of Object.entries((schema.properties as object | undefined) ?? {})) visit(sub, `${path}.${name}`);
      for (const key of ["anyOf", "oneOf", "allOf"]) (schema[key] as unknown[] | undefined)?.forEach((sub, i) => visit(sub, `${path}.${key}[${i}]`));
      for (const key of ["items", "additionalProperties"]) if (key in schema && typeof schema[key] === "object") visit(schema[key], `${path}.${key}`);
    };
    for (const [name, { input: inputSchema, output: outputSchema }] of byName) {
      visit(inputSchema, `${name} input`);
      visit(outputSchema, `${name} output`);
    }
    expect(found).toEqual([]);
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
