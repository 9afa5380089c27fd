/** A JSON document as nested disclosure widgets: objects and arrays collapse, the top levels start open. */
import { h, type Child } from "../dom";

const openDepth = 1;

function scalar(value: unknown): HTMLElement {
  const kind = value === null ? "null" : typeof value;
  return h("span", { class: `json-${kind}` }, JSON.stringify(value));
}

function node(key: Child, value: unknown, depth: number): HTMLElement {
  if (value === null || typeof value !== "object") return h("li", {}, key, scalar(value));
  const entries = Array.isArray(value) ? value.map((item, index) => [index, item] as const) : Object.entries(value);
  const size = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  return h(
    "li",
    {},
    h(
      "details",
      { open: depth < openDepth },
      h("summary", {}, key, h("span", { class: "json-size" }, size)),
      h("ul", {}, entries.map(([name, child]) => node(h("span", { class: "json-key" }, `${name}: `), child, depth + 1))),
    ),
  );
}

/** The tree, with buttons to open or close every level at once. */
export function jsonTree(label: string, value: unknown): HTMLElement {
  const tree = h("ul", { class: "json" }, node(h("span", { class: "json-key" }, label), value, 0));
  const toggleAll = (open: boolean) => () => tree.querySelectorAll("details").forEach((details) => (details.open = open));
  return h(
    "div",
    {},
    h("div", { class: "actions" }, h("button", { type: "button", onclick: toggleAll(true) }, "Expand all"), h("button", { type: "button", onclick: toggleAll(false) }, "Collapse all")),
    tree,
  );
}
