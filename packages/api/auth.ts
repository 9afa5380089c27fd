/** Bearer-token check in constant time: both sides are hashed first so their lengths never leak either. */
import { createHash, timingSafeEqual } from "node:crypto";
import { ApiProblem } from "./problem";

const digest = (value: string) => createHash("sha256").update(value).digest();

export function bearerAuthenticator(token: string): (authorization: string | undefined) => void {
  const expected = digest(token);
  return (authorization) => {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
    if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      throw new ApiProblem(401, authorization ? "The bearer token is not valid" : "An Authorization: Bearer token is required", undefined, {
        "www-authenticate": 'Bearer realm="imagesync"',
      });
    }
  };
}
