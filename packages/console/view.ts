/** What every view gets: where to render, the route, who is signed in, and a signal that ends with the view. */
import { h } from "./dom";
import type { Route } from "./router";
import type { Me } from "./types";

export interface ViewContext {
  main: HTMLElement;
  route: Route;
  me: Me;
  /** Aborted when the operator leaves the view: stop polling, drop late answers. */
  signal: AbortSignal;
}

export type View = (context: ViewContext) => Promise<void>;

/** The view's heading (focused when the page changes), and the same words as the document title. */
export function heading(title: string): HTMLElement {
  document.title = `${title} · imagesync`;
  return h("h1", { tabindex: -1 }, title);
}

export const canSubmitJobs = (me: Me) => me.scopes.includes("jobs");

/** Waits `ms`, or until the view ends (then rejects, ending whatever loop awaited it). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
