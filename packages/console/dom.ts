/**
 * DOM nodes from data. Text always goes in as text nodes, never parsed as markup, so nothing an API or
 * an upstream document holds can become HTML (the page also forbids inline script and HTML sinks).
 */
export type Child = Node | string | number | null | undefined | false | readonly Child[];
type Prop = string | number | boolean | null | undefined | ((event: Event) => void);
export type Props = Record<string, Prop>;

/** Appends children; arrays flatten, absent ones (null, undefined, false) are skipped. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, ...(child as Child[]));
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An element: `on…` props are listeners, `true` is a present boolean attribute, absent values are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  append(element, ...children);
  return element;
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

let ids = 0;
/** A document-unique id, to tie labels, descriptions and errors to their controls. */
export const uniqueId = (prefix: string) => `${prefix}-${++ids}`;

/** A labelled `<select>`; `options` are [value, text] pairs. */
export function select(name: string, options: readonly (readonly [string, string])[], value: string | null, props: Props = {}): HTMLSelectElement {
  return h("select", { name, ...props }, options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === (value ?? "") }, text)));
}

/** A label above its control, with an optional hint read out with the control. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  control.id ||= uniqueId("field");
  const hintId = hint ? `${control.id}-hint` : undefined;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hint && h("small", { id: hintId }, hint));
}

/** A table that scrolls sideways on a narrow screen; the scroll area is focusable so the keyboard can scroll it. */
export function table(caption: string, headers: readonly string[], rows: readonly (readonly Child[])[]): HTMLElement {
  return h(
    "div",
    { class: "scroll", role: "region", "aria-label": caption, tabindex: 0 },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
    ),
  );
}

/** A status message screen readers announce when it changes. */
export const liveStatus = (text = "") => h("p", { class: "status", role: "status" }, text);

/** An error message screen readers announce at once. */
export const alertBox = (...children: Child[]) => h("div", { class: "alert", role: "alert" }, children);
