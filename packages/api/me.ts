/** GET /me: who the bearer token is and what it may do, so a client (the console) shows only what it can use. */
import { defineRoute } from "./route";
import { MeSchema } from "./schemas";

export const meRoute = defineRoute({
  tag: "meta",
  summary: "The calling token's name and scopes",
  responses: { 200: { description: "The token, by name (never the token itself).", schema: MeSchema } },
  async handle(_input, { caller }) {
    return { status: 200, body: { name: caller?.name, scopes: caller?.scopes } };
  },
});
