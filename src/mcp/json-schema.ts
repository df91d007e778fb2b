/**
 * The JSON Schemas that tools/list serves, derived from the tools' zod schemas and kept lean:
 * every agent pays for them in its context (docs/tools.md, "Output schemas").
 *
 *   - Input schemas keep their constraints, defaults and short descriptions: the agent needs them
 *     to call the tool right. What holds for every tool is said once, in the instructions: the
 *     standard length limits, and that unknown arguments are refused (`additionalProperties`).
 *   - Output schemas keep their structure (every field of a result with its type), which SDK
 *     clients validate results against, but no prose and no `required` list. An object inside a
 *     result is declared as an object: its fields are described once, by the tool that owns its
 *     shape (./shapes.ts) — a task's by get_task, a breaker's by circuit_breaker_status.
 *   - Both lose what says nothing: `$schema`, the safe-integer bounds zod puts on every integer,
 *     `propertyNames: {type: string}`, an empty `additionalProperties`.
 *   - `T | null` is `anyOf: [{type: T}, {type: "null"}]`, one type per branch, as zod writes it
 *     for most types. zod writes a `type` list (`["string", "null"]`) for the simple ones: shorter
 *     and legal, but clients that map tool schemas onto a one-type dialect (Gemini's OpenAPI
 *     subset) refuse it, and the MCP Inspector's schema lint warns about each. A nullable output
 *     enum is its values and `null`, with no type at all.
 *
 * Converting is slow next to a tool call, so each schema is converted once per isolate (the
 * caller keeps the result); the objects are frozen because every request shares them.
 */
import { z } from "zod";
import { OWNER } from "./shapes";

export type JsonSchema = { readonly [key: string]: unknown };

/**
 * Marks a string schema whose limits are the product's standard ones (names 200 chars and one
 * line, texts 20,000, ids and cursors as issued; docs/tools.md "Limits"): stated once in the
 * server's instructions, enforced by the tool, not repeated in every input schema. zod copies it into the JSON Schema;
 * it is removed here.
 */
export const STANDARD_LIMITS = "x-agent-runtime-standard-limits";
type Mutable = { [key: string]: unknown };
type Io = "input" | "output";

/** The JSON Schema of a tool's input or output, as tools/list serves it. */
export function toolJsonSchema(schema: z.ZodType, io: Io, tool: string): JsonSchema {
  const raw = z.toJSONSchema(schema, { target: "draft-2020-12", io }) as Mutable;
  return deepFreeze(compact(raw, { io, tool, depth: 0 }));
}

interface Where {
  io: Io;
  /** The tool whose schema this is. */
  tool: string;
  /** How many objects deep: 0 for the result itself, 1 for its fields' values, … */
  depth: number;
}

/** Keywords whose value is a map of names to schemas, a list of schemas, or one schema. */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions"]);
const SCHEMA_LISTS = new Set(["anyOf", "oneOf", "allOf", "prefixItems"]);
const SCHEMA_ONE = new Set(["items", "additionalProperties", "propertyNames", "not", "contains", "if", "then", "else"]);
/** Prose, which an output schema does without. */
const PROSE = new Set(["description", "title", "examples"]);

function compact(schema: Mutable, where: Where): Mutable {
  const { io } = where;
  if (io === "output" && isObjectSchema(schema) && !described(schema, where)) {
    return { type: schema.type };
  }
  let out: Mutable = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$schema" || key === OWNER || key === STANDARD_LIMITS) continue;
    // A standard name or id: its length and one-line rule are said once, in the instructions.
    if (schema[STANDARD_LIMITS] === true && (key === "minLength" || key === "maxLength" || key === "pattern" || isPatternsOnly(key, value))) continue;
    if (io === "output" && (PROSE.has(key) || key === "required")) continue;
    if (key === "properties" && isObject(value)) {
      const inner = { ...where, depth: where.depth + 1 };
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, isObject(sub) ? compact(sub, inner) : sub]));
    } else if (SCHEMA_MAPS.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, isObject(sub) ? compact(sub, where) : sub]));
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value.map((sub: unknown) => (isObject(sub) ? compact(sub, where) : sub));
    } else if (SCHEMA_ONE.has(key) && isObject(value)) {
      out[key] = compact(value, where);
    } else {
      out[key] = value;
    }
  }
  // zod bounds every integer by the safe-integer range; "a positive integer" is `minimum: 1`.
  if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  if (out.type === "integer" && out.exclusiveMinimum === 0) {
    delete out.exclusiveMinimum;
    out.minimum = 1;
  }
  // The keys of a JSON object are strings, and any value is what an absent keyword allows anyway.
  if (isObject(out.propertyNames) && Object.keys(out.propertyNames).length === 1 && out.propertyNames.type === "string") delete out.propertyNames;
  if (isObject(out.additionalProperties) && Object.keys(out.additionalProperties).length === 0) delete out.additionalProperties;
  // Input: unknown arguments are refused by the tool itself, which the instructions say once.
  // Output: a result may gain a field without breaking a client that validates an older schema.
  if (out.additionalProperties === false) delete out.additionalProperties;
  if (io === "output") {
    // The listed values say it is a string; a constant says its own type.
    if (Array.isArray(out.enum) && out.type === "string") delete out.type;
    if ("const" in out && typeof out.type === "string") delete out.type;
  }
  out = nullableEnum(oneTypePerBranch(out));
  return out;
}

/**
 * Whether an object inside an output schema has its fields described here: the result itself
 * unless it is a shape another tool owns, and below it only the shapes this tool owns.
 */
function described(schema: Mutable, where: Where): boolean {
  const owner = schema[OWNER];
  if (where.depth === 0) return owner === undefined || owner === where.tool;
  return owner === where.tool;
}

/** `allOf: [{pattern}, …]`, what zod makes of several `.regex()` checks on one string. */
function isPatternsOnly(key: string, value: unknown): boolean {
  return key === "allOf" && Array.isArray(value) && value.every((sub) => isObject(sub) && Object.keys(sub).every((k) => k === "pattern"));
}

function isObjectSchema(schema: Mutable): boolean {
  return schema.type === "object";
}

/** Keywords that annotate rather than constrain: they stay beside an `anyOf`, not in its branches. */
const ANNOTATIONS = new Set([...PROSE, "default"]);

/** `{type: [T, "null"], …}` → `{anyOf: [{type: T, …}, {type: "null"}]}`: the same schema, one type per branch. */
function oneTypePerBranch(schema: Mutable): Mutable {
  const { type, ...rest } = schema;
  if (!Array.isArray(type)) return schema;
  const outside = Object.fromEntries(Object.entries(rest).filter(([key]) => ANNOTATIONS.has(key)));
  const inside = Object.fromEntries(Object.entries(rest).filter(([key]) => !ANNOTATIONS.has(key)));
  return { ...outside, anyOf: type.map((one: unknown) => (one === "null" ? { type: "null" } : { type: one, ...inside })) };
}

/** `{anyOf: [{enum: [a, b]}, {type: "null"}]}` → `{enum: [a, b, null]}`: the same schema, shorter and with no type. */
function nullableEnum(schema: Mutable): Mutable {
  const branches = schema.anyOf;
  if (!Array.isArray(branches) || branches.length !== 2) return schema;
  const isNull = (branch: unknown) => isObject(branch) && Object.keys(branch).length === 1 && branch.type === "null";
  const nullAt = branches.findIndex(isNull);
  if (nullAt === -1) return schema;
  const other: unknown = branches[1 - nullAt];
  // An output enum has lost its type (see above): null is one more value.
  if (!isObject(other) || other.type !== undefined || !Array.isArray(other.enum)) return schema;
  return { ...withoutAnyOf(schema), ...other, enum: [...other.enum, null] };
}

function withoutAnyOf(schema: Mutable): Mutable {
  const { anyOf: _anyOf, ...rest } = schema;
  return rest;
}

function isObject(value: unknown): value is Mutable {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const sub of Object.values(value)) deepFreeze(sub);
  }
  return value;
}
