/** How a route is declared: its inputs as zod schemas (validated by the router, documented by OpenAPI). */
import type * as z from "../core/zod";
import type { ConfigLoader, TokenScope } from "../core/config";
import type { apiRoutes } from "../core/resources";
import type { Caller } from "./auth";
import type { CursorCodec } from "./cursor";
import type { ApiResult } from "./http";

export type ApiRoute = (typeof apiRoutes)[number];

type Output<S> = S extends z.ZodMiniType ? z.output<S> : undefined;

export interface ApiContext {
  config: ConfigLoader;
  /** Signs and checks this caller's page cursors. */
  cursors: CursorCodec;
  /** Who called (absent on public routes). */
  caller?: Caller;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodMiniType;
  /** Response header name → description. */
  headers?: Record<string, string>;
}

export interface RouteSpec<Q = z.ZodMiniType | undefined, P = z.ZodMiniType | undefined, B = z.ZodMiniType | undefined> {
  summary: string;
  description?: string;
  tag: string;
  /** Served without the bearer token (only the health check). */
  public?: true;
  /** The token scope the route needs. Default `read`. */
  scope?: TokenScope;
  /**
   * Responses may be reused for a second (see router): inventory reads tolerate it since the GSIs
   * they come from are eventually consistent anyway. Job status is never cached.
   */
  cacheable?: true;
  query?: Q;
  path?: P;
  body?: B;
  responses: Record<number, ResponseSpec>;
  handle(input: { query: Output<Q>; path: Output<P>; body: Output<B>; headers: Record<string, string | undefined> }, context: ApiContext): Promise<ApiResult>;
}

export function defineRoute<Q extends z.ZodMiniType | undefined = undefined, P extends z.ZodMiniType | undefined = undefined, B extends z.ZodMiniType | undefined = undefined>(
  spec: RouteSpec<Q, P, B>,
): RouteSpec<Q, P, B> {
  return spec;
}
