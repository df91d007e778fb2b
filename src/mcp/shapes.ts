/**
 * The result shapes several tools share (a task, a goal, a baton, a pipeline, a breaker's status).
 * Each is written once as a TypeScript type in src/runtime/ and once as a zod schema in the MCP
 * layer; `shape<T>()` makes the compiler check that the two describe exactly the same object, so
 * neither can gain, lose or change a field without the other.
 *
 * A shape also names the tool that owns it: in tools/list its fields are described by that tool
 * only, and anywhere else it appears it is declared as an object (./json-schema.ts; docs/tools.md,
 * "Output schemas"), instead of being spelled out again in every tool that returns it. A shape
 * owned by a resource template instead (a schedule) is declared as an object in every tool.
 */
import type { z } from "zod";

/** Whether A and B are the same type (not merely assignable one way). */
type Same<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;

/** What the compiler reports when a schema drifts from its type. */
interface Drift<T, S> {
  "the schema's output type differs from the runtime's type": { type: T; schema: S };
}

/**
 * The JSON Schema keyword that carries a shape's owner from zod into the converted schema (zod
 * copies a schema's metadata there); ./json-schema.ts reads it and removes it.
 */
export const OWNER = "x-agent-runtime-owner";

/**
 * Declares the schema of a runtime type `T`, and the tool that owns it if it is one of the shared
 * shapes: `export const task = shape<Task>()(z.object({...}), "get_task")` fails to compile unless
 * `z.output` of the schema is exactly `Task`.
 */
export function shape<T>() {
  return <S extends z.ZodType>(schema: S & (Same<z.output<S>, T> extends true ? unknown : Drift<T, z.output<S>>), owner?: string): S =>
    owner === undefined ? schema : schema.meta({ [OWNER]: owner });
}
