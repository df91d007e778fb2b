/**
 * Confirming an agent key during the request (docs/security.md, "Agent keys"). The OAuth
 * provider let the key through from what the Worker knew of it (src/auth/agent-keys.ts); only the
 * user's Runtime knows whether it is still live. Until it says so, every call the request's tools
 * make into the Runtime goes through `callAsAgent`, which checks the key first and runs the call
 * only if the key holds — one round trip for both, and nothing done by a revoked key. A request
 * that makes no call asks the Runtime once (`confirm`). Refused: the handler answers
 * KEY_RECHECK_HEADER and the provider refuses the key in its own words. So a tool must make its
 * first Runtime call before any outside work (decompose_goal reads the goal before it asks the
 * model): what comes before it would be done for a revoked key too.
 */
import type { UnconfirmedKey } from "../auth/grant";
import type { RuntimeApi } from "../runtime/api";
import type { KeyRefusal } from "../runtime/keys/model";

type Method = (...args: unknown[]) => Promise<unknown>;

export class KeyConfirmation {
  private state: "pending" | "confirmed" | KeyRefusal = "pending";

  constructor(
    private readonly stub: RuntimeApi,
    private readonly key: UnconfirmedKey,
  ) {}

  get pending(): boolean {
    return this.state === "pending";
  }

  get refused(): boolean {
    return this.state !== "pending" && this.state !== "confirmed";
  }

  /** Asks the Runtime about the key now, unless a call already has. */
  async confirm(): Promise<void> {
    if (!this.pending) return;
    const check = await this.stub.checkAgentKey(this.key.key_id, this.key.secret_hash);
    if (this.pending) this.state = check.ok ? "confirmed" : check.reason;
  }

  /** The Runtime as this request's tools see it: each call confirms the key first while it is unconfirmed. */
  readonly runtime: RuntimeApi = new Proxy({} as RuntimeApi, {
    get: (_target, method) => {
      // Not a thenable: `await runtime` must not call a method named "then".
      if (typeof method !== "string" || method === "then") return undefined;
      return (...args: unknown[]) => this.call(method, args);
    },
  });

  private async call(method: string, args: unknown[]): Promise<unknown> {
    if (this.state === "confirmed") return (this.stub as unknown as Record<string, Method>)[method](...args);
    if (this.refused) throw new Error("the agent key was refused");
    const answer = await this.stub.callAsAgent(this.key.key_id, this.key.secret_hash, method, args);
    if ("refused" in answer) {
      this.state = answer.refused;
      throw new Error("the agent key was refused");
    }
    this.state = "confirmed";
    return answer.value;
  }
}
