/**
 * Domain errors. Every failure a user can cause has one of the codes of docs/tools.md, and a
 * thrown DomainError inside `transactionSync` rolls the whole write back, so "a failed call
 * changes nothing" holds by construction. The field a failure is about is named in its message.
 */
export type ErrorCode =
  | "invalid_argument"
  | "not_found"
  | "conflict"
  | "failed_precondition"
  | "resource_exhausted"
  | "unavailable";

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const invalid = (field: string, message: string) => new DomainError("invalid_argument", `${field}: ${message}`);
export const notFound = (message: string) => new DomainError("not_found", message);
export const conflict = (message: string) => new DomainError("conflict", message);
export const failedPrecondition = (message: string) => new DomainError("failed_precondition", message);
export const exhausted = (message: string) => new DomainError("resource_exhausted", message);
/** An outside service (the LLM provider) failed; the message must not carry secrets or request content. */
export const unavailable = (message: string) => new DomainError("unavailable", message);

/**
 * What crosses the Durable Object RPC boundary. Workers RPC keeps only an error's message, so a
 * domain error travels as data and the tool layer turns it back into an MCP error result.
 */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string } };

export function outcomeOf<T>(run: () => T): Outcome<T> {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return failureOf(error);
  }
}

/** The same for work that awaits (in the Worker, never inside a Durable Object mutation). */
export async function outcomeOfAsync<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return failureOf(error);
  }
}

/** A DomainError as a failed outcome; anything else is a bug and is rethrown. */
function failureOf(error: unknown): Outcome<never> {
  if (error instanceof DomainError) return { ok: false, error: { code: error.code, message: error.message } };
  throw error;
}

export function mapOutcome<T, U>(outcome: Outcome<T>, map: (value: T) => U): Outcome<U> {
  return outcome.ok ? { ok: true, value: map(outcome.value) } : outcome;
}
