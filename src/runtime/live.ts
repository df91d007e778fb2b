/**
 * Live updates for the owner's dashboard: the Runtime tells every open dashboard page that its
 * data changed, over hibernatable WebSockets (the object can sleep while pages stay connected).
 *
 * The message is tiny and carries no data — `{"changed":true,"at":"…"}` — and the page fetches
 * what it shows through its normal, authenticated routes. Changes are coalesced: at most one
 * message per MIN_INTERVAL_MS, the last change of a burst always announced, so fifty agents
 * writing at once cause a handful of messages, not a storm. A client's "ping" is answered
 * "pong" by the runtime itself, without waking the object.
 */

/** Tags the dashboard's sockets among the object's accepted WebSockets. */
const TAG = "dashboard";
const MIN_INTERVAL_MS = 250;
/** An open dashboard is one person's tab or two; more sockets than this are refused. */
const MAX_SOCKETS = 64;

export class LiveChannel {
  private lastSent = 0;
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ctx: DurableObjectState) {
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** Accepts a WebSocket upgrade (the Worker has already checked the session and the origin). */
  accept(request: Request): Response {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("Expected a WebSocket upgrade", { status: 426, headers: { Upgrade: "websocket" } });
    }
    if (this.ctx.getWebSockets(TAG).length >= MAX_SOCKETS) return new Response("Too many live connections", { status: 429 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [TAG]);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Something changed: tell the connected pages, coalescing bursts. */
  announce(): void {
    if (this.pending !== undefined || this.ctx.getWebSockets(TAG).length === 0) return;
    const wait = this.lastSent + MIN_INTERVAL_MS - Date.now();
    if (wait <= 0) return this.send();
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.send();
    }, wait);
  }

  /** Pages only ever send "ping" (answered without us); anything else closes the socket. */
  message(ws: WebSocket): void {
    ws.close(1003, "the dashboard's socket only receives");
  }

  close(ws: WebSocket, code: number): void {
    // 1005/1006 mean "no code" and may not be sent back; answer them with a normal close.
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {
      // Already closed.
    }
  }

  private send(): void {
    this.lastSent = Date.now();
    const message = JSON.stringify({ changed: true, at: new Date(this.lastSent).toISOString() });
    for (const ws of this.ctx.getWebSockets(TAG)) {
      try {
        ws.send(message);
      } catch {
        // A socket closing as we send: its page reconnects and refetches anyway.
      }
    }
  }
}
