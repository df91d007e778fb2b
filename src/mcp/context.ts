/**
 * What a tool handler works with: the calling user's own Runtime Durable Object and the
 * Worker's settings. The user comes from the OAuth grant (`getMcpAuthContext`), never from
 * tool input, so one user's calls can only ever reach that user's data.
 */
import { getMcpAuthContext } from "agents/mcp/server";
import type { AuthProps, Env } from "../env";
import type { DurableObject } from "cloudflare:workers";
import type { Runtime } from "../runtime/runtime";

/**
 * The Runtime's RPC methods as the tools see them. Workers RPC types flatten plain-object results
 * (`Record<string, unknown>` becomes `unknown`), but the values cross as structured clones, so
 * the methods' own return types are the truth.
 */
type Remote<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};
export type RuntimeApi = Remote<Omit<Runtime, keyof DurableObject<Env>>>;

export interface ToolContext {
  runtime: RuntimeApi;
  env: Env;
}

export function userIdOfRequest(): string {
  const props = getMcpAuthContext()?.props as Partial<AuthProps> | undefined;
  if (typeof props?.userId !== "string" || props.userId.length === 0) {
    // The OAuth provider only lets authenticated requests reach /mcp; a grant without a user
    // is a wiring bug, and must never fall back to a shared object.
    throw new Error("authenticated request without a user id");
  }
  return props.userId;
}

export function runtimeOf(env: Env, userId: string): RuntimeApi {
  return env.RUNTIME.getByName(userId) as unknown as RuntimeApi;
}
