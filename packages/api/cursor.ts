/**
 * Opaque, tamper-proof page cursors: base64url(JSON) + "." + HMAC-SHA256 over the JSON and the query it
 * belongs to, keyed by a key derived from the API token. A cursor edited, forged or replayed against other
 * filters fails verification and is answered with 400, so nothing a client sends reaches DynamoDB as a key
 * unless this service issued it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import * as z from "../core/zod";
import { invalidParam } from "./problem";

export interface CursorCodec {
  encode(position: unknown, scope: string): string;
  decode<S extends z.core.$ZodType>(cursor: string, scope: string, schema: S): z.output<S>;
}

export function cursorCodec(secret: string): CursorCodec {
  const key = createHmac("sha256", secret).update("imagesync cursor v1").digest();
  const sign = (json: string, scope: string) => createHmac("sha256", key).update(scope).update("\n").update(json).digest();
  return {
    encode(position, scope) {
      const json = JSON.stringify(position);
      return `${Buffer.from(json).toString("base64url")}.${sign(json, scope).toString("base64url")}`;
    },
    decode(cursor, scope, schema) {
      const [payload = "", signature = "", ...rest] = cursor.split(".");
      const json = Buffer.from(payload, "base64url").toString();
      const presented = Buffer.from(signature, "base64url");
      const expected = sign(json, scope);
      if (rest.length || presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        throw invalidParam("query", "cursor", "not a cursor issued for this query (tampered, truncated or from other filters)");
      }
      const position = z.safeParse(schema, JSON.parse(json));
      // Only reachable if this service changed its cursor format: the signature is ours.
      if (!position.success) throw invalidParam("query", "cursor", "cursor is from an incompatible version; start again without it");
      return position.data;
    },
  };
}
