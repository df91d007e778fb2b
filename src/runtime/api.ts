/**
 * The Runtime's RPC methods as callers in the Worker (tools, decomposition) see them. Workers RPC
 * types flatten plain-object results (`Record<string, unknown>` becomes `unknown`), but the values
 * cross as structured clones, so the methods' own return types are the truth.
 */
import type { DurableObject } from "cloudflare:workers";
import type { Runtime } from "./runtime";

type Remote<T> = {
  // A method that already returns a Promise keeps its own type, generic parameters included (the
  // list methods' `view`); inferring through it would erase them.
  [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown>
    ? T[K]
    : T[K] extends (...args: infer A) => infer R
      ? (...args: A) => Promise<Awaited<R>>
      : never;
};

export type RuntimeApi = Remote<Omit<Runtime, keyof DurableObject>>;

/** The Runtime of one user. */
export function runtimeOf(env: Cloudflare.Env, userId: string): RuntimeApi {
  return env.RUNTIME.getByName(userId) as unknown as RuntimeApi;
}
