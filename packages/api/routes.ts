/** Every route of `apiRoutes` with its spec; the type makes a route without a handler a compile error. */
import { imageHistoryRoute, listChangesRoute } from "./changes";
import { imageCountsRoute } from "./counts";
import { getImageRoute, listImagesRoute } from "./images";
import { getJobRoute, listJobsRoute, submitJobRoute } from "./jobs";
import { meRoute } from "./me";
import { openApiDocument } from "./openapi";
import { defineRoute, type ApiRoute, type RouteSpec } from "./route";
import { HealthSchema } from "./schemas";
import { listRunsRoute, listSourcesRoute } from "./sources";

let document: object | undefined;

export const routes: Record<ApiRoute, RouteSpec> = {
  "GET /healthz": defineRoute({
    tag: "meta",
    summary: "Liveness check (no token needed)",
    public: true,
    responses: { 200: { description: "The function is up.", schema: HealthSchema } },
    handle: async () => ({ status: 200, body: { status: "ok" } }),
  }),
  "GET /openapi.json": defineRoute({
    tag: "meta",
    summary: "This document",
    responses: { 200: { description: "The OpenAPI 3.1 document." } },
    handle: async () => {
      document ??= openApiDocument(routes);
      return { status: 200, body: document };
    },
  }),
  "GET /me": meRoute,
  "GET /images": listImagesRoute,
  "GET /images/counts": imageCountsRoute,
  "GET /changes": listChangesRoute,
  "GET /images/{provider}/{id+}": getImageRoute,
  "GET /images/{provider}/{id}/history": imageHistoryRoute,
  "GET /sources": listSourcesRoute,
  "GET /sources/{id}/runs": listRunsRoute,
  "POST /jobs": submitJobRoute,
  "GET /jobs": listJobsRoute,
  "GET /jobs/{id}": getJobRoute,
};
