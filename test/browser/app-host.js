/**
 * A small MCP Apps host for the goal board's browser test (app.test.ts), built on the host side of
 * ext-apps (`AppBridge`) and bundled for the page by esbuild. Like a chat client it shows a `ui://`
 * resource's HTML in a sandboxed frame (an opaque origin, under the extension's default content
 * policy for a resource that declares no domains), hands the app the tool's input and result once
 * it has initialized, relays the app's tool calls to the Node side of the test (`hostCallTool`,
 * which calls the real server with the host's own MCP client), fits the frame to the size the app
 * reports, and answers display-mode requests.
 *
 * Plain JavaScript: the test project's TypeScript knows no DOM.
 */
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

/** MCP Apps 2026-01-26: the policy a host applies to a resource that declares no `csp`. */
const DEFAULT_POLICY =
  "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; connect-src 'none'";

/** Every app shown on this page, in order: a test changes a host context by index. */
const bridges = [];

/**
 * Shows an app under a "tool call" in the chat column and resolves once it has its input and
 * result. `hostContext`: theme, styles, display modes, as a host sends them; `relaysTools: false`
 * makes a host that does not relay an app's tool calls.
 */
window.showApp = async ({ html, toolName, toolInput, toolResult, hostContext, relaysTools = true }) => {
  const turn = document.createElement("section");
  turn.className = "turn";
  const call = document.createElement("p");
  call.className = "call";
  call.textContent = `${toolName} ${JSON.stringify(toolInput)}`;
  const iframe = document.createElement("iframe");
  iframe.setAttribute("sandbox", "allow-scripts");
  iframe.title = "Goal board";
  turn.append(call, iframe);
  document.getElementById("chat").append(turn);

  let context = { ...hostContext };
  const capabilities = relaysTools ? { serverTools: {}, logging: {} } : { logging: {} };
  const bridge = new AppBridge(null, { name: "agent-runtime-test-host", version: "1.0.0" }, capabilities, { hostContext: context });
  if (relaysTools) bridge.oncalltool = (params) => window.hostCallTool(params);
  bridge.onsizechange = ({ height }) => {
    if (height && context.displayMode !== "fullscreen") iframe.style.height = `${height}px`;
  };
  bridge.onrequestdisplaymode = async ({ mode }) => {
    if (!(context.availableDisplayModes ?? []).includes(mode)) return { mode: context.displayMode ?? "inline" };
    context = { ...context, displayMode: mode };
    turn.classList.toggle("fullscreen", mode === "fullscreen");
    return { mode };
  };
  const initialized = new Promise((resolve) => (bridge.oninitialized = resolve));
  // Listening before the app's document exists: its first message is ui/initialize.
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  iframe.srcdoc = html.replace(/<head>/i, `<head><meta http-equiv="Content-Security-Policy" content="${DEFAULT_POLICY}">`);
  await initialized;
  await bridge.sendToolInput({ arguments: toolInput });
  await bridge.sendToolResult(toolResult);
  bridges.push({ bridge, setContext: (next) => (context = { ...context, ...next }) });
  return bridges.length - 1;
};

/** A change of the host's context (e.g. the user switched to dark), as a host announces it. */
window.changeHostContext = async (index, change) => {
  const { bridge, setContext } = bridges[index];
  setContext(change);
  await bridge.sendHostContextChange(change);
};
