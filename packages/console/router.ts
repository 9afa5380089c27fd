/** Hash routes (`#/jobs/abc?state=failed`): the page never reloads, and filters stay in the address for bookmarks. */
import type { Query } from "./api";
import { withQuery } from "./api";

export interface Route {
  /** Decoded path segments: `#/images/coxedge/a/b/c` is ["images", "coxedge", "a", "b", "c"]. */
  path: string[];
  params: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path = "", query = ""] = hash.split("?", 2);
  return { path: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query) };
}

/** A link to a route: each segment encoded on its own, so ids keep their slashes as separators. */
export function href(segments: readonly string[], query?: Query): string {
  return `#/${withQuery(segments.map(encodeURIComponent).join("/"), query)}`;
}

export function navigate(segments: readonly string[], query?: Query): void {
  location.hash = href(segments, query);
}
