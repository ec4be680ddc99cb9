// Renders Mermaid diagrams with Mermaid's own code, under node, with jsdom for the browser.
// Reads one JSON string (a diagram's text) a line on stdin; writes one JSON object a line:
//   {"ok": true, "nodes": {"n1": "shown text", ...}, "edges": ["shown label", ...], "logged": [...]}
//   {"ok": false, "error": "Parse error on line 2: ..."}
// Layout is not checked (jsdom measures no text): only that the diagram parses and renders, and
// what each box and edge label shows.
import { createInterface } from "node:readline";
import { JSDOM } from "jsdom";

const { window } = new JSDOM("<!DOCTYPE html><body></body>", { pretendToBeVisual: true });
globalThis.window = window;
for (const name of Object.getOwnPropertyNames(window)) {
  // localStorage throws on an about:blank page; Mermaid does not need it.
  if (!(name in globalThis) && !["localStorage", "sessionStorage"].includes(name)) {
    globalThis[name] = window[name];
  }
}
// jsdom has no layout: give every text a size so the layout code runs.
window.SVGElement.prototype.getBBox = function () {
  return { x: 0, y: 0, width: 8 * (this.textContent || "").length, height: 16 };
};
window.SVGElement.prototype.getComputedTextLength = function () {
  return 8 * (this.textContent || "").length;
};

// Where jsdom's made-up sizes leave an edge's end off its box's outline, Mermaid keeps the box
// itself among the edge's points and base64-encodes them with btoa, which throws on a label with
// a character past U+00FF (its own entity codes are, for one). Browsers measure real text, so
// the end is on the outline: encode like they never need to, as UTF-8.
const latin1 = globalThis.btoa;
globalThis.btoa = (text) => latin1(String.fromCharCode(...new TextEncoder().encode(text)));

const logged = [];
for (const level of ["log", "info", "warn", "error", "debug"]) {
  console[level] = (...args) => logged.push(args.map(String).join(" "));
}
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let count = 0;
for await (const line of createInterface({ input: process.stdin })) {
  logged.length = 0;
  let answer;
  try {
    const { svg } = await mermaid.render(`diagram${count++}`, JSON.parse(line));
    const doc = new JSDOM(svg).window.document;
    const nodes = {};
    for (const g of doc.querySelectorAll("g.node")) {
      const id = g.getAttribute("id").match(/flowchart-(.*)-\d+$/)[1];
      nodes[id] = g.querySelector(".nodeLabel, text")?.textContent ?? "";
    }
    const edges = [...doc.querySelectorAll("g.edgeLabel")]
      .map((g) => g.textContent)
      .filter((text) => text !== "");
    answer = { ok: true, nodes, edges, logged: [...logged] };
  } catch (error) {
    answer = { ok: false, error: String(error?.message ?? error), logged: [...logged] };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
