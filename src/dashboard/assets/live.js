// @ts-check
/**
 * The page's live connection: a WebSocket to /live that says "something changed" (never what),
 * reconnecting with backoff whenever it drops — a restart of the server, a network change, a
 * laptop waking up. A "ping" every 25 s (answered by the server without waking the Runtime)
 * notices a connection that died silently.
 */

const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 15_000;

/**
 * @typedef {object} LiveOptions
 * @property {() => void} onChange     the data changed: refetch what the page shows
 * @property {() => void} onReconnect  connected again after a drop: changes may have been missed
 * @property {(failures: number) => void} onDown  a connection attempt failed (1, 2, …)
 * @property {HTMLElement | null} status  the element that shows the connection's state
 */

/** @param {LiveOptions} options */
export function connectLive(options) {
  /** @type {WebSocket | null} */
  let socket = null;
  let failures = 0;
  let everOpened = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pingTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pongTimer;

  /** @param {"connecting" | "live" | "reconnecting"} state @param {string} text */
  const show = (state, text) => {
    if (!options.status) return;
    options.status.dataset.state = state;
    const label = options.status.querySelector(".live-text");
    if (label && label.textContent !== text) label.textContent = text;
  };

  const stopPing = () => {
    clearTimeout(pingTimer);
    clearTimeout(pongTimer);
  };

  const ping = () => {
    pingTimer = setTimeout(() => {
      if (socket?.readyState !== WebSocket.OPEN) return;
      socket.send("ping");
      pongTimer = setTimeout(() => socket?.close(), PONG_WITHIN_MS);
      ping();
    }, PING_EVERY_MS);
  };

  const open = () => {
    const url = new URL("/live", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener("open", () => {
      const dropped = everOpened || failures > 0;
      everOpened = true;
      failures = 0;
      show("live", "Live");
      ping();
      if (dropped) options.onReconnect();
    });
    ws.addEventListener("message", (event) => {
      if (event.data === "pong") return clearTimeout(pongTimer);
      try {
        if (JSON.parse(String(event.data)).changed) options.onChange();
      } catch {
        // Not ours; ignore.
      }
    });
    ws.addEventListener("close", () => {
      if (socket !== ws) return;
      stopPing();
      failures += 1;
      show("reconnecting", "Reconnecting…");
      options.onDown(failures);
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures - 1, 6));
      setTimeout(open, delay * (0.75 + Math.random() * 0.5));
    });
  };

  show("connecting", "Connecting…");
  open();
}
