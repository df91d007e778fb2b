// @ts-check
/**
 * The View side of MCP Apps (extension `io.modelcontextprotocol/ui`, revision 2026-01-26):
 * JSON-RPC 2.0 with the host over postMessage. The protocol is small enough to speak directly,
 * as the specification itself shows, which keeps the board one small self-contained document
 * (ext-apps' `App` class would bring the MCP SDK and zod along, about half a megabyte).
 *
 * `connectToHost` sends `ui/initialize`, then `ui/notifications/initialized`, and answers with
 * what the host said about itself. Only messages from the parent window are read; the host's
 * notifications go to `onNotification`; its requests (`ping`, `ui/resource-teardown`) are
 * answered here. The document's size is reported as it changes (`ui/notifications/size-changed`),
 * so a host that fits its frame to the content can.
 */

const PROTOCOL_VERSION = "2026-01-26";
/** A host that does not answer within this time has failed the request. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * @typedef {{ theme?: "light" | "dark", styles?: { variables?: Record<string, string | undefined> },
 *   displayMode?: string, availableDisplayModes?: string[],
 *   containerDimensions?: { height?: number, maxHeight?: number, width?: number, maxWidth?: number } }} HostContext
 * @typedef {{ serverTools?: object, [key: string]: unknown }} HostCapabilities
 * @typedef {{ content?: { type: string, text?: string }[], structuredContent?: Record<string, unknown>, isError?: boolean }} ToolResult
 * @typedef {{ code: number, message: string }} RpcError
 * @typedef {{ jsonrpc: "2.0", id?: number | string, method?: string, params?: any, result?: any, error?: RpcError }} RpcMessage
 * @typedef {{
 *   hostContext: HostContext,
 *   hostCapabilities: HostCapabilities,
 *   request(method: string, params?: object): Promise<any>,
 *   notify(method: string, params?: object): void,
 * }} Host
 */

/**
 * @param {{ name: string, version: string }} appInfo
 * @param {{ availableDisplayModes?: string[] }} appCapabilities
 * @param {(method: string, params: any) => void} onNotification
 * @returns {Promise<Host>}
 */
export async function connectToHost(appInfo, appCapabilities, onNotification) {
  if (window.parent === window) throw new Error("it is not inside a client's frame");
  let nextId = 1;
  /** @type {Map<number, { resolve(value: any): void, reject(error: Error): void, timer: ReturnType<typeof setTimeout> }>} */
  const pending = new Map();

  /** @param {RpcMessage} message */
  const post = (message) => window.parent.postMessage(message, "*");

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return;
    /** @type {RpcMessage} */
    const message = event.data;
    if (typeof message !== "object" || message === null || message.jsonrpc !== "2.0") return;
    if (message.method === undefined) {
      const waiting = typeof message.id === "number" ? pending.get(message.id) : undefined;
      if (!waiting || typeof message.id !== "number") return;
      pending.delete(message.id);
      clearTimeout(waiting.timer);
      if (message.error) waiting.reject(new Error(message.error.message || `error ${message.error.code}`));
      else waiting.resolve(message.result);
    } else if (message.id !== undefined) {
      answerHostRequest(message, post, onNotification);
    } else {
      onNotification(message.method, message.params ?? {});
    }
  });

  /** @type {Host["request"]} */
  const request = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the host did not answer ${method}`));
      }, REQUEST_TIMEOUT_MS);
      pending.set(id, { resolve, reject, timer });
      post({ jsonrpc: "2.0", id, method, params });
    });
  /** @type {Host["notify"]} */
  const notify = (method, params = {}) => post({ jsonrpc: "2.0", method, params });

  const initialized = await request("ui/initialize", { appInfo, appCapabilities, protocolVersion: PROTOCOL_VERSION });
  notify("ui/notifications/initialized");
  reportSize(notify);
  return {
    hostContext: initialized?.hostContext ?? {},
    hostCapabilities: initialized?.hostCapabilities ?? {},
    request,
    notify,
  };
}

/**
 * The host asks: `ping` and `ui/resource-teardown` are answered (teardown is also passed on,
 * so the app can stop its timers); anything else is a method this view does not have.
 * @param {RpcMessage} message
 * @param {(message: RpcMessage) => void} post
 * @param {(method: string, params: any) => void} onNotification
 */
function answerHostRequest(message, post, onNotification) {
  const id = /** @type {number | string} */ (message.id);
  if (message.method === "ping") return post({ jsonrpc: "2.0", id, result: {} });
  if (message.method === "ui/resource-teardown") {
    onNotification("ui/resource-teardown", message.params ?? {});
    return post({ jsonrpc: "2.0", id, result: {} });
  }
  post({ jsonrpc: "2.0", id, error: { code: -32601, message: `method not found: ${message.method}` } });
}

/**
 * Tells the host the document's size whenever it changes, once per frame at most: the height
 * the content needs (measured with the root at max-content) and the width it has.
 * @param {Host["notify"]} notify
 */
function reportSize(notify) {
  let queued = false;
  let last = { width: 0, height: 0 };
  const measure = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      const root = document.documentElement;
      const before = root.style.height;
      root.style.height = "max-content";
      const height = Math.ceil(root.getBoundingClientRect().height);
      root.style.height = before;
      const width = Math.ceil(window.innerWidth);
      if (width === last.width && height === last.height) return;
      last = { width, height };
      notify("ui/notifications/size-changed", last);
    });
  };
  measure();
  const observer = new ResizeObserver(measure);
  observer.observe(document.documentElement);
  observer.observe(document.body);
}

/** The text of a tool result that failed (`"<code>: <message>"`), or a fallback. @param {ToolResult} result */
export const errorText = (result) => result.content?.find((item) => item.type === "text")?.text ?? "the call failed";
