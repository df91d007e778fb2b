/**
 * A stand-in for the Anthropic Messages API: scripted answers, and a record of every request it
 * received (URL, headers, parsed body) so tests can inspect what the product sent. Plain
 * fetch-shaped code with no Cloudflare imports, so the workerd tests inject `fake.fetch` and the
 * end-to-end test serves the same answers from a node:http server.
 */

export interface PlannedTaskJson {
  title: string;
  description: string;
  priority: number;
  depends_on: number[];
  /** With `decompose_goal {roles}`: one of them, or null. */
  role?: string | null;
}

export interface ReceivedRequest {
  url: string;
  headers: Headers;
  body: MessagesBody;
}

export interface MessagesBody {
  model: string;
  max_tokens: number;
  system: string;
  messages: { role: "user" | "assistant"; content: string }[];
  output_config?: { format?: { type: string; schema: Record<string, unknown> } };
  [key: string]: unknown;
}

/** One scripted answer: builds the response to a request (or throws, like a failed network). */
export type Answer = (body: MessagesBody, signal: AbortSignal | null | undefined) => Promise<Response> | Response;

function message(body: MessagesBody, text: string, stopReason = "end_turn"): Response {
  return Response.json({
    id: `msg_fake_${Math.random().toString(36).slice(2)}`,
    type: "message",
    role: "assistant",
    model: body.model,
    content: [{ type: "text", text }],
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 100 },
  });
}

export const answers = {
  /** A structured-output reply carrying `tasks`. */
  plan: (tasks: PlannedTaskJson[]): Answer => (body) => message(body, JSON.stringify({ tasks })),
  /** Any text as the reply (malformed JSON, prose). */
  text: (text: string, stopReason = "end_turn"): Answer => (body) => message(body, text, stopReason),
  refusal: (): Answer => (body) => message(body, "", "refusal"),
  /** An API error response with the Anthropic error body. */
  status: (status: number, type = "api_error"): Answer => () =>
    Response.json({ type: "error", error: { type, message: `fake ${status}` } }, { status, headers: { "request-id": "req_fake" } }),
  /** A connection that fails outright. */
  networkError: (): Answer => () => {
    throw new TypeError("fetch failed: connection refused");
  },
  /** `answer`, once `until` settles: a model still thinking while the test changes something. */
  after: (until: Promise<unknown>, answer: Answer): Answer => async (body, signal) => {
    await until;
    return answer(body, signal);
  },
  /** Never answers; ends only when the client gives up (its timeout aborts the request). */
  hang: (): Answer => (_body, signal) =>
    new Promise<Response>((_resolve, reject) => {
      signal?.addEventListener("abort", () => reject(new DOMException("The operation was aborted", "AbortError")));
    }),
};

/** Plans in the shapes the strategies ask for. */
export const samplePlans = {
  sequential: [
    { title: "Survey existing blog platforms", description: "Compare three.", priority: 9, depends_on: [] },
    { title: "Write the first post", description: "Draft and edit.", priority: 8, depends_on: [0] },
    { title: "Publish the post", description: "Go live.", priority: 7, depends_on: [1] },
  ],
  parallel: [
    { title: "Design the logo", description: "", priority: 6, depends_on: [] },
    { title: "Set up hosting", description: "", priority: 8, depends_on: [] },
    { title: "Draft launch copy", description: "", priority: 7, depends_on: [] },
  ],
  hierarchical: [
    { title: "Phase 1: Choose platform", description: "", priority: 9, depends_on: [] },
    { title: "Phase 1: Register domain", description: "", priority: 9, depends_on: [] },
    { title: "Phase 2: Build site", description: "", priority: 8, depends_on: [0, 1] },
    { title: "Phase 2: Write posts", description: "", priority: 8, depends_on: [0, 1] },
    { title: "Phase 3: Launch", description: "", priority: 7, depends_on: [2, 3] },
  ],
} satisfies Record<string, PlannedTaskJson[]>;

export class FakeAnthropic {
  readonly requests: ReceivedRequest[] = [];
  private readonly script: Answer[];

  constructor(...script: Answer[]) {
    this.script = script;
  }

  /** Answers the next request with the next scripted answer; unscripted requests get HTTP 500. */
  async answer(request: Request, signal?: AbortSignal | null): Promise<Response> {
    const body = (await request.json()) as MessagesBody;
    this.requests.push({ url: request.url, headers: request.headers, body });
    const next = this.script.shift() ?? answers.status(500);
    return next(body, signal ?? request.signal);
  }

  /** Inject as `fetch` (decomposeGoal's provider option). */
  readonly fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
    this.answer(new Request(input, init), init?.signal);
}
