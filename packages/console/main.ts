/**
 * The operator console (docs/console.md): sign-in, the section navigation, and one view per route. The page
 * holds no data of its own: everything comes from the API with the operator's token.
 */
import "./styles.css";
import { ApiError, onUnauthorized, request, session } from "./api";
import { alertBox, field, h, replace } from "./dom";
import { currentRoute, href } from "./router";
import type { Me } from "./types";
import type { View } from "./view";
import { changesView } from "./views/changes";
import { datacentersView } from "./views/datacenters";
import { imageView } from "./views/image";
import { inventoryView } from "./views/inventory";
import { jobFormView } from "./views/job-form";
import { jobView } from "./views/job";
import { jobsView } from "./views/jobs";
import { sourcesView } from "./views/sources";
import { problem } from "./widgets";

const main = document.getElementById("main") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
const who = document.getElementById("who") as HTMLElement;

const sections = [
  ["inventory", "Inventory"],
  ["sources", "Sources"],
  ["jobs", "Jobs"],
  ["datacenters", "Triton datacenters"],
  ["changes", "Changes"],
] as const;

let me: Me | undefined;
let current: AbortController | undefined;
let shownPath: string | undefined;

const notFound: View = async ({ main: target }) => {
  target.append(h("h1", { tabindex: -1 }, "Not found"), h("p", {}, "No such page. ", h("a", { href: href(["inventory"]) }, "Go to the inventory.")));
};

function viewFor(path: readonly string[]): View {
  switch (path[0] ?? "inventory") {
    case "inventory": return inventoryView;
    case "images": return imageView;
    case "sources": return sourcesView;
    case "jobs": return path[1] === "new" ? jobFormView : path[1] ? jobView : jobsView;
    case "datacenters": return datacentersView;
    case "changes": return changesView;
    default: return notFound;
  }
}

function showSignIn(message?: string): void {
  current?.abort();
  me = undefined;
  shownPath = undefined;
  nav.hidden = true;
  who.replaceChildren();
  document.title = "Sign in · imagesync";
  const token = h("input", { type: "password", name: "token", autocomplete: "off", spellcheck: "false" });
  const status = h("div");
  const submit = (event: Event) => {
    event.preventDefault();
    void signIn(token.value.trim(), status);
  };
  replace(
    main,
    h(
      "form",
      { class: "signin", novalidate: true, onsubmit: submit },
      h("h1", { tabindex: -1 }, "Sign in"),
      message && alertBox(message),
      h("p", {}, "Paste an API bearer token. It stays in this browser tab (session storage) and goes to the API only in the Authorization header."),
      field("API token", token),
      h("button", { type: "submit" }, "Sign in"),
      status,
    ),
  );
  token.focus();
}

async function signIn(token: string, status: HTMLElement): Promise<void> {
  if (!token) return replace(status, alertBox("Paste a token first."));
  try {
    me = await request<Me>("GET", "/me", { token });
  } catch (error) {
    return replace(status, error instanceof ApiError && error.status === 401 ? alertBox("The API does not accept this token.") : problem(error));
  }
  session.keep(token);
  showShell();
}

function signOut(): void {
  session.forget();
  showSignIn();
}

function showShell(): void {
  const signedIn = me as Me;
  nav.hidden = false;
  replace(nav, h("ul", {}, sections.map(([path, text]) => h("li", {}, h("a", { href: href([path]), "data-section": path }, text)))));
  replace(who, h("span", {}, `Signed in as ${signedIn.name} (${signedIn.scopes.join(", ")})`), h("button", { type: "button", onclick: signOut }, "Sign out"));
  void render();
}

/** Renders the route's view, ending the previous one; focus goes to the heading when the page changed. */
async function render(): Promise<void> {
  if (!me) return;
  current?.abort();
  const controller = (current = new AbortController());
  const route = currentRoute();
  const section = route.path[0] ?? "inventory";
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset.section === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  main.replaceChildren();
  main.setAttribute("aria-busy", "true");
  try {
    await viewFor(route.path)({ main, route, me, signal: controller.signal });
  } catch (error) {
    if (!controller.signal.aborted) main.append(problem(error));
  } finally {
    if (current === controller) main.removeAttribute("aria-busy");
  }
  const path = route.path.join("/");
  if (path !== shownPath) main.querySelector<HTMLElement>("h1")?.focus();
  shownPath = path;
}

async function boot(): Promise<void> {
  onUnauthorized(() => {
    session.forget();
    showSignIn("The API no longer accepts this token: sign in again.");
  });
  window.addEventListener("hashchange", () => void render());
  if (!session.token()) return showSignIn();
  try {
    me = await request<Me>("GET", "/me");
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) replace(main, problem(error));
    return;
  }
  showShell();
}

void boot();
