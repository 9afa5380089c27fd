/**
 * The OpenAPI 3.1 document, generated from the route table: paths from `apiRoutes`, parameters, bodies and
 * responses from the same zod schemas the router validates with (zod's JSON Schema output is draft 2020-12,
 * OpenAPI 3.1's dialect).
 */
import * as z from "../core/zod";
import { apiRoutes } from "../core/resources";
import type { ParamLocation } from "./problem";
import type { ApiRoute, RouteSpec } from "./route";
import { ProblemSchema } from "./schemas";

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodMiniType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  return rest;
}

function parameters(location: ParamLocation, schema: z.ZodMiniType | undefined): object[] {
  if (!(schema instanceof z.ZodMiniObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodMiniType>).map(([name, field]) => {
    const { description, ...fieldSchema } = jsonSchema(field, "input");
    return {
      name,
      in: location,
      // Optional and defaulted parameters both accept absence.
      required: location === "path" || !field.safeParse(undefined).success,
      ...(description === undefined ? {} : { description }),
      schema: fieldSchema,
    };
  });
}

const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/ProblemSchema" } } },
});

function operation(routeKey: ApiRoute, spec: RouteSpec): object {
  const responses: Record<string, object> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    const ok = Number(status) < 400;
    responses[status] = {
      description: response.description,
      ...(response.headers && {
        headers: Object.fromEntries(Object.entries(response.headers).map(([name, description]) => [name, { description, schema: { type: "string" } }])),
      }),
      ...(ok && response.schema
        ? { content: { "application/json": { schema: jsonSchema(response.schema, "output") } } }
        : ok ? {} : problemResponse(response.description)),
    };
  }
  if (routeKey.startsWith("GET ") && spec.responses[200]) responses[304] = { description: "Not modified: the If-None-Match ETag is current." };
  if (spec.query || spec.path || spec.body) responses[400] = problemResponse("Invalid parameters or body; `invalidParams` names each offending field.");
  if (!spec.public) {
    responses[401] = problemResponse("Missing or wrong bearer token.");
    responses[403] = problemResponse(`The token lacks the "${spec.scope ?? "read"}" scope.`);
  }
  responses[500] = problemResponse("Internal error.");
  return {
    operationId: routeKey.toLowerCase().replace(/[^a-z]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase()),
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description && { description: spec.description }),
    ...(spec.public && { security: [] }),
    parameters: [
      ...parameters("path", spec.path),
      ...parameters("query", spec.query),
      ...(routeKey.startsWith("GET ") ? [{ name: "if-none-match", in: "header", required: false, description: "An ETag from an earlier response.", schema: { type: "string" } }] : []),
    ],
    ...(spec.body && { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(spec.body, "input") } } } }),
    responses,
  };
}

export function openApiDocument(routes: Record<ApiRoute, RouteSpec>): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const routeKey of apiRoutes) {
    const [method, template] = routeKey.split(" ") as [string, string];
    // OpenAPI has no greedy parameters; the parameter's description says that it may contain slashes.
    const path = template.replace(/\{(\w+)\+\}/g, "{$1}");
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = operation(routeKey, routes[routeKey]);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "imagesync inventory API",
      version: "1.0.0",
      description:
        "Mirrored Triton CloudAPI and Cox Edge image catalogs, their sync runs, and image jobs. Every route but " +
        "/healthz needs `Authorization: Bearer <token>`. Errors are RFC 9457 problem details.",
    },
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } },
      schemas: { ProblemSchema: jsonSchema(ProblemSchema, "output") },
    },
  };
}
