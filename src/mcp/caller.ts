/**
 * What a call may do as its caller (docs/security.md, "Agent keys"). The owner, signed in with
 * OAuth, may act as any agent, as before. An agent signed in with its own key acts as that agent
 * only: agent_id is the key's (naming another is refused), roles stay within the key's, and the
 * breaker controls that could hide a misbehaving agent are the owner's. Every refusal here is
 * `failed_precondition`: the arguments are well-formed, the credential does not allow them.
 */
import type { Outcome } from "../runtime/kernel/errors";
import type { Caller } from "./context";

const refused = (message: string): Outcome<never> => ({ ok: false, error: { code: "failed_precondition", message } });

/**
 * The agent a call acts as. Keyed: the key's agent, whether `agent_id` names it or is left out;
 * naming another is refused. Owner: the `agent_id` named, if any.
 */
export function actingAgent(caller: Caller, named: string | undefined): Outcome<string | undefined> {
  if (caller.kind === "owner") return { ok: true, value: named };
  if (named !== undefined && named !== caller.agent_id) {
    return refused(`agent_id: this agent key is for ${caller.agent_id}, not ${named}`);
  }
  return { ok: true, value: caller.agent_id };
}

/** The same where `agent_id` is required: the named agent, if the caller may act as it. */
export function asAgent(caller: Caller, named: string): Outcome<string> {
  const agent = actingAgent(caller, named);
  return agent.ok ? { ok: true, value: named } : agent;
}

/** The agent of a keyed call, whose moves of other agents' leased tasks the Runtime refuses; the owner's calls: none. */
export const keyedAgent = (caller: Caller): string | undefined => (caller.kind === "agent" ? caller.agent_id : undefined);

/** Refuses a keyed call to a tool only the owner may use. */
export function ownerOnly(caller: Caller, tool: string): Outcome<void> {
  if (caller.kind === "owner") return { ok: true, value: undefined };
  return refused(`${tool} is the owner's: an agent key cannot use it (sign in with OAuth, or use the dashboard)`);
}

/**
 * The roles a claim asks for. A key limited to roles allows those only: asking for another is
 * refused, and asking for none means all of the key's. A key without roles, and the owner, ask
 * for what they name (none: tasks without a role only, SPEC §12).
 */
export function rolesAllowed(caller: Caller, requested: readonly string[] | undefined): Outcome<string[] | undefined> {
  const asked = requested === undefined ? undefined : [...requested];
  if (caller.kind === "owner" || caller.roles === null) return { ok: true, value: asked };
  if (asked === undefined) return { ok: true, value: [...caller.roles] };
  const beyond = asked.filter((role) => !caller.roles!.includes(role));
  if (beyond.length > 0) return refused(`roles: this agent key allows ${caller.roles.join(", ")}; not ${beyond.join(", ")}`);
  return { ok: true, value: asked };
}
