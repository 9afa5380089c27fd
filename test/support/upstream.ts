import { expect } from "vitest";
import { UpstreamError } from "../../packages/providers/http";

/** Awaits a call expected to fail with a typed upstream error and returns that error. */
export async function upstreamFailure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}
