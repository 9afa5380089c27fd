/**
 * RFC 9457 problem details. Every error the API answers is one of these, as `application/problem+json`;
 * validation problems list each offending parameter in `invalidParams` (name, where it was, why).
 */
import { fieldIssues, type ValidationError } from "../core/issues";

export type ParamLocation = "query" | "path" | "body" | "header";

export interface InvalidParam {
  name: string;
  in: ParamLocation;
  reason: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  invalidParams?: InvalidParam[];
}

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  500: "Internal Server Error",
};

export class ApiProblem extends Error {
  override readonly name = "ApiProblem";

  constructor(
    readonly status: number,
    readonly detail: string,
    readonly invalidParams?: InvalidParam[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  body(): ProblemBody {
    return {
      type: "about:blank",
      title: titles[this.status] ?? "Error",
      status: this.status,
      detail: this.detail,
      ...(this.invalidParams ? { invalidParams: this.invalidParams } : {}),
    };
  }
}

export function invalidParam(location: ParamLocation, name: string, reason: string): ApiProblem {
  return new ApiProblem(400, `Invalid ${location} parameter ${name}: ${reason}`, [{ name, in: location, reason }]);
}

/** One entry per offending field; a field path inside a body reads like `params.imageId`. */
export function fromZodError(location: ParamLocation, error: ValidationError): ApiProblem {
  const params: InvalidParam[] = fieldIssues(error, { unknownKeys: "each" }).map(({ path, message }) => ({
    name: path || "(root)",
    in: location,
    reason: message,
  }));
  const detail = params.map((p) => `${p.name}: ${p.reason}`).join("; ");
  return new ApiProblem(400, `Invalid ${location === "body" ? "request body" : `${location} parameters`}: ${detail}`, params);
}
