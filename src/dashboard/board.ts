/**
 * The goal board (SPEC §15, docs/app.md): the dashboard's task graph as ONE self-contained HTML
 * document, for MCP Apps hosts. A host renders it in a sandboxed frame whose policy lets it load
 * nothing from anywhere, so every script and style is inside, and the document's own policy says
 * the same (`BOARD_POLICY`). It is made of the dashboard's own files — graph.js draws, style.css
 * styles, the icon sprite, the legend and the status words tell states apart — and the board's:
 * board.js (the app), board-data.js (tool answers → graph data), mcp-view.js (the View side of
 * the MCP Apps protocol) and board.css.
 *
 * The browser files are ES modules (the dashboard loads them as such), and an inline script
 * cannot import: each module becomes a function scope in one inline script, taking its imports
 * from the modules before it (`inlineModules`). Only the import and export forms these files use
 * are understood; anything else fails the first read of the board, which a test makes.
 */
import boardData from "../dashboard/assets/board-data.js";
import boardCss from "../dashboard/assets/board.css";
import boardScript from "../dashboard/assets/board.js";
import mcpView from "../dashboard/assets/mcp-view.js";
import { assetText } from "./assets";
import { html, Html, iconSprite, jsonData, STATUS } from "./html";
import { legend, zoomTools } from "./pages/goal";

/** Nothing from anywhere: the board's scripts and styles are inline, and it talks only to its host. */
export const BOARD_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** The board's scripts, each after the modules it imports. */
const MODULES = (): [string, string][] => [
  ["./dagre.js", assetText("dagre.js")],
  ["./graph.js", assetText("graph.js")],
  ["./board-data.js", boardData],
  ["./mcp-view.js", mcpView],
  ["./board.js", boardScript],
];

const IMPORT = /^import\s+(?:(\w+)|\{([^}]*)\})\s+from\s+"(\.\/[\w-]+\.js)";[ \t]*$/gm;
const EXPORT_DEFAULT = /^export\s+default\s+(\w+);[ \t]*$/gm;
const EXPORT_DECLARATION = /^export\s+((?:async\s+)?function\*?\s+(\w+)|(?:const|let|class)\s+(\w+))/gm;
const LEFT_OVER = /^\s*(?:import|export)\b/m;

/**
 * ES modules as one classic script body: each module runs in a function of its own (so their
 * top-level names never meet) and hands its exports to the modules after it.
 */
export function inlineModules(modules: [name: string, source: string][]): string {
  const seen = new Set<string>();
  const parts = ["const __modules = new Map();"];
  for (const [name, source] of modules) {
    const exported: string[] = [];
    let body = source.replace(IMPORT, (_all, single: string | undefined, names: string | undefined, from: string) => {
      if (!seen.has(from)) throw new Error(`goal board: ${name} imports ${from}, which is not inlined before it`);
      const module = `__modules.get(${JSON.stringify(from)})`;
      return single ? `const ${single} = ${module}.default;` : `const {${names!.replace(/\s+as\s+/g, ": ")}} = ${module};`;
    });
    body = body.replace(EXPORT_DEFAULT, (_all, id: string) => {
      exported.push(`default: ${id}`);
      return "";
    });
    body = body.replace(EXPORT_DECLARATION, (_all, declaration: string, fn: string | undefined, other: string | undefined) => {
      exported.push((fn ?? other)!);
      return declaration;
    });
    if (LEFT_OVER.test(body)) throw new Error(`goal board: ${name} has an import or export it cannot inline`);
    parts.push(`__modules.set(${JSON.stringify(name)}, (() => {\n${body}\nreturn { ${exported.join(", ")} };\n})());`);
    seen.add(name);
  }
  return parts.join("\n");
}

/** Text that may sit inside <script> or <style>: it must not end the element early. */
function inside(element: "script" | "style", text: string): Html {
  if (new RegExp(`</${element}|<!--`, "i").test(text)) throw new Error(`goal board: the inlined ${element} holds </${element} or <!--`);
  return new Html(text);
}

function buildBoard(): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${BOARD_POLICY}">
<title>Goal board · Agent Runtime</title>
<style>
${inside("style", `${assetText("style.css")}\n${boardCss}`)}
</style>
</head>
<body class="board">
${iconSprite}
<main id="main">
<header class="board-head">
  <h1 id="goal-name">Goal</h1>
  <span id="goal-status"></span>
</header>
<div class="board-facts">
  <p><span class="progress"><progress id="goal-progress" max="1" value="0" aria-label="Progress of the goal">0 %</progress><span id="goal-percent">0 %</span></span></p>
  <p id="goal-counts" class="counts"></p>
</div>
<div class="board-actions">
  <p class="live" id="live-status" role="status" data-state="connecting"><span class="dot" aria-hidden="true"></span><span class="live-text">Connecting…</span></p>
  <button type="button" id="refresh">Refresh</button>
  <button type="button" id="fullscreen" aria-pressed="false" hidden>Full screen</button>
</div>
<h2 class="visually-hidden">Task graph</h2>
<details class="legend-box">
  <summary>What the shapes mean</summary>
  <p class="hint">Arrows point from a task to the tasks that depend on it. Press Tab to move through the tasks, Enter for details.</p>
  ${legend()}
</details>
${zoomTools()}
<div id="graph" class="graph"><p class="graph-wait">Waiting for the goal…</p></div>
<div id="task-detail" class="task-detail" aria-live="polite"><p class="hint">Select a task in the graph to see its details here.</p></div>
</main>
<script type="application/json" id="status-words">${jsonData(STATUS)}</script>
<script type="module">
${inside("script", inlineModules(MODULES()))}
</script>
</body>
</html>
`.text;
}

let board: string | undefined;

/** The board's document, built on first use and kept for the life of the isolate. */
export function goalBoardHtml(): string {
  return (board ??= buildBoard());
}
